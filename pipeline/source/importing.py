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

A received file is untrusted (`pipeline.source.untrusted`): pandoc reads it in its sandbox, a .docx/.odt
is repacked within limits first, and only pictures inside the container itself, or PNG/JPEG files
in a web page's or Markdown file's own folder, are kept; anything else a picture names becomes a
visible placeholder and a note, never a copy and never a request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from . import tree as pandoc_tree, callouts, pandoc, pictures, untrusted
from ..engine.cache import write_atomic
from ..config import setting
from ..errors import OutputError, SourceError
from .pictures import KINDS, images
from ..language.words import N_, words_for

READERS = {".docx": "docx", ".odt": "odt", ".html": "html", ".htm": "html", ".md": "markdown"}
CONTAINERS = {"docx", "odt"}  # zip files whose pictures travel inside them
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
    linked: dict[str, str] = field(default_factory=dict)  # a Word file's outside pictures: stand-in name → address
    declared_lang: str = ""  # the language the .docx/.odt's properties or default style say


def import_file(path: Path, out: Path | None = None, lang: str | None = None, force: bool = False) -> Imported:
    """Read FILE with pandoc and write it as a source (default `source/NAME.md`)."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise SourceError(path, None, f"cannot import {path.suffix or 'a file without an extension'}: "
                                      f"give a {', '.join(sorted(READERS))} file")
    out = out or Path("source") / f"{slug(path.stem) or 'handout'}.md"
    if out.exists() and not force:
        raise OutputError(f"{out} exists already: give another --out, or --force to replace it")
    if not out.parent.is_dir():
        raise OutputError(f"{out.parent} is not a folder: create it, or give another --out")
    received = untrusted.read_regular(path, int(setting("import_max_bytes")), "a .docx, .odt, .html or .md file")
    media = out.parent / f"{out.stem}-pictures"
    with tempfile.TemporaryDirectory(prefix=".import-", dir=out.parent.resolve()) as scratch:
        result = Imported(out, 0)
        tree = _read(path.resolve(), received, reader, Path(scratch), result)
        meta = _metadata(tree, lang, result)
        meta["file_words"] = re.sub(r"[-_]+", " ", path.stem)
        sections = _sections(path, tree["blocks"], meta, result)
        _pictures(sections, path, reader, Path(scratch), media, out.parent, result)
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


def _read(path: Path, received: bytes, reader: str, scratch: Path, result: Imported) -> dict[str, Any]:
    """The document as pandoc's JSON tree, read in pandoc's sandbox with its active parts left out
    (each kind counted in a note); a container's own pictures extracted into `scratch/media`."""
    dropped: Counter[str] = Counter()
    try:
        if reader in CONTAINERS:
            inner = untrusted.repack(path, scratch / f"received{path.suffix.lower()}")
            result.linked = inner.linked
            result.declared_lang = inner.lang
            tree = json.loads(pandoc.convert_file(inner.path, "json", reader, f"--extract-media={scratch / 'media'}"))
        else:
            text = _text(path, received, result)
            if reader == "html":
                dropped.update(untrusted.active_html(text))
            tree = json.loads(pandoc.convert_text(text, "json", reader))
    except RuntimeError as exc:
        lines = str(exc).strip().splitlines()
        raise SourceError(path, None, f"pandoc could not read it as {reader}: "
                                      f"{untrusted.short(lines[-1]) if lines else 'unreadable'}") from None
    tree["blocks"] = untrusted.passive(tree["blocks"], dropped)
    result.notes.extend(untrusted.dropped_lines(dropped))
    return tree


def _text(path: Path, received: bytes, result: Imported) -> str:
    """A web page's or Markdown file's text: UTF-8, or else read as Windows-1252 with a note."""
    try:
        return received.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.notes.append("the file is not UTF-8: read it as Windows-1252; check accented letters and quotes")
        return received.decode("cp1252", errors="replace")


def _metadata(tree: dict[str, Any], lang: str | None, result: Imported) -> dict[str, Any]:
    """Title, subtitle and language from the document's metadata (the title may come later from a heading)."""
    meta = {key: _meta_text(value) for key, value in tree.get("meta", {}).items()}
    chosen = lang or meta.get("lang") or result.declared_lang or ""
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
        return pandoc_tree.stringify(content).strip()
    if kind == "MetaBlocks":
        return pandoc_tree.stringify_blocks(content).strip()
    return ""


