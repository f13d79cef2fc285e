"""Small walks over Pandoc's JSON tree: text of a node, sentence marking, removal of unsafe content."""

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


def stringify(inlines: list[Inline]) -> str:
    """The visible text of an inline list, as a reader would see it."""
    out: list[str] = []
    for node in inlines:
        kind, content = node["t"], node.get("c")
        if kind == "Str":
            out.append(content)
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif kind in WRAPPERS:
            out.append(stringify(content))
        elif kind == "Quoted":
            out.append("“" + stringify(content[1]) + "”")
        elif kind in ("Link", "Image", "Span", "Cite"):
            out.append(stringify(content[1] if kind != "Cite" else content[1]))
        elif kind in ("Code", "Math"):
            out.append(content[1])
    return "".join(out)


def stringify_blocks(blocks: list[Block]) -> str:
    """The visible text of a block list; paragraphs and list items separated by blank lines."""
    out: list[str] = []
    for node in blocks:
        kind, content = node["t"], node.get("c")
        if kind in ("Para", "Plain"):
            out.append(stringify(content))
        elif kind == "Header":
            out.append(stringify(content[2]))
        elif kind in ("BulletList",):
            out.extend(stringify_blocks(item) for item in content)
        elif kind == "OrderedList":
            out.extend(stringify_blocks(item) for item in content[1])
        elif kind in ("BlockQuote",):
            out.append(stringify_blocks(content))
        elif kind == "Div":
            out.append(stringify_blocks(content[1]))
        elif kind == "LineBlock":
            out.extend(stringify(line) for line in content)
        elif kind == "CodeBlock":
            out.append(content[1])
        elif kind == "DefinitionList":
            for term, definitions in content:
                out.append(stringify(term))
                out.extend(stringify_blocks(d) for d in definitions)
    return "\n\n".join(part for part in out if part.strip())


def drop_unsafe(blocks: list[Block], warnings: list[str]) -> list[Block]:
    """Remove raw HTML, images and script links so nothing executable or remote reaches an output."""
    return [b for b in (_clean_block(block, warnings) for block in blocks) if b is not None]


def _clean_block(block: Block, warnings: list[str]) -> Block | None:
    """One block without raw or unsafe content (None when nothing safe is left)."""
    kind, content = block["t"], block.get("c")
    if kind == "RawBlock":
        warnings.append(f"raw {content[0]} removed: {_preview(content[1])}")
        return None
    if kind in ("Para", "Plain"):
        return {"t": kind, "c": _clean_inlines(content, warnings)}
    if kind == "Header":
        return {"t": kind, "c": [content[0], content[1], _clean_inlines(content[2], warnings)]}
    if kind == "BulletList":
        return {"t": kind, "c": [drop_unsafe(item, warnings) for item in content]}
    if kind == "OrderedList":
        return {"t": kind, "c": [content[0], [drop_unsafe(item, warnings) for item in content[1]]]}
    if kind == "BlockQuote":
        return {"t": kind, "c": drop_unsafe(content, warnings)}
    if kind == "Div":
        return {"t": kind, "c": [_clean_attr(content[0]), drop_unsafe(content[1], warnings)]}
    if kind == "Figure":
        warnings.append("figure removed: images are not supported in patient handouts")
        return None
    return block


def _clean_inlines(inlines: list[Inline], warnings: list[str]) -> list[Inline]:
    """Inline list with raw HTML dropped, images replaced by their alt text, unsafe links unlinked."""
    out: list[Inline] = []
    for node in inlines:
        kind, content = node["t"], node.get("c")
        if kind == "RawInline":
            warnings.append(f"raw {content[0]} removed: {_preview(content[1])}")
        elif kind == "Image":
            warnings.append(f"image removed (kept its description): {content[2][0]}")
            out.extend(_clean_inlines(content[1], warnings))
        elif kind == "Link" and UNSAFE_SCHEMES.match(content[2][0]):
            warnings.append(f"unsafe link removed (kept its text): {_preview(content[2][0])}")
            out.extend(_clean_inlines(content[1], warnings))
        elif kind == "Link":
            out.append({"t": kind, "c": [_clean_attr(content[0]), _clean_inlines(content[1], warnings), content[2]]})
        elif kind in WRAPPERS:
            out.append({"t": kind, "c": _clean_inlines(content, warnings)})
        elif kind == "Span":
            out.append({"t": kind, "c": [_clean_attr(content[0]), _clean_inlines(content[1], warnings)]})
        elif kind == "Quoted":
            out.append({"t": kind, "c": [content[0], _clean_inlines(content[1], warnings)]})
        elif kind == "Note":
            warnings.append("footnote removed: write it into the text")
        else:
            out.append(node)
    return out


