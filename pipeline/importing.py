"""`python -m pipeline import FILE`: a Word (.docx), OpenDocument (.odt), web page (.html) or Markdown
file made into a source an author finishes, read by pandoc's own readers.

The title comes from the document's metadata (Word's Title style or its properties), else its
first heading. Each heading at the top level below the title becomes a section with a unique,
file-safe id made from its words; deeper headings become bold lines inside their section. Lists,
tables, notes and pictures are kept; pictures are saved beside the source in NAME-pictures/ with
their alt text (a picture without one is reported, and the source will not build until it has
one). Text before the first heading becomes an introduction section. Every section gets a plain
rendition marked `::: {.plain .unwritten}`: the source refuses to build until each is written, so
an import can never be published half done.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypandoc
import yaml

from . import ast
from .cache import write_atomic
from .errors import OutputError, SourceError
from .pictures import KINDS, images
from .words import N_, words_for

READERS = {".docx": "docx", ".odt": "odt", ".html": "html", ".htm": "html", ".md": "markdown"}
UNWRITTEN = N_("Write this answer again here in plain words: short sentences, everyday words and the same "
               "facts (numbers, times, doses, phone numbers, medicines). Then delete “.unwritten” from the "
               "line above.")
INTRODUCTION = N_("Introduction")


@dataclass
class Imported:
    """What an import wrote and what the author must still do."""

    source: Path
    sections: int
    pictures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # one line each: a missing alt text, a picture format refused


def import_file(path: Path, out: Path | None = None, lang: str | None = None, force: bool = False) -> Imported:
    """Read FILE with pandoc and write it as a source (default `source/NAME.md`)."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise SourceError(path, None, f"cannot import {path.suffix or 'a file without an extension'}: "
                                      f"give a {', '.join(sorted(READERS))} file")
    if not path.is_file():
        raise SourceError(path, None, "no such file")
    out = out or Path("source") / f"{slug(path.stem) or 'handout'}.md"
    if out.exists() and not force:
        raise OutputError(f"{out} exists already: give another --out, or --force to replace it")
    if not out.parent.is_dir():
        raise OutputError(f"{out.parent} is not a folder: create it, or give another --out")
    media = out.parent / f"{out.stem}-pictures"
    with tempfile.TemporaryDirectory(prefix=".import-", dir=out.parent.resolve()) as scratch:
        tree = _read(path.resolve(), reader, Path(scratch))
        result = Imported(out, 0)
        meta = _metadata(tree, lang, result)
        meta["file_words"] = re.sub(r"[-_]+", " ", path.stem)
        sections = _sections(tree["blocks"], meta, result)
        _pictures(sections, Path(scratch), media, out.parent, result)
        text = _source_text(meta, sections, lang=meta["lang"])
        write_atomic(out, text.encode("utf-8"))
    result.sections = len(sections)
    return result


def slug(title: str) -> str:
    """A file-safe id from a heading's words: lower case a-z, 0-9 and -, at most 40 characters, whole words."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", plain)
    kept: list[str] = []
    for word in words:
        if len("-".join([*kept, word])) > 40:
            break
        kept.append(word)
    return "-".join(kept) or (words[0][:40] if words else "")


def _read(path: Path, reader: str, scratch: Path) -> dict[str, Any]:
    """The document as pandoc's JSON tree, its pictures extracted into `scratch`."""
    try:
        return json.loads(pypandoc.convert_file(str(path), "json", format=reader,
                                                extra_args=[f"--extract-media={scratch}", "--quiet"]))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise SourceError(path, None, f"pandoc could not read it as {reader}: {first}") from None


def _metadata(tree: dict[str, Any], lang: str | None, result: Imported) -> dict[str, Any]:
    """Title, subtitle and language from the document's metadata (the title may come later from a heading)."""
    meta = {key: _meta_text(value) for key, value in tree.get("meta", {}).items()}
    chosen = lang or meta.get("lang") or ""
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", chosen):
        if chosen:
            result.notes.append(f"the document's language '{chosen}' is not a BCP 47 tag; used en-US (give --lang)")
        else:
            result.notes.append("the document does not say its language: used en-US (give --lang to change it)")
        chosen = "en-US"
    found = {"title": meta.get("title", ""), "lang": chosen}
    if meta.get("subtitle"):
        found["subtitle"] = meta["subtitle"]
    return found