@dataclass
class _Section:
    """One question as imported: its id, heading inlines and blocks."""

    id: str
    heading: list[dict[str, Any]]
    blocks: list[dict[str, Any]]


def _sections(path: Path, blocks: list[dict[str, Any]], meta: dict[str, Any], result: Imported) -> list[_Section]:
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
            sections.append(_Section(_unique(slug(pandoc_tree.stringify(title)), used, len(sections) + 1), title, []))
        elif block["t"] == "Header":  # a deeper heading: a bold line inside its section
            _current(sections, say, used).blocks.append({"t": "Para", "c": [{"t": "Strong", "c": block["c"][2]}]})
        elif block["t"] != "Null":
            _current(sections, say, used).blocks.append(block)
    for section in sections:
        if not pandoc_tree.stringify_blocks(section.blocks).strip():
            section.blocks = [{"t": "Para", "c": [{"t": "Str", "c": "…"}]}]
            result.notes.append(f"section '{section.id}' has no text under its heading: write its answer")
    if not sections:
        raise SourceError(path, None, "the document has no text to import")
    return sections


def _title_from_text(blocks: list[dict[str, Any]], headings: list[dict[str, Any]], meta: dict[str, Any]
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The title as a document without a Title style writes it: one short line before the first
    heading (a paragraph of up to 15 words, no full stop), or a first heading above all the others."""
    first = headings[0] if headings else None
    before = blocks[: blocks.index(first)] if first is not None else blocks
    lead = [b for b in before if b["t"] != "Null"]
    if len(lead) == 1 and lead[0]["t"] in ("Para", "Plain"):
        words = pandoc_tree.stringify(lead[0]["c"]).strip()
        if 0 < len(words.split()) <= 15 and not words.endswith("."):
            meta["title"] = words
            return [b for b in blocks if b is not lead[0]], headings
    if first is not None and not lead and all(h["c"][0] > first["c"][0] for h in headings[1:]) and len(headings) > 1:
        meta["title"] = pandoc_tree.stringify(first["c"][2]).strip()
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
    spans without classes and divs that are no callout (`callouts.KINDS`; any other class would be
    refused at its line) are unwrapped, other elements keep classes but lose ids."""
    if isinstance(node, list):
        out: list[Any] = []
        for child in node:
            cleaned = _without_ids(child)
            if _wrapper(child):
                out.extend(cleaned["c"][1])
            else:
                out.append(cleaned)
        return out
    if not isinstance(node, dict) or "c" not in node:
        return node
    content = _without_ids(node["c"])
    if node["t"] == "Table":  # a word processor's column widths would force grid tables; pipe tables read easier
        content[2] = [[align, {"t": "ColWidthDefault"}] for align, _width in content[2]]
    if node["t"] in pandoc_tree.ATTRIBUTED and isinstance(content, list) and content and pandoc_tree._is_attr(content[0]):
        ident, classes, pairs = content[0]
        classes = [name for name in classes if name in callouts.KINDS] if node["t"] == "Div" else classes
        keep = [[k, v] for k, v in pairs if k == "alt"]  # sizes are the formats' business
        content = [["", classes, keep], *content[1:]]
    return {"t": node["t"], "c": content}


def _wrapper(node: Any) -> bool:
    """A span without classes, or a div that is no callout: a word processor's wrapper, unwrapped."""
    if not isinstance(node, dict) or node.get("t") not in ("Span", "Div"):
        return False
    classes = node["c"][0][1]
    return not classes if node["t"] == "Span" else not set(classes) & set(callouts.KINDS)


def _pictures(sections: list[_Section], received: Path, reader: str, scratch: Path, media: Path, folder: Path,
              result: Imported) -> None:
    """Copy each picture the import may keep into NAME-pictures/ beside the source, pointing the
    source at it; any other picture becomes a visible placeholder and a note."""
    for section in sections:
        for image in images(section.blocks):
            target = image["c"][2][0]
            if reader not in CONTAINERS:
                found, problem = _beside(target, received, scratch)
            else:
                found, problem = _contained(target, scratch)
                if found is not None and found.name in result.linked:  # a stand-in for a picture Word links to
                    target, found, problem = result.linked[found.name], None, "linked from outside the document"
            if found is None:
                _placeholder(image, problem)
                result.notes.append(f"section '{section.id}': picture '{untrusted.short(target, 80)}' was not imported "
                                    f"({problem}); a placeholder stands in its place")
                continue
            head = found.read_bytes()[:8]
            if not any(head.startswith(magic) for magic in KINDS):
                result.notes.append(f"section '{section.id}': picture '{found.name}' is not PNG or JPEG; save it "
                                    "as PNG and point the picture at it")
            media.mkdir(exist_ok=True)
            kept = media / f"picture-{len(result.pictures) + 1}{found.suffix.lower()}"
            shutil.copyfile(found, kept)
            result.pictures.append(kept)
            image["c"][2][0] = os.path.relpath(kept, folder)
            if not pandoc_tree.alt_text(image):
                result.notes.append(f"section '{section.id}': picture '{found.name}' has no alt text: say what it "
                                    "shows in the [ ] of its ![ ](...) line")


def _contained(target: str, scratch: Path) -> tuple[Path | None, str]:
    """A picture of a .docx/.odt: a file pandoc extracted from inside the container, or nothing."""
    path = Path(target)
    inside = path.is_absolute() and path.resolve().is_relative_to(scratch.resolve()) and path.is_file()
    return (path, "") if inside else (None, "it is not inside the document")


def _beside(target: str, received: Path, scratch: Path) -> tuple[Path | None, str]:
    """A picture of a web page or Markdown file: a PNG or JPEG file in the received file's own folder
    (after `..` and links are resolved) or inside the page as a data: address, vetted as a build vets
    a source's pictures; or nothing."""
    address = urlsplit(target)
    folder = received.resolve().parent
    if address.scheme.lower() == "data":
        return _inline(target, received, scratch)
    if address.scheme or address.netloc:
        return None, "a file:// address" if address.scheme.lower() == "file" else "a web address, never fetched"
    if not address.path or address.path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", address.path):
        return None, "a path elsewhere on this machine"
    path = (folder / unquote(address.path)).resolve()
    if not path.is_relative_to(folder):
        return None, "outside the imported file's folder"
    try:
        content = pictures.read_limited(received, path, target, 0)
        pictures.kind_of(received, content, target, 0)
        pictures.dimensions(received, content, target, 0)
    except SourceError as refused:
        return None, refused.problem.replace(f"picture '{target}' ", "", 1)
    return path, ""


def _inline(target: str, received: Path, scratch: Path) -> tuple[Path | None, str]:
    """A picture carried inside a web page as a base64 data: address, saved into `scratch` once vetted."""
    found = re.fullmatch(r"data:image/(?:png|jpeg|jpg);base64,([A-Za-z0-9+/=\s]+)", target.strip(), re.I)
    if not found:
        return None, "a data: address that is not a base64 PNG or JPEG picture"
    content = base64.b64decode(re.sub(r"\s+", "", found.group(1)) + "==", validate=False)
    limit = int(setting("picture_max_bytes"))
    if len(content) > limit:
        return None, f"{len(content):,} bytes, over the limit of {limit:,}"
    try:
        _media_type, suffix = pictures.kind_of(received, content, "data:", 0)
        pictures.dimensions(received, content, "data:", 0)
    except SourceError as refused:
        return None, refused.problem.replace("picture 'data:' ", "", 1)
    path = scratch / f"inline-{hashlib.sha256(content).hexdigest()[:12]}{suffix}"
    path.write_bytes(content)
    return path, ""


def _placeholder(image: dict[str, Any], problem: str) -> None:
    """Turn a picture the import did not keep into words an author sees: what it showed, in italics."""
    alt = pandoc_tree.alt_text(image) or "no description"
    image["t"], image["c"] = "Emph", [{"t": "Str", "c": f"(Picture not imported: {alt})"}]


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
    tree = {"pandoc-api-version": pandoc_tree.API_VERSION, "meta": {}, "blocks": blocks}
    writer = "markdown-raw_html-raw_attribute-native_divs-native_spans-simple_tables-multiline_tables"
    return pandoc.convert_text(json.dumps(tree), writer, "json", "--wrap=none")


def _notes_named(markdown: str, section_id: str) -> str:
    """Footnote labels made unique across the source ([^1] in two sections would clash)."""
    return re.sub(r"(?<!\\)\[\^(\d+)\]", lambda m: f"[^{section_id}-{m.group(1)}]", markdown)