def _clean_attr(attr: list[Any]) -> list[Any]:
    """Attributes without event handlers or style (id and classes are kept)."""
    ident, classes, pairs = attr
    return [ident, classes, [[k, v] for k, v in pairs if not k.lower().startswith("on") and k.lower() != "style"]]


def _preview(text: str) -> str:
    """A short one-line excerpt for a warning."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


def mark_sentences(blocks: list[Block], section_id: str) -> list[Block]:
    """Wrap every sentence of the section's text in `<span id="ID-sN" class="sentence">`."""
    counter = [0]
    return [_mark_block(block, section_id, counter) for block in blocks]


def _mark_block(block: Block, section_id: str, counter: list[int]) -> Block:
    """One block with its sentences wrapped."""
    kind, content = block["t"], block.get("c")
    if kind in ("Para", "Plain"):
        return {"t": kind, "c": _wrap_sentences(content, section_id, counter)}
    if kind == "BulletList":
        return {"t": kind, "c": [mark_sentences_in(item, section_id, counter) for item in content]}
    if kind == "OrderedList":
        return {"t": kind, "c": [content[0], [mark_sentences_in(i, section_id, counter) for i in content[1]]]}
    if kind == "BlockQuote":
        return {"t": kind, "c": mark_sentences_in(content, section_id, counter)}
    if kind == "Div":
        return {"t": kind, "c": [content[0], mark_sentences_in(content[1], section_id, counter)]}
    return block


def mark_sentences_in(blocks: list[Block], section_id: str, counter: list[int]) -> list[Block]:
    """Sentence marking that continues an existing count (nested blocks)."""
    return [_mark_block(block, section_id, counter) for block in blocks]


def split_sentences(inlines: list[Inline]) -> list[list[Inline]]:
    """Split an inline list at sentence ends (., ?, ! before a space), keeping abbreviations whole."""
    sentences: list[list[Inline]] = [[]]
    for index, node in enumerate(inlines):
        current = sentences[-1]
        if node["t"] in ("Space", "SoftBreak", "LineBreak") and current and _ends_sentence(current[-1]):
            following = inlines[index + 1] if index + 1 < len(inlines) else None
            if following is not None:
                sentences.append([])
            continue
        if node["t"] in ("Space", "SoftBreak") and not current:
            continue
        current.append(node)
    return [s for s in sentences if s]


def _ends_sentence(node: Inline) -> bool:
    """Whether this inline closes a sentence."""
    text = stringify([node])
    if not SENTENCE_END.search(text):
        return False
    last_word = text.split()[-1].lower() if text.split() else ""
    return last_word.strip("“”\"'()") not in ABBREVIATIONS


def _wrap_sentences(inlines: list[Inline], section_id: str, counter: list[int]) -> list[Inline]:
    """The inline list as sentence spans separated by spaces."""
    out: list[Inline] = []
    for sentence in split_sentences(inlines):
        counter[0] += 1
        if out:
            out.append({"t": "Space"})
        out.append({"t": "Span", "c": [[f"{section_id}-s{counter[0]}", ["sentence"], []], sentence]})
    return out


def sentence_spans(blocks: list[Block]) -> list[tuple[str, str, str, int]]:
    """(span id, text, "paragraph" or "item", paragraph number) of every marked sentence, in order."""
    found: list[tuple[str, str, str, int]] = []
    paragraph = [0]

    def visit(nodes: list[Block], context: str) -> None:
        for node in nodes:
            kind, content = node["t"], node.get("c")
            if kind in ("Para", "Plain"):
                paragraph[0] += 1
                for inline in content:
                    if inline["t"] == "Span" and "sentence" in inline["c"][0][1]:
                        found.append((inline["c"][0][0], stringify(inline["c"][1]), context, paragraph[0]))
            elif kind in ("BulletList",):
                for item in content:
                    visit(item, "item")
            elif kind == "OrderedList":
                for item in content[1]:
                    visit(item, "item")
            elif kind == "BlockQuote":
                visit(content, context)
            elif kind == "Div":
                visit(content[1], context)

    visit(blocks, "paragraph")
    return found