def _meta_text(value: dict[str, Any]) -> str:
    """The text of one metadata value (MetaInlines, MetaString or MetaBlocks)."""
    kind, content = value.get("t"), value.get("c")
    if kind == "MetaString":
        return str(content).strip()
    if kind == "MetaInlines":
        return ast.stringify(content).strip()
    if kind == "MetaBlocks":
        return ast.stringify_blocks(content).strip()
    return ""


@dataclass
class _Section:
    """One question as imported: its id, heading inlines and blocks."""

    id: str
    heading: list[dict[str, Any]]
    blocks: list[dict[str, Any]]


def _sections(blocks: list[dict[str, Any]], meta: dict[str, Any], result: Imported) -> list[_Section]:
    """Split the body at its top-level headings below the title; text before them is an introduction."""
    blocks = _without_ids(blocks)
    headings = [b for b in blocks if b["t"] == "Header"]
    if not meta["title"]:
        blocks, headings = _title_from_text(blocks, headings, meta)
    if not meta["title"]:
        meta["title"] = " ".join(meta.pop("file_words", "").split()).capitalize() or "Untitled handout"
        result.notes.append(f"the document names no title: used '{meta['title']}'; change it in the source")
    meta.pop("file_words", None)
    level = min((h["c"][0] for h in headings), default=1)
    say = words_for(meta["lang"])
    sections: list[_Section] = []
    used: set[str] = set()
    for block in blocks:
        if block["t"] == "Header" and block["c"][0] == level:
            title = block["c"][2]
            sections.append(_Section(_unique(slug(ast.stringify(title)), used, len(sections) + 1), title, []))
        elif block["t"] == "Header":  # a deeper heading: a bold line inside its section
            _current(sections, say, used).blocks.append({"t": "Para", "c": [{"t": "Strong", "c": block["c"][2]}]})
        elif block["t"] != "Null":
            _current(sections, say, used).blocks.append(block)
    for section in sections:
        if not ast.stringify_blocks(section.blocks).strip():
            section.blocks = [{"t": "Para", "c": [{"t": "Str", "c": "…"}]}]
            result.notes.append(f"section '{section.id}' has no text under its heading: write its answer")
    if not sections:
        raise SourceError(Path(meta["title"]), None, "the document has no text to import")
    return sections


