"""A source as the editor shows it: each section's full text and plain rendition side by side, and the
glossary as a table; and back into the same Markdown, every other line kept as the author wrote it.

The split is textual, so a save changes only what was edited: the metadata block but its `glossary:`
entries, each heading line, and whatever follows a plain div (an `::: easyread` div) stay byte for
byte. A plain rendition the import left unwritten (`::: {.plain .unwritten}`) becomes `::: plain`
once its words are changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

import yaml

HEADING = re.compile(r"^## ")
PLAIN_FENCE = re.compile(r"^:::+\s*(?:plain|\{[^}]*\.plain\b[^}]*\})\s*$")
UNWRITTEN_FENCE = re.compile(r"\.unwritten\b")
CLOSE_FENCE = re.compile(r"^:::+\s*$")
CODE_FENCE = re.compile(r"^(`{3,}|~{3,})")
FRONT = re.compile(r"\A(---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*\n)", re.S)


@dataclass(frozen=True)
class SectionText:
    """One section as written: its heading line, full text, plain fence and plain text, and the rest."""

    heading: str
    full: str
    fence: str = ""   # the plain div's opening line ("::: plain", "::: {.plain .unwritten}")
    plain: str = ""
    rest: str = ""    # the closing fence and what follows it (an easyread div), up to the next heading

    @property
    def title(self) -> str:
        """The question, without its id."""
        return re.sub(r"\s*\{#[^}]*\}\s*$", "", self.heading[3:]).strip()

    @property
    def unwritten(self) -> bool:
        """Whether the plain rendition is still the import's placeholder."""
        return bool(UNWRITTEN_FENCE.search(self.fence))


@dataclass(frozen=True)
class Layout:
    """A whole source: its metadata block, anything before the first heading, and its sections."""

    front: str
    preamble: str
    sections: tuple[SectionText, ...] = field(default=())

    @property
    def metadata(self) -> dict:
        """The metadata block's values (empty when absent or unreadable: the lint says why)."""
        try:
            values = yaml.safe_load(self.front.strip().strip("-").strip(".")) or {}
        except yaml.YAMLError:
            return {}
        return values if isinstance(values, dict) else {}

    @property
    def glossary(self) -> dict[str, str]:
        """The glossary as the metadata says it."""
        glossary = self.metadata.get("glossary")
        return {str(k): str(v) for k, v in glossary.items()} if isinstance(glossary, dict) else {}


def split(text: str) -> Layout:
    """The source cut into metadata, preamble and sections (code fences respected)."""
    text = text.replace("\r\n", "\n")
    front_match = FRONT.match(text)
    front = front_match.group(1) if front_match else ""
    lines = text[len(front):].splitlines(keepends=True)
    preamble: list[str] = []
    sections: list[dict[str, list[str] | str]] = []
    where, code = "preamble", None
    for line in lines:
        marker = CODE_FENCE.match(line)
        if marker:
            code = None if code and line.startswith(code) else (code or marker.group(1)[:3])
        if code is None and not marker and HEADING.match(line):
            sections.append({"heading": line, "full": [], "fence": "", "plain": [], "rest": []})
            where = "full"
            continue
        if code is None and where == "full" and PLAIN_FENCE.match(line):
            sections[-1]["fence"], where = line, "plain"
            continue
        if code is None and where == "plain" and CLOSE_FENCE.match(line):
            where = "rest"
        if where == "preamble":
            preamble.append(line)
        else:
            sections[-1][where].append(line)  # type: ignore[union-attr]
    return Layout(front, "".join(preamble), tuple(
        SectionText(str(s["heading"]), "".join(s["full"]), str(s["fence"]), "".join(s["plain"]), "".join(s["rest"]))
        for s in sections))


def join(layout: Layout) -> str:
    """The Markdown again."""
    return layout.front + layout.preamble + "".join(
        s.heading + s.full + s.fence + s.plain + s.rest for s in layout.sections)


def edited(layout: Layout, fulls: list[str], plains: list[str], glossary: dict[str, str] | None) -> Layout:
    """The layout with the editor's texts (one per section, in order) and glossary put in; a changed
    unwritten plain rendition is written from now on."""
    sections = []
    for section, full, plain in zip(layout.sections, fulls, plains):
        full, plain = _block(full, section.full), _block(plain, section.plain)
        fence = section.fence
        if section.unwritten and plain.strip() != section.plain.strip():
            fence = "::: plain\n"
        sections.append(replace(section, full=full, plain=plain, fence=fence))
    front = layout.front if glossary is None else with_glossary(layout.front, glossary)
    return replace(layout, front=front, sections=tuple(sections))


def _block(text: str, before: str) -> str:
    """Text from a text box, with the blank lines around it that the source had (a full text ends in
    a blank line before its plain fence; a plain text ends in a newline before its closing fence)."""
    text = text.replace("\r\n", "\n").strip("\n")
    lead = before[: len(before) - len(before.lstrip("\n"))]
    trail = before[len(before.rstrip("\n")):] or "\n"
    return f"{lead}{text}{trail}" if text else before


def with_glossary(front: str, glossary: dict[str, str]) -> str:
    """The metadata block with its `glossary:` entries replaced (each a quoted YAML string), the other
    lines as they were; a glossary is added before the closing line when there was none."""
    entries = "".join(f"  {json.dumps(term, ensure_ascii=False)}: {json.dumps(meaning, ensure_ascii=False)}\n"
                      for term, meaning in glossary.items() if term.strip() and meaning.strip())
    block = f"glossary:\n{entries}" if entries else ""
    lines = front.splitlines(keepends=True)
    start = next((n for n, line in enumerate(lines) if re.match(r"glossary:\s*$", line)), None)
    if start is None:
        return "".join(lines[:-1]) + block + lines[-1] if block and lines else front
    end = start + 1
    while end < len(lines) - 1 and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        end += 1
    return "".join(lines[:start]) + block + "".join(lines[end:])
