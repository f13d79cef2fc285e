"""Reads a FAQ source (Pandoc Markdown + YAML metadata) once into the Document model.

The source format: a YAML block (`title`, `lang` required; `subtitle`, `publisher`, `date`,
`identifier`, `description`, `keywords`, `glossary` optional), then sections, each a level-2
heading with an explicit id (`## Question? {#id}`), its full text, and exactly one
`::: plain` fenced div holding the plain-language rendition. An import marks a plain rendition it
could not write `::: {.plain .unwritten}`: such a source is unfinished, refused by `build` and
reported by `lint` (`parse(path, drafts=[...])` collects what is unfinished instead of raising).
Either rendition may hold callouts (`::: warning`, `::: tip`, a quote starting "**Stop**"), which
`callouts` recognises; a fenced div of any other class is refused at its line.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..language.pronunciation import parse_pronounce
from . import tree as pandoc_tree, callouts, easyread, pandoc, pictures, reading, untrusted
from .. import fonts, icons
from ..language import narration
from ..config import setting
from ..errors import SourceError, UnfinishedSource
from ..model import Document, Edition, Metadata, Section
from ..language.words import Words, words_for

READER = "markdown-auto_identifiers-raw_tex-raw_attribute"
SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
OPTIONAL_TEXT_FIELDS = ("subtitle", "publisher", "date", "identifier", "description", "translation-of", "disclaimer",
                        "contact")


@dataclass
class _Part:
    """The blocks of one section as read from the AST, before rendering."""

    id: str
    title: str
    line: int
    full: list[dict[str, Any]]
    plain: list[dict[str, Any]]
    unwritten: bool = False  # the plain rendition is the import's placeholder
    easy: list[dict[str, Any]] = field(default_factory=list)  # the `::: easyread` div's blocks, if written


def parse(path: Path | str, drafts: list[UnfinishedSource] | None = None) -> Document:
    """Parse and validate one source file; raise SourceError naming file, line and problem.

    With `drafts`, what an author has not finished yet (a plain rendition still unwritten, a
    picture without alt text) is added to that list instead of raised, so `lint` can read on."""
    path = Path(path)
    try:
        return _parse(path, drafts)
    except RecursionError:
        raise SourceError(path, None, "the text is nested too deeply (lists or quotes inside each other)") from None


def _parse(path: Path, drafts: list[UnfinishedSource] | None) -> Document:
    """The parse itself, in reading order of the file."""
    raw = _read_bytes(path)
    text = _decode(path, raw)
    meta_text, body, body_line = _split_front_matter(path, text)
    meta = _metadata(path, meta_text)
    warnings: list[str] = []
    blocks = _pandoc_blocks(path, body)
    blocks = pandoc_tree.drop_unsafe(blocks, warnings)
    blocks = callouts.recognise(path, blocks, text.splitlines(), warnings)
    blocks = pandoc_tree.mark_languages(blocks, meta.lang)
    parts = _sections(path, blocks, body.splitlines(), body_line, drafts)
    _inner_ids(parts, warnings)
    _links_land(path, parts, text.splitlines())
    shown = pictures.collect(path, [(part.line, part.full + part.plain) for part in parts], text.splitlines(), drafts)
    _drawn(path, text)
    sections = _render(path, parts, meta, text.splitlines())
    return Document(
        source=path,
        name=path.stem,
        meta=meta,
        sections=sections,
        source_sha256=hashlib.sha256(raw).hexdigest(),
        warnings=tuple(f"{path}: {w}" for w in warnings),
        pictures=shown,
        editions=editions(path, meta),
    )


def editions(path: Path, meta: Metadata) -> tuple[Edition, ...]:
    """The other language editions of this handout among the sources beside it: those that say they
    translate it (`translation-of: its identifier`), or that it translates, or that translate the same."""
    group = meta.translation_of or meta.identifier
    if not group:
        return ()
    found = []
    for other in sorted(path.parent.glob("*.md")):
        if other.resolve() == path.resolve():
            continue
        try:
            values = yaml.safe_load(FRONT_MATTER.match(_read_bytes(other).decode("utf-8")).group(1))
            theirs = str(values.get("translation-of") or values.get("identifier") or "")
            lang = str(values["lang"]).strip()
        except (SourceError, AttributeError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
            continue  # a source that cannot be read is reported when it is built itself
        if theirs == group or str(values.get("identifier") or "") == meta.translation_of and meta.translation_of:
            found.append(Edition(lang, other.stem))
    return tuple(found)


def _read_bytes(path: Path) -> bytes:
    """The source's bytes: a regular file within `max_source_bytes`, not empty (see `untrusted.read_regular`)."""
    raw = untrusted.read_regular(path, int(setting("max_source_bytes")), "the path of a Markdown file")
    if not raw.strip():
        raise SourceError(path, 1, "file is empty")
    return raw


