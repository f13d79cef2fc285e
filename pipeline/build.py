"""The one build loop every format shares: staging, the up-to-date test, parallelism and the atomic swap.

A format is a leaf module in `pipeline.formats` that only knows how to write its files for one
document. This module decides whether it needs to run, runs independent formats side by side,
and publishes `DIR/NAME/` only when every requested format succeeded, so a failed or interrupted
build leaves the previous good output untouched.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from . import __version__, formats
from .cache import Cache, fingerprint, write_atomic
from .config import PROJECT_ROOT, setting
from .errors import PipelineError
from .lanes import Lanes, lanes
from .model import Document
from .source import parse

STATE_FILE = ".build.json"
_PRINT_LOCK = threading.Lock()


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build may be asked for; defaults come from `[tool.pipeline]`."""

    out_root: Path = field(default_factory=lambda: Path(setting("output")))
    formats: tuple[str, ...] = field(default_factory=lambda: tuple(setting("formats")))
    paper: str = field(default_factory=lambda: setting("paper"))
    engine: str = field(default_factory=lambda: setting("engine"))
    rate_wpm: int = field(default_factory=lambda: int(setting("rate_wpm")))
    jobs: int | None = None  # utterances at once; None: every core, or make's share under `make -jN`
    cache_dir: Path = field(default_factory=lambda: Path(setting("cache")))
    source_date_epoch: int | None = field(
        default_factory=lambda: int(os.environ["SOURCE_DATE_EPOCH"]) if os.environ.get("SOURCE_DATE_EPOCH") else None
    )
    quiet: bool = False

    @property
    def lanes(self) -> Lanes:
        """How many utterances this build speaks at once (and what it may borrow from make)."""
        return lanes(self.jobs)

    @property
    def cache(self) -> Cache:
        """The shared content-addressed cache."""
        return Cache(self.cache_dir)

    def wants(self, name: str) -> bool:
        """Whether this build includes the named format (e.g. EPUB overlays need audio)."""
        return name in self.formats

    def progress(self, document: str, message: str) -> None:
        """One progress line on stderr, safe from several threads."""
        if not self.quiet:
            with _PRINT_LOCK:
                print(f"[{document}] {message}", file=sys.stderr, flush=True)


@functools.cache
def code_digest() -> str:
    """Hash of the pipeline's code and styles: a change to either makes every output outdated."""
    digest = hashlib.sha256(__version__.encode())
    for folder in (PROJECT_ROOT / "pipeline", PROJECT_ROOT / "styles"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def format_key(doc: Document, name: str, options: BuildOptions, state: dict[str, str]) -> str:
    """What decides a format's output: source, code, the options it reads, and the formats it reads."""
    module = formats.get(name)
    chosen = {opt: getattr(options, opt) for opt in getattr(module, "OPTIONS", ())}
    needs = {n: state.get(n) for n in module.NEEDS if options.wants(n)}
    return fingerprint(doc.source_sha256, code_digest(), name, chosen, needs, options.source_date_epoch)


def release_epoch(doc: Document, options: BuildOptions) -> int:
    """The time stamped into every output: SOURCE_DATE_EPOCH, else the source's `date`, else its mtime.

    Never the wall clock, so the same source always gives the same bytes.
    """
    if options.source_date_epoch is not None:
        return options.source_date_epoch
    try:
        day = datetime.date.fromisoformat(doc.meta.date[:10])
        return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp())
    except ValueError:
        return int(doc.source.stat().st_mtime)


def build(source: Path, options: BuildOptions) -> Path:
    """Parse one source and build the requested formats into `out_root/NAME/`; returns that folder."""
    doc = parse(source)
    options = replace(options, source_date_epoch=release_epoch(doc, options))
    for warning in doc.warnings:
        options.progress(doc.name, f"warning: {warning}")
    final = options.out_root / doc.name
    staging = options.out_root / f".{doc.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        if final.exists():
            shutil.copytree(final, staging, symlinks=False)
        staging.mkdir(parents=True, exist_ok=True)
        state = _read_state(staging)
        _run_formats(doc, staging, options, state)
        write_atomic(staging / STATE_FILE, json.dumps(state, indent=2, sort_keys=True).encode())
        _publish(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _run_formats(doc: Document, staging: Path, options: BuildOptions, state: dict[str, str]) -> None:
    """Build the requested formats side by side, each as soon as the formats it reads are built.

    Each format is imported in its own thread, so a slow import (WeasyPrint's) holds up no other
    format, and the narration starts speaking at once. A format whose input failed is not built;
    the first error is raised once every thread has ended.
    """
    names = [name for name in formats.ORDER if name in options.formats]
    built = {name: threading.Event() for name in names}
    errors: list[BaseException] = []

    def one(name: str) -> None:
        try:
            module = formats.get(name)
            for need in module.NEEDS:
                if need in built:
                    built[need].wait()
            if errors:
                return
            key = format_key(doc, name, options, state)
            if state.get(name) == key:
                options.progress(doc.name, f"{name}: up to date")
                return
            state.pop(name, None)
            _build_one(doc, name, staging, options)
            state[name] = key
        except BaseException as exc:  # noqa: BLE001  (re-raised below after every thread ends)
            errors.append(exc)
        finally:
            built[name].set()

    with ThreadPoolExecutor(max_workers=max(1, len(names)), thread_name_prefix="format") as pool:
        list(pool.map(one, names))
    if errors:
        raise errors[0]


def _build_one(doc: Document, name: str, staging: Path, options: BuildOptions) -> Path:
    """Run one format's build and report how long it took."""
    started = time.perf_counter()
    options.progress(doc.name, f"{name}: building")
    path = formats.get(name).build(doc, staging, options)
    took = time.perf_counter() - started
    options.progress(doc.name, f"{name}: wrote {path.relative_to(staging)} ({took:.1f} s)")
    return path


def _read_state(folder: Path) -> dict[str, str]:
    """The per-format keys recorded by the last good build of this document."""
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        return {k: v for k, v in state.items() if isinstance(v, str)}
    except (OSError, ValueError):
        return {}


def _publish(staging: Path, final: Path) -> None:
    """Swap the finished staging folder into place; the old output lives until the new one is there."""
    retired = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.replace(final, retired)
    try:
        os.replace(staging, final)
    except OSError as exc:
        if retired.exists():
            os.replace(retired, final)
        raise PipelineError(f"could not publish {final}: {exc.strerror}") from None
    shutil.rmtree(retired, ignore_errors=True)


def options_summary(options: BuildOptions) -> dict[str, object]:
    """The options as plain values (for logs and the benchmark)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
