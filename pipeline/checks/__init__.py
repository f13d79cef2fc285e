"""Checks that read the built files (never the model's memory of what it wrote).

Each format has one module here with the same surface:

    FORMAT: str                                   # the format it reads
    def check(doc: Document, out_dir: Path) -> FormatReport

A FormatReport says, per section, whether the section is present in that format, and lists the
format's own rules (fonts, EPUBCheck, loudness, ...) with pass/fail and the figures measured.
This module runs them, prints the sections x formats table and writes `report.json`.
"""

from __future__ import annotations

import importlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..engine.cache import write_atomic
from ..errors import CheckFailed
from .. import formats as registry
from ..model import Document
from .presence import Presence


@dataclass(frozen=True)
class Rule:
    """One format rule and whether the built file keeps it."""

    name: str
    ok: bool
    detail: str
    advisory: bool = False  # a writing guideline (Easy Read's 15 words): a broken one is told as a warning, not a failure


@dataclass
class FormatReport:
    """What one format's check found in its built file."""

    format: str
    sections: dict[str, Presence] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    unavailable: str = ""  # why this machine makes no such format for the handout (no braille table for ht)

    @property
    def ok(self) -> bool:
        """Every section present and every rule kept (a format that cannot be made has none to keep)."""
        return all(p.present for p in self.sections.values()) and all(r.ok or r.advisory for r in self.rules)

    def rule(self, name: str, ok: bool, detail: str, advisory: bool = False) -> bool:
        """Record a rule's outcome; returns ok so callers can chain."""
        self.rules.append(Rule(name, bool(ok), detail, advisory))
        return bool(ok)

    @contextmanager
    def guard(self, name: str) -> Iterator[None]:
        """Run one rule; if the rule itself breaks (a file it cannot parse, a tool that crashes),
        record that as the rule's failure with its message instead of ending the check."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001  (a broken rule is reported, never a traceback)
            self.rule(name, False, f"could not be checked: {type(exc).__name__}: {exc}")

    def missing(self, doc: Document, why: str) -> "FormatReport":
        """Mark every section absent (the file itself is missing or unreadable)."""
        for section in doc.sections:
            self.sections[section.id] = Presence(False, why)
        return self


def check_format(name: str, doc: Document, out_dir: Path) -> FormatReport:
    """Run the named format's check module on the built folder, noting how long it took."""
    started = time.perf_counter()
    try:
        report = importlib.import_module(f"{__name__}.{name}").check(doc, out_dir)
    except Exception as exc:  # noqa: BLE001  (the check of one format broke: say so, check the others)
        report = FormatReport(name).missing(doc, f"the {name} check could not run: {type(exc).__name__}: {exc}")
        report.rule("check ran", False, f"{type(exc).__name__}: {exc}")
    report.figures.setdefault("check_seconds", round(time.perf_counter() - started, 1))
    return report


def run(doc: Document, out_dir: Path, formats: tuple[str, ...] | None = None) -> list[FormatReport]:
    """Check every requested format and write `report.json` into the built folder.

    The formats are checked side by side: most of the time is spent waiting on other programs
    (EPUBCheck's JVM, the speech recogniser's processes, ffmpeg), whose waits overlap.
    """
    names = [name for name in registry.names() if formats is None or name in formats]
    for name in names:  # imported here, once, not by several threads at a time
        importlib.import_module(f"{__name__}.{name}")
    with ThreadPoolExecutor(max_workers=max(len(names), 1)) as pool:
        futures = [pool.submit(check_format, name, doc, out_dir) for name in names]
        reports = [future.result() for future in futures]
    write_atomic(out_dir / "report.json", json.dumps(as_json(doc, reports), indent=2).encode("utf-8"))
    return reports


def as_json(doc: Document, reports: list[FormatReport]) -> dict[str, Any]:
    """The report as plain JSON values."""
    return {
        "document": doc.name,
        "title": doc.meta.title,
        "ok": all(r.ok for r in reports),
        "sections": [s.id for s in doc.sections],
        "formats": {
            r.format: {
                "ok": r.ok,
                "sections": {sid: asdict(p) for sid, p in r.sections.items()},
                "rules": [asdict(rule) for rule in r.rules],
                "figures": r.figures,
                **({"unavailable": r.unavailable} if r.unavailable else {}),
            }
            for r in reports
        },
    }


def table(doc: Document, reports: list[FormatReport]) -> str:
    """The sections x formats table a person reads, then every failed rule."""
    width = max(len(s.id) for s in doc.sections) + 2
    columns = [max(len(r.format) + 2, 8) for r in reports]
    lines = ["section".ljust(width) + "".join(r.format.ljust(c) for r, c in zip(reports, columns))]
    for section in doc.sections:
        cells = "".join(
            ("n/a" if r.unavailable else "yes" if r.sections.get(section.id, Presence(False, "")).present else "MISSING").ljust(c)
            for r, c in zip(reports, columns)
        )
        lines.append(section.id.ljust(width) + cells)
    for report in reports:
        if report.unavailable:
            lines.append(f"n/a  {report.format}: {report.unavailable}")
        for rule in report.rules:
            mark = "ok  " if rule.ok else "WARN" if rule.advisory else "FAIL"
            lines.append(f"{mark} {report.format}: {rule.name}: {rule.detail}")
    return "\n".join(lines)


def failures(doc: Document, reports: list[FormatReport]) -> list[str]:
    """One line per missing section or broken rule, naming section and format."""
    found: list[str] = []
    for report in [r for r in reports if not r.unavailable]:
        for section in doc.sections:
            presence = report.sections.get(section.id)
            if presence is None or not presence.present:
                why = presence.detail if presence else "not checked"
                found.append(f"section '{section.id}' missing from {report.format}: {why}")
        found.extend(f"{report.format}: {r.name}: {r.detail}" for r in report.rules if not (r.ok or r.advisory))
    return found


def enforce(doc: Document, reports: list[FormatReport]) -> None:
    """Raise CheckFailed naming what is missing, if anything is."""
    problems = failures(doc, reports)
    if problems:
        raise CheckFailed(f"{len(problems)} problem(s) in {doc.name}: " + "; ".join(problems))