def _title_from_text(blocks: list[dict[str, Any]], headings: list[dict[str, Any]], meta: dict[str, Any]
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The title as a document without a Title style writes it: one short line before the first
    heading (a paragraph of up to 15 words, no full stop), or a first heading above all the others."""
    first = headings[0] if headings else None
    before = blocks[: blocks.index(first)] if first is not None else blocks
    lead = [b for b in before if b["t"] != "Null"]
    if len(lead) == 1 and lead[0]["t"] in ("Para", "Plain"):
        words = ast.stringify(lead[0]["c"]).strip()
        if 0 < len(words.split()) <= 15 and not words.endswith("."):
            meta["title"] = words
            return [b for b in blocks if b is not lead[0]], headings
    if first is not None and not lead and all(h["c"][0] > first["c"][0] for h in headings[1:]) and len(headings) > 1:
        meta["title"] = ast.stringify(first["c"][2]).strip()
        return [b for b in blocks if b is not first], headings[1:]
    return blocks, headings


def _current(sections: list[_Section], say: Any, used: set[str]) -> _Section:
    """The section text goes into: the last one, or an introduction for text before the first heading."""
    if not sections:
        sections.append(_Section(_unique("introduction", used, 1), [{"t": "Str", "c": say(INTRODUCTION)}], []))
    return sections[-1]


def _unique(ident: str, used: set[str], number: int) -> str:
    """An id not used yet in this source ("where", "where-2"); "section-N" when the heading has no Latin letters."""
    ident = ident or f"section-{number}"
    candidate, count = ident, 2
    while candidate in used:
        candidate = f"{ident[:36]}-{count}"
        count += 1
    used.add(candidate)
    return candidate


def _without_ids(node: Any) -> Any:
    """The tree without the ids and wrappers a word processor adds (bookmarks, custom styles):
    spans and divs without classes are unwrapped, other elements keep classes but lose ids."""
    if isinstance(node, list):
        out: list[Any] = []
        for child in node:
            cleaned = _without_ids(child)
            if isinstance(child, dict) and child.get("t") in ("Span", "Div") and not child["c"][0][1]:
                out.extend(cleaned["c"][1])
            else:
                out.append(cleaned)
        return out
    if not isinstance(node, dict) or "c" not in node:
        return node
    content = _without_ids(node["c"])
    if node["t"] == "Table":  # a word processor's column widths would force grid tables; pipe tables read easier
        content[2] = [[align, {"t": "ColWidthDefault"}] for align, _width in content[2]]
    if node["t"] in ast.ATTRIBUTED and isinstance(content, list) and content and ast._is_attr(content[0]):
        ident, classes, pairs = content[0]
        keep = [[k, v] for k, v in pairs if k == "alt"]  # sizes are the formats' business
        content = [["", classes, keep], *content[1:]]
    return {"t": node["t"], "c": content}


def _pictures(sections: list[_Section], scratch: Path, media: Path, folder: Path, result: Imported) -> None:
    """Move each extracted picture into NAME-pictures/ beside the source, pointing the source at it."""
    for section in sections:
        for image in images(section.blocks):
            target = Path(image["c"][2][0])
            if not target.is_absolute() or not target.is_relative_to(scratch) or not target.is_file():
                result.notes.append(f"section '{section.id}': picture '{target}' is not in the document; add the file "
                                    "beside the source and point the picture at it")
                continue
            head = target.read_bytes()[:8]
            if not any(head.startswith(magic) for magic in KINDS):
                result.notes.append(f"section '{section.id}': picture '{target.name}' is not PNG or JPEG; save it "
                                    "as PNG and point the picture at it")
            media.mkdir(exist_ok=True)
            kept = media / f"picture-{len(result.pictures) + 1}{target.suffix.lower()}"
            shutil.copyfile(target, kept)
            result.pictures.append(kept)
            image["c"][2][0] = os.path.relpath(kept, folder)
            if not ast.alt_text(image):
                result.notes.append(f"section '{section.id}': picture '{target.name}' has no alt text: say what it "
                                    "shows in the [ ] of its ![ ](...) line")


def _source_text(meta: dict[str, Any], sections: list[_Section], lang: str) -> str:
    """The source: YAML metadata, then each section's heading, full text and unwritten plain rendition."""
    say = words_for(lang)
    front = {**meta, "identifier": f"urn:uuid:{uuid.uuid4()}", "glossary": {}}
    parts = ["---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=100) + "---\n"]
    for section in sections:
        heading = _markdown([{"t": "Plain", "c": section.heading}]).strip()
        body = _notes_named(_markdown(section.blocks).strip(), section.id)
        parts.append(f"## {heading} {{#{section.id}}}\n\n{body}\n\n::: {{.plain .unwritten}}\n{say(UNWRITTEN)}\n:::\n")
    return "\n".join(parts)


def _markdown(blocks: list[dict[str, Any]]) -> str:
    """Blocks as the pipeline's Markdown, by pandoc's writer (no raw HTML, no line wrapping)."""
    tree = {"pandoc-api-version": ast.API_VERSION, "meta": {}, "blocks": blocks}
    writer = "markdown-raw_html-raw_attribute-native_divs-native_spans-simple_tables-multiline_tables"
    return pypandoc.convert_text(json.dumps(tree), writer,
                                 format="json", extra_args=["--wrap=none", "--quiet"])


def _notes_named(markdown: str, section_id: str) -> str:
    """Footnote labels made unique across the source ([^1] in two sections would clash)."""
    return re.sub(r"(?<!\\)\[\^(\d+)\]", lambda m: f"[^{section_id}-{m.group(1)}]", markdown)