def _decode(path: Path, raw: bytes) -> str:
    """UTF-8 text, or an error pointing at the first bad byte's line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(path, line, f"not UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def _split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    """(YAML text, body text, line number where the body starts)."""
    match = FRONT_MATTER.match(text)
    if not match:
        raise SourceError(path, 1, "missing YAML metadata block (start the file with ---)")
    body_line = text[: match.end()].count("\n") + 1
    return match.group(1), text[match.end():], body_line


def _metadata(path: Path, meta_text: str) -> Metadata:
    """Validated metadata from the YAML block."""
    try:
        values = yaml.safe_load(meta_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "syntax error"
        raise SourceError(path, line, f"invalid YAML metadata: {problem}") from None
    if not isinstance(values, dict):
        raise SourceError(path, 2, "YAML metadata must be a mapping of field: value")

    def line_of(key: str) -> int:
        for number, line in enumerate(meta_text.splitlines(), start=2):
            if line.startswith(f"{key}:"):
                return number
        return 1

    for key in ("title", "lang"):
        value = values.get(key)
        if not isinstance(value, str) or not value.strip():
            raise SourceError(path, line_of(key), f"'{key}' is missing or empty in the metadata")
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", values["lang"].strip()):
        raise SourceError(path, line_of("lang"), f"'lang' is not a BCP 47 tag: {values['lang']!r}")
    fields: dict[str, Any] = {}
    for key in OPTIONAL_TEXT_FIELDS:
        value = values.get(key)
        if value is None:
            continue
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            value = str(value) if key == "date" else None
            if value is None:
                raise SourceError(path, line_of(key), f"'{key}' must be text")
        fields[key.replace("-", "_")] = str(value).strip()
    keywords = values.get("keywords") or []
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",") if k.strip()]
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise SourceError(path, line_of("keywords"), "'keywords' must be a list of words")
    glossary = values.get("glossary") or {}
    if not isinstance(glossary, dict):
        raise SourceError(path, line_of("glossary"), "'glossary' must be a mapping of term: definition")
    for term, definition in glossary.items():
        if not isinstance(term, str) or not isinstance(definition, str) or not definition.strip():
            raise SourceError(
                path, line_of("glossary"), f"glossary entry {term!r} must be text: plain definition text"
            )
    return Metadata(
        title=values["title"].strip(),
        easyread_icons=_easyread_icons(path, values.get("easyread-icons"), line_of("easyread-icons")),
        pronounce=_pronounce(path, values.get("pronounce"), line_of("pronounce"), meta_text),
        lang=values["lang"].strip(),
        keywords=tuple(keywords),
        glossary={t.strip(): d.strip() for t, d in glossary.items()},
        **fields,
    )


def _easyread_icons(path: Path, value: Any, line: int) -> dict[str, str]:
    """The `easyread-icons:` mapping (word or phrase: picture name), each picture one the set has."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise SourceError(path, line, "'easyread-icons' must be a mapping of word: picture name (e.g. tamoxifen: pill)")
    found = icons.icon_set()
    for word, name in value.items():
        if found is not None and not found.has(name.strip()):
            raise SourceError(path, line, f"easyread-icons: the picture '{name}' (for '{word}') is not in the picture set "
                                          "(Health Icons); see docs/easy-read.md for how to find a picture's name")
    return {word.strip().lower(): name.strip() for word, name in value.items()}


def _pronounce(path: Path, value: Any, line: int, meta_text: str) -> dict[str, str]:
    """The `pronounce:` mapping (word: /IPA/ or respelling), each entry checked as the voice will read it."""
    lines = meta_text.splitlines()

    def entry_line(word: str) -> int:
        following = range(max(line - 1, 0), len(lines))
        return next((n + 2 for n in following if lines[n].strip().startswith(f"{word}:")), line)

    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SourceError(path, line, "'pronounce' must be a mapping of word: /IPA/ or respelling")
    for word, said in value.items():
        try:
            parse_pronounce(str(word), said if isinstance(said, str) else "")
        except ValueError as problem:
            raise SourceError(path, entry_line(str(word)), f"pronounce: {problem}") from None
    return {str(word).strip(): str(said).strip() for word, said in value.items()}


