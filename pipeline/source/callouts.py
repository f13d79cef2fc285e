"""Callouts: the boxes a handout draws around what a patient must not miss.

A source marks one as a fenced div, `::: warning` or `::: tip` (Quarto's `callout-warning` and
`callout-tip` are read the same), or writes a block quote whose first words are bold and begin with
"Stop" (`> **Stop and call us** if ...`), which is a warning. Each becomes one Div of the model with
the classes `callout` and its kind, which `reading` gives a visible label ("Warning", "Tip") that
the narration says first ("Warning. Stop and call us ...") and braille writes first ("Warning: ...").

Any other class on a fenced div is an error at its line: an author who wrote `::: warnign` or
`::: note` expects a box, and a warning shown as plain text would be the quiet failure a patient
pays for. A `<div class="...">` pasted as HTML is a callout only when its class is one of the kinds;
otherwise its classes are dropped (they could take a style of the page's own) and it is shown as
plain text, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..language.words import N_
from .tree import Block, stringify

CALLOUT = "callout"
KINDS = {"warning": "warning", "callout-warning": "warning", "tip": "tip", "callout-tip": "tip"}
LABELS = {"warning": N_("Warning"), "tip": N_("Tip")}
RENDITION = {"plain", "unwritten"}  # the classes of a section's plain-rendition div (`reader` reads them)
EASY_READ = "easyread"  # the class of a section's Easy Read div (`reader` reads it)
STOP = re.compile(r"stop\b", re.I)


def recognise(path: Path, blocks: list[Block], lines: list[str], warnings: list[str]) -> list[Block]:
    """The body's blocks with every callout made the model's Div (`callout` and its kind) and every
    other classed div either refused at its fence's line or, when it came as HTML, made plain."""
    walk = _Walk(path, _fences(lines), warnings)
    return [walk.block(block, top=True) for block in blocks]


def kind_of(block: Block) -> str:
    """The callout kind of a block recognised here ("warning", "tip"), or ""."""
    if block.get("t") != "Div" or CALLOUT not in block["c"][0][1]:
        return ""
    return next((kind for kind in block["c"][0][1] if kind in LABELS), "")


FENCE_OPENER = re.compile(r"^(?:\s*>)*\s*:{3,}\s*(\{[^}]*\}|[^\s:{}]+)")
CODE_FENCE = re.compile(r"^(?:\s*>)*\s*(`{3,}|~{3,})")


def _fences(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(line number, classes) of every fenced div's opening line, outside code blocks."""
    found: list[tuple[int, list[str]]] = []
    code: str | None = None
    for number, line in enumerate(lines, start=1):
        marker = CODE_FENCE.match(line)
        if marker:
            code = None if code and marker.group(1).startswith(code) else (code or marker.group(1)[:3])
            continue
        opener = FENCE_OPENER.match(line) if code is None else None
        if opener:
            attributes = opener.group(1)
            classes = re.findall(r"(?<![\w-])\.([\w-]+)", attributes) if attributes.startswith("{") else [attributes]
            found.append((number, classes))
    return found


@dataclass
class _Walk:
    """One pass over the body: the fenced divs' lines, so a div's problem is told at its own line
    (the k-th div with a class is the k-th fence that opens with it), and the warnings."""

    path: Path
    fences: list[tuple[int, list[str]]]
    warnings: list[str]
    seen: dict[str, int] = field(default_factory=dict)

    def block(self, block: Block, top: bool = False) -> Block:
        """One block (and the blocks inside it) with its callouts recognised."""
        kind = block.get("t")
        if kind == "BlockQuote" and _stop_quote(block["c"]):
            return _callout("warning", ["", [], []], self.inner(block["c"]))
        if kind != "Div":
            return self.walk(block)
        attr, inner = block["c"]
        ident, classes, pairs = attr
        line = self.line(classes)
        if top and "plain" in classes:
            self.known(classes, RENDITION, line, "a section's ::: plain div")
            return {"t": "Div", "c": [attr, self.inner(inner)]}
        if top and EASY_READ in classes:
            self.known(classes, {EASY_READ}, line, "a section's ::: easyread div")
            return {"t": "Div", "c": [attr, self.inner(inner)]}
        callouts = [KINDS[name] for name in classes if name in KINDS]
        if callouts:
            if line is not None:
                self.known(classes, set(KINDS), line, f"a ::: {callouts[0]} box")
            return _callout(callouts[0], attr, self.inner(inner))
        if classes:
            self.unknown(classes, line)
        return {"t": "Div", "c": [[ident, [], pairs], self.inner(inner)]}

    def walk(self, node: Any) -> Any:
        """Any node with the blocks it holds (list items, table cells, notes) recognised in turn."""
        if isinstance(node, list):
            return [self.block(child) if isinstance(child, dict) and child.get("t") in ("Div", "BlockQuote")
                    else self.walk(child) for child in node]
        if isinstance(node, dict) and "c" in node:
            return {"t": node["t"], "c": self.walk(node["c"])}
        return node

    def inner(self, blocks: list[Block]) -> list[Block]:
        """The blocks inside a div or quote, recognised (a plain rendition may hold a callout)."""
        return [self.block(block) for block in blocks]

    def line(self, classes: list[str]) -> int | None:
        """The line of the fence this div opens with, or None for a div that came as HTML."""
        if not classes:
            return None
        name = classes[0]
        self.seen[name] = self.seen.get(name, 0) + 1
        with_it = [number for number, named in self.fences if name in named]
        return with_it[self.seen[name] - 1] if self.seen[name] <= len(with_it) else None

    def known(self, classes: list[str], allowed: set[str], line: int | None, what: str) -> None:
        """Refuse a class a fenced div may not carry beside the ones it does."""
        for name in classes:
            if name not in allowed:
                raise SourceError(self.path, line, f"{what} cannot also be '{name}': {_instead()}")

    def unknown(self, classes: list[str], line: int | None) -> None:
        """A div of a class that is no callout: an error at its fence's line, or, for a pasted HTML
        <div>, a warning (its classes are dropped and its text shown plainly)."""
        if line is not None and classes[0] in ("plain", EASY_READ):
            raise SourceError(self.path, line, f"a ::: {classes[0]} div belongs at the section's top level, after its "
                                               "full text, not inside a list, a quote or another div")
        if line is not None:
            raise SourceError(self.path, line, f"'::: {classes[0]}' is not a box this pipeline draws: {_instead()}")
        self.warnings.append(f"<div class=\"{' '.join(classes)}\"> is not a callout: its text is shown plainly")


def _callout(kind: str, attr: list[Any], blocks: list[Block]) -> Block:
    """The model's callout: a Div with the classes `callout` and its kind, its id and other attributes kept."""
    return {"t": "Div", "c": [[attr[0], [CALLOUT, kind], attr[2]], blocks]}


def _stop_quote(blocks: list[Block]) -> bool:
    """A quote whose first words are bold and begin with "Stop": "> **Stop and call us** if ..."."""
    if not blocks or blocks[0]["t"] not in ("Para", "Plain") or not blocks[0]["c"]:
        return False
    first = blocks[0]["c"][0]
    return first["t"] == "Strong" and bool(STOP.match(stringify(first["c"]).strip()))


def _instead() -> str:
    """What an author may write instead."""
    return "write '::: warning' or '::: tip' for a box (docs/source.md, callouts), or leave the class out"
