"""Small walks over Pandoc's JSON tree: text of a node, sentence splitting, removal of unsafe content."""

from __future__ import annotations

import re
from typing import Any


Block = dict[str, Any]
Inline = dict[str, Any]

API_VERSION = [1, 23, 1]
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
ABBREVIATIONS = {"e.g.", "i.e.", "etc.", "vs.", "dr.", "mr.", "mrs.", "ms.", "st.", "no.", "approx.", "u.s."}
UNSAFE_SCHEMES = re.compile(r"^\s*(javascript|vbscript|data|file):", re.I)
WRAPPERS = {"Emph", "Strong", "Underline", "Strikeout", "SmallCaps", "Superscript", "Subscript"}


def stringify(inlines: list[Inline], pictures: bool = True) -> str:
    """The visible text of an inline list, as a reader would see it (with pictures' alt text unless
    `pictures` is False: then only what is printed as text)."""
    out: list[str] = []
    for node in inlines:
        kind, content = node["t"], node.get("c")
        if kind == "Str":
            out.append(content)
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif kind in WRAPPERS:
            out.append(stringify(content, pictures))
        elif kind == "Quoted":
            out.append("“" + stringify(content[1], pictures) + "”")
        elif kind in ("Link", "Span", "Cite") or (kind == "Image" and pictures):
            out.append(stringify(content[1], pictures))
        elif kind in ("Code", "Math"):
            out.append(content[1])
    return "".join(out)


def stringify_blocks(blocks: list[Block], pictures: bool = True) -> str:
    """The visible text of a block list; paragraphs, list items and table cells separated by blank lines."""
    out: list[str] = []
    for node in blocks:
        kind, content = node["t"], node.get("c")
        if kind in ("Para", "Plain"):
            out.append(stringify(content, pictures))
        elif kind == "Header":
            out.append(stringify(content[2], pictures))
        elif kind in ("BulletList",):
            out.extend(stringify_blocks(item, pictures) for item in content)
        elif kind == "OrderedList":
            out.extend(stringify_blocks(item, pictures) for item in content[1])
        elif kind in ("BlockQuote",):
            out.append(stringify_blocks(content, pictures))
        elif kind == "Div":
            out.append(stringify_blocks(content[1], pictures))
        elif kind == "LineBlock":
            out.extend(stringify(line, pictures) for line in content)
        elif kind == "CodeBlock":
            out.append(content[1])
        elif kind == "DefinitionList":
            for term, definitions in content:
                out.append(stringify(term, pictures))
                out.extend(stringify_blocks(d, pictures) for d in definitions)
        elif kind == "Figure":
            out.append(stringify_blocks(content[1][1], pictures))
            out.append(stringify_blocks(content[2], pictures))
        elif kind == "Table":
            out.extend(stringify_blocks(cell, pictures) for cell in table_cells(node))
    return "\n\n".join(part for part in out if part.strip())


def alt_text(image: Inline) -> str:
    """A picture's alt text: its `alt` (or `fig-alt`) attribute if given, else its description."""
    attributes = dict(image["c"][0][2])
    return (attributes.get("alt") or attributes.get("fig-alt") or stringify(image["c"][1])).strip()


def table_cells(table: Block) -> list[list[Block]]:
    """The block lists of a table in reading order: caption, head rows, body rows, foot rows."""
    _attr, caption, _specs, head, bodies, foot = table["c"]
    rows = head[1] + [row for body in bodies for row in body[2] + body[3]] + foot[1]
    return [caption[1]] + [cell[4] for row in rows for cell in row[1]]


def drop_unsafe(blocks: list[Block], warnings: list[str]) -> list[Block]:
    """Remove raw HTML and script links anywhere in the tree (lists, tables, notes, captions), so
    nothing executable reaches an output; pictures are left to `pipeline.source.pictures` to vet."""
    return _clean(blocks, warnings)


def _clean(node: Any, warnings: list[str]) -> Any:
    """One node of the tree (a list, an element or a value) without raw or unsafe content."""
    if isinstance(node, list):
        return [cleaned for cleaned in (_clean(child, warnings) for child in node) if cleaned is not _DROPPED]
    if not isinstance(node, dict) or "t" not in node:
        return node
    kind, content = node["t"], node.get("c")
    if kind in ("RawBlock", "RawInline"):
        warnings.append(f"raw {content[0]} removed: {_preview(content[1])}")
        return _DROPPED
    if kind == "Link" and UNSAFE_SCHEMES.match(content[2][0]):
        warnings.append(f"unsafe link removed (kept its text): {_preview(content[2][0])}")
        return {"t": "Span", "c": [["", [], []], _clean(content[1], warnings)]}
    if "c" not in node:
        return node
    cleaned = _clean(content, warnings)
    if kind in ATTRIBUTED and isinstance(cleaned, list) and cleaned and _is_attr(cleaned[0]):
        cleaned = [_clean_attr(cleaned[0]), *cleaned[1:]]
    return {"t": kind, "c": cleaned}


_DROPPED = object()
ATTRIBUTED = {"Span", "Div", "Link", "Image", "Code", "CodeBlock", "Table", "Figure"}


def attributed(node: Any) -> list[dict[str, Any]]:
    """Every element anywhere in a tree that carries Pandoc's Attr first (so it may have an id)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, list):
        for child in node:
            found += attributed(child)
    elif isinstance(node, dict) and "t" in node:
        content = node.get("c")
        if node["t"] in ATTRIBUTED and isinstance(content, list) and content and _is_attr(content[0]):
            found.append(node)
        found += attributed(content)
    return found


def _is_attr(value: Any) -> bool:
    """Whether a value has the shape of Pandoc's Attr: [id, [classes], [[key, value]]]."""
    return isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and isinstance(value[2], list)