def _pandoc_blocks(path: Path, body: str) -> list[dict[str, Any]]:
    """The body as Pandoc's JSON block list."""
    try:
        tree = json.loads(pandoc.convert_text(body, "json", READER, "--wrap=none"))
    except RuntimeError as exc:
        raise SourceError(path, None, f"pandoc could not read the file: {exc}") from None
    return tree["blocks"]


def _heading_lines(lines: list[str], first_line: int) -> list[tuple[int, int]]:
    """(line number, level) of every ATX heading outside fenced code."""
    found: list[tuple[int, int]] = []
    fence: str | None = None
    for offset, line in enumerate(lines):
        stripped = line.lstrip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker and not stripped.startswith(":::"):
            if fence is None:
                fence = marker.group(1)[0]
            elif stripped.startswith(fence * 3):
                fence = None
            continue
        heading = re.match(r"(#{1,6})\s", line)
        if fence is None and heading:
            found.append((first_line + offset, len(heading.group(1))))
    return found


def _sections(
    path: Path, blocks: list[dict[str, Any]], lines: list[str], first_line: int,
    drafts: list[UnfinishedSource] | None = None,
) -> list[_Part]:
    """Split the block list into sections, validating ids, headings and plain divs."""
    headings = iter(_heading_lines(lines, first_line))
    parts: list[_Part] = []
    seen: dict[str, int] = {}
    for block in blocks:
        if block["t"] == "Header":
            level, (ident, _classes, _attrs), inlines = block["c"]
            line = next(headings, (first_line, level))[0]
            title = pandoc_tree.stringify(inlines).strip()
            if level != 2:
                raise SourceError(path, line, f"heading '{title}' is level {level}; sections are level-2 headings (##)")
            unread = re.search(r"\{#([^}]*)\}\s*$", title)
            if not ident and unread:
                raise SourceError(
                    path, line, f"section id '{unread.group(1)}' is not a safe file name (use a-z, 0-9 and -, up to 64)"
                )
            if not ident:
                raise SourceError(path, line, f"section '{title}' has no id; write it as: ## {title} {{#some-id}}")
            if not SAFE_ID.match(ident):
                raise SourceError(
                    path, line, f"section id '{ident}' is not a safe file name (use a-z, 0-9 and -, up to 64)"
                )
            if ident in seen:
                raise SourceError(path, line, f"section id '{ident}' is used twice (first on line {seen[ident]})")
            if not title:
                raise SourceError(path, line, f"section '{ident}' has an empty heading")
            seen[ident] = line
            parts.append(_Part(ident, title, line, [], []))
        elif not parts:
            if block["t"] == "Null":
                continue
            stray = next((first_line + i for i, line in enumerate(lines) if line.strip()), first_line)
            raise SourceError(path, stray, "text before the first section belongs nowhere; start with a ## heading")
        elif block["t"] == "Div" and "plain" in block["c"][0][1]:
            part = parts[-1]
            if part.plain:
                raise SourceError(path, part.line, f"section '{part.id}' has two ::: plain divs; keep one")
            part.plain = block["c"][1] or [{"t": "Null"}]
            if "unwritten" in block["c"][0][1]:
                part.unwritten = True
                _unwritten(path, part, lines, first_line, drafts)
        elif block["t"] == "Div" and callouts.EASY_READ in block["c"][0][1]:
            part = parts[-1]
            if part.easy:
                raise SourceError(path, part.line, f"section '{part.id}' has two ::: easyread divs; keep one")
            part.easy = block["c"][1]
            if not pandoc_tree.stringify_blocks(part.easy).strip():
                raise SourceError(path, part.line, f"section '{part.id}' has an empty ::: easyread div")
        else:
            part = parts[-1]
            if part.plain or part.easy:
                which = "plain" if part.plain else "easyread"
                raise SourceError(
                    path, part.line, f"section '{part.id}' has text after its ::: {which} div; put it before"
                )
            part.full.append(block)
    if not parts:
        raise SourceError(path, first_line, "no sections: add level-2 headings like ## Question? {#id}")
    for part in parts:
        if not pandoc_tree.stringify_blocks(part.full).strip():
            raise SourceError(path, part.line, f"section '{part.id}' has no text")
        if not part.plain:
            raise SourceError(path, part.line, f"section '{part.id}' has no ::: plain div")
        if not pandoc_tree.stringify_blocks(part.plain).strip():
            raise SourceError(path, part.line, f"section '{part.id}' has an empty ::: plain div")
    return parts


def _unwritten(path: Path, part: _Part, lines: list[str], first_line: int,
               drafts: list[UnfinishedSource] | None) -> None:
    """A plain rendition the import left unwritten: refused (or, for lint, noted) at its div's line."""
    line = next((first_line + i for i, text in enumerate(lines)
                 if first_line + i > part.line and re.match(r"\s*:::+\s*\{[^}]*\.unwritten", text)), part.line)
    problem = UnfinishedSource(path, line, f"the plain rendition of section '{part.id}' is not written yet: write it "
                                           "in plain words, then delete '.unwritten' from this line", "unwritten")
    if drafts is None:
        raise problem
    drafts.append(problem)


def _drawn(path: Path, text: str) -> None:
    """Every character of the source is one some font on this machine draws (Atkinson Hyperlegible,
    else a Noto face fontconfig finds), so no format shows an empty box in its place."""
    missing = fonts.undrawn(text)
    if missing:
        char = missing[0]
        line = text[: text.index(char)].count("\n") + 1
        name = unicodedata.name(char, "unnamed character")
        raise SourceError(path, line, f"no font on this machine draws '{char}' (U+{ord(char):04X} {name}): install one "
                                      "that does (Debian fonts-noto-* covers most scripts), or write it another way")


def _inner_ids(parts: list[_Part], warnings: list[str]) -> None:
    """Keep an id the source gives an element inside a section only if it is safe and its own:
    not a section's id, not used twice, and without `_`, which is kept for the ids the pipeline makes."""
    seen = {part.id for part in parts}
    for part in parts:
        for node in pandoc_tree.attributed(part.full + part.plain):
            ident = node["c"][0][0]
            if not ident:
                continue
            if SAFE_ID.match(ident) and ident not in seen:
                seen.add(ident)
                continue
            node["c"][0] = ["", *node["c"][0][1:]]
            why = "is used twice" if ident in seen else "is not a-z, 0-9 and - (up to 64)"
            warnings.append(f"section '{part.id}': id '{ident}' removed: it {why}")


def _links_land(path: Path, parts: list[_Part], lines: list[str]) -> None:
    """Every link within the handout (`#id`) names a section or an element the source gave that id;
    a link to nowhere would be a dead link in every format."""
    ids = {part.id for part in parts} | {node["c"][0][0] for part in parts for node in pandoc_tree.attributed(part.full + part.plain)}
    for part in parts:
        for node in pandoc_tree.attributed(part.full + part.plain):
            if node["t"] != "Link" or not node["c"][2][0].startswith("#"):
                continue
            target = node["c"][2][0]
            if target[1:] not in ids:
                line = next((n for n in range(part.line, len(lines) + 1) if f"({target}" in lines[n - 1]), part.line)
                raise SourceError(path, line, f"the link to '{target}' goes nowhere: no section or element "
                                              f"has the id '{target[1:]}'")


def _render(path: Path, parts: list[_Part], meta: Metadata, lines: list[str]) -> tuple[Section, ...]:
    """Every section with ids marked in both renditions (format-neutral blocks: `rendering` makes
    their HTML), their reading-order pieces, their narration and their Easy Read rows."""
    say = words_for(meta.lang)
    marked = [(reading.mark(part.full, f"{part.id}_", say), reading.mark(part.plain, f"{part.id}_p", say)) for part in parts]
    return tuple(
        Section(
            id=part.id,
            title=part.title,
            number=number,
            line=part.line,
            full_blocks=json.dumps(full.blocks),
            plain_blocks=json.dumps(plain.blocks),
            full_text=full.text,
            plain_text=plain.text,
            narration=narration.script(part.id, part.title, number, len(parts), full.pieces, say),
            plain_narration=narration.script(reading.plain_heading(part.id), part.title, number, len(parts), plain.pieces,
                                             say),
            full_asides=full.asides,
            plain_asides=plain.asides,
            pieces=full.pieces,
            plain_pieces=plain.pieces,
            full_notes=full.notes,
            plain_notes=plain.notes,
            unwritten=part.unwritten,
            easy_rows=easyread.rows(part.id, part.easy, part.plain, plain, meta, say, path, lines),
            easy_written=bool(part.easy),
        )
        for number, (part, (full, plain)) in enumerate(zip(parts, marked), start=1)
    )