def _clean_attr(attr: list[Any]) -> list[Any]:
    """Attributes without event handlers or style (id and classes are kept)."""
    ident, classes, pairs = attr
    return [ident, classes, [[k, v] for k, v in pairs if not k.lower().startswith("on") and k.lower() != "style"]]


def _preview(text: str) -> str:
    """A short one-line excerpt for a warning."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


def split_sentences(inlines: list[Inline]) -> list[list[Inline]]:
    """Split an inline list at sentence ends (., ?, ! before a space), keeping abbreviations whole;
    a footnote call right after the full stop stays with its sentence."""
    sentences: list[list[Inline]] = [[]]
    last_word: Inline | None = None  # the sentence's last inline that is not a footnote call
    for index, node in enumerate(inlines):
        current = sentences[-1]
        if node["t"] in ("Space", "SoftBreak", "LineBreak") and last_word is not None and _ends_sentence(last_word) \
                and not _clock_half(last_word, inlines[index + 1:index + 2]):
            if index + 1 < len(inlines):
                sentences.append([])
                last_word = None
            continue
        if node["t"] in ("Space", "SoftBreak") and not current:
            continue
        current.append(node)
        if node["t"] != "Note":
            last_word = node
    return [s for s in sentences if s]


def _clock_half(node: Inline, following: list[Inline]) -> bool:
    """"a. m." and "p. m." (Spanish clock times, "7:00 a. m."): the "a." does not end a sentence."""
    return stringify([node]).split()[-1:] in (["a."], ["p."]) and bool(following) \
        and stringify(following).lower().startswith("m.")


def _ends_sentence(node: Inline) -> bool:
    """Whether this inline closes a sentence."""
    text = stringify([node])
    if not SENTENCE_END.search(text):
        return False
    last_word = text.split()[-1].lower() if text.split() else ""
    return last_word.strip("“”\"'()") not in ABBREVIATIONS


INLINES = {"Str", "Space", "SoftBreak", "LineBreak", "Emph", "Strong", "Underline", "Strikeout", "SmallCaps",
           "Superscript", "Subscript", "Quoted", "Cite", "Code", "Math", "RawInline", "Link", "Image", "Note", "Span"}
UNMARKED = {"Code", "CodeBlock", "Math", "RawInline", "RawBlock"}


def mark_languages(node: Any, lang: str) -> Any:
    """The tree with each run of words in another script (Arabic inside an English handout) in a
    Span marked with its likely language (and `dir="rtl"` for a right-to-left script), so the page,
    the e-book and the PDF tell screen readers, fonts and the bidi algorithm what it is; a Span the
    source marked itself (`[كلمة]{lang=fa}`) is left as the source says."""
    if isinstance(node, list):
        marked = [mark_languages(child, lang) for child in node]
        if marked and all(isinstance(child, dict) and child.get("t") in INLINES for child in marked):
            return _marked_inlines(marked, lang)
        return marked
    if not isinstance(node, dict) or "c" not in node or node["t"] in UNMARKED:
        return node
    if node["t"] == "Span" and any(key == "lang" for key, _ in node["c"][0][2]):
        return node
    return {"t": node["t"], "c": mark_languages(node["c"], lang)}


def _marked_inlines(inlines: list[Inline], lang: str) -> list[Inline]:
    """One inline list with its runs of another script wrapped in language Spans."""
    from ..language.scripts import other_script_runs

    out: list[Inline] = []
    run: list[Inline] = []
    script = ""

    def close() -> None:
        nonlocal run, script
        spaces = []
        while run and run[-1]["t"] != "Str":
            spaces.insert(0, run.pop())
        if run:
            out.append({"t": "Span", "c": [["", [], _language_attributes(script)], run]})
        out.extend(spaces)
        run, script = [], ""

    for node in inlines:
        if node["t"] == "Str":
            for found, text in other_script_runs(node["c"], lang):
                if found and found == script:
                    run.append({"t": "Str", "c": text})
                elif found:
                    close()
                    run, script = [{"t": "Str", "c": text}], found
                else:
                    close()
                    out.extend(_numbers_left_to_right(text, lang))
        elif node["t"] in ("Space", "SoftBreak") and script:
            run.append(node)
        else:
            close()
            out.append(node)
    close()
    return out


NUMBER_WITH_SEPARATORS = re.compile(r"(\d+(?:[-–./:,]\d+)+)")


def _numbers_left_to_right(text: str, lang: str) -> list[Inline]:
    """A piece of text, with a phone number, date or dose inside a right-to-left handout held left to
    right (`dir="ltr"`): the bidi algorithm drew "555-0199" as "0199-555" in an Arabic line."""
    from ..language.scripts import direction

    if direction(lang) != "rtl" or not NUMBER_WITH_SEPARATORS.search(text):
        return [{"t": "Str", "c": text}]
    pieces = NUMBER_WITH_SEPARATORS.split(text)
    return [{"t": "Span", "c": [["", [], [["dir", "ltr"]]], [{"t": "Str", "c": piece}]]} if n % 2 else {"t": "Str", "c": piece}
            for n, piece in enumerate(pieces) if piece]


def _language_attributes(script: str) -> list[list[str]]:
    """A run's Span attributes: its likely language, and its direction when right to left."""
    from ..language.scripts import RIGHT_TO_LEFT_SCRIPTS, SCRIPT_LANGUAGES

    attributes = [["lang", SCRIPT_LANGUAGES.get(script, "und")]]
    return attributes + [["dir", "rtl"]] if script in RIGHT_TO_LEFT_SCRIPTS else attributes
