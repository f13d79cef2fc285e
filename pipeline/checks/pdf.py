"""Reads the built large-print PDF (pypdf and pdfplumber only) and judges what a reader would get.

A section is present when its question is a bookmark AND its heading is in the text at or after
the bookmarked page, with at least 95 % of its words, in order, before the next section's heading:
the words of the print edition the PDF shows (read from the PDF itself: a "More detail" sub-heading
under the answers means both renditions, and then both must be there; else the plain or the full
text, whichever its answers hold). The glossary ("Words to know") and the care-team line close it.
Rules: body type at least 18 pt (the running header/footer, told apart by sitting in the outer
inch of the page, at least 14 pt), every font embedded, one bookmark per section in order, /Lang,
a structure tree, marked content, the title shown in the title bar, page labels, metadata, and
text that extracts in reading order, no page ending inside a sentence of an answer that would fit on
one page, and every link annotation tagged as a `Link` (PDF/UA-1 7.18.5).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pdfplumber
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .. import formats
from ..engine.cache import check_memo, file_digest, fingerprint
from ..config import setting
from ..model import Document
from ..language.scripts import direction
from ..language.words import Words, words_for
from . import FormatReport, interface_words, presence

FORMAT = "pdf"
# Large print keeps at least one inch of margin (APH); only the running header and footer live there.
RUNNING_BAND_PT = 72.0
SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
HEADING_KEEP_WORDS = 8  # about the first line and a half of text under a heading
# The text read from a PDF is remembered by the file's bytes AND this module's code, so a change to
# how pages are read (the running band, say) never reuses text read the old way.
_CODE_DIGEST = file_digest(Path(__file__))


@dataclass
class Page:
    """What one page shows: body text and the type sizes of body and running header/footer."""

    body_text: str
    running_text: str
    body_sizes: list[float] = field(default_factory=list)
    running_sizes: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the body's lines top to bottom, in reading order
    line_sizes: list[float] = field(default_factory=list)  # each line's largest type size


@dataclass
class Bookmark:
    """One outline entry: its title and the (0-based) page it opens."""

    title: str
    page: int | None


def check(doc: Document, out_dir: Path) -> FormatReport:
    """Judge every section and rule of out_dir/NAME.pdf."""
    report = FormatReport(FORMAT)
    path = out_dir / formats.main_file(FORMAT, doc.name)
    if not path.is_file():
        return report.missing(doc, f"{path.name} not found")
    try:
        reader = PdfReader(path)
        pages, stored = read_text(path, reader, direction(doc.meta.lang))
        bookmarks = read_outline(reader)
    except (PyPdfError, PdfminerException, MalformedPDFException, OSError, ValueError, KeyError) as exc:
        return report.missing(doc, f"{path.name} is not a readable PDF: {exc}")
    tags: list[Tag] = []
    with report.guard("structure"):
        tags = structure(reader)
    alts = " ".join(tag.alt for tag in tags if tag.kind == "Figure")
    say = words_for(doc.meta.lang)
    edition = print_edition(doc, pages, say)
    report.figures["print_edition"] = edition
    headings, page_bounds = judge_sections(doc, report, pages, bookmarks, alts, edition)
    for name, rule, arguments in (
        ("body type size", check_type, (report, pages)),
        ("headings kept with their text", check_headings_kept, (doc, report, headings, page_bounds, edition)),
        ("fonts embedded", check_fonts, (report, reader)),
        ("outline", check_outline, (doc, report, bookmarks)),
        ("catalog", check_catalog, (doc, report, reader)),
        ("running header and footer", check_running, (report, pages, doc.meta.title, words_for(doc.meta.lang))),
        ("text in reading order", check_reading_order, (report, pages, stored, direction(doc.meta.lang))),
        ("tables and pictures tagged", check_tags, (report, tags)),
        ("links tagged", check_links, (report, reader)),
        ("words to know", check_glossary, (doc, report, pages, say)),
        ("care-team line", check_care_team, (doc, report, pages, say)),
        ("sentences kept on one page", check_sentences_kept, (report, pages, bookmarks, direction(doc.meta.lang), block_endings(doc))),
        ("no English interface words", interface_words.check, (report, doc, [without_addresses(p.body_text) + "\n" + p.running_text for p in pages])),
    ):
        with report.guard(name):
            rule(*arguments)
    report.figures["pages"] = len(pages)
    box = reader.pages[0].mediabox if reader.pages else None
    if box is not None:
        report.figures["paper_pt"] = [round(float(box.width)), round(float(box.height))]
    return report


WEB_ADDRESS = re.compile(r"\S*(?:://|/)\S*")  # a web address and its wrapped pieces ("…/index.html")


def without_addresses(text: str) -> str:
    """A page's text without web addresses (the code's address on page 1 is the clinic's, in no language)."""
    return WEB_ADDRESS.sub(" ", text)


def is_running(char: dict[str, Any], height: float) -> bool:
    """A character in the outer inch at the top or bottom belongs to the running header/footer."""
    middle = (char["top"] + char["bottom"]) / 2
    return middle < RUNNING_BAND_PT or middle > height - RUNNING_BAND_PT


def read_text(path: Path, reader: PdfReader, base: str = "ltr") -> tuple[list[Page], list[str]]:
    """Each page as laid out and as stored, remembered by the PDF's bytes (the slow part of the
    check); `base` is the handout's direction, which its lines are read in."""
    key = fingerprint("pdf-text", file_digest(path), base, _CODE_DIGEST, version("pdfplumber"), version("pypdf"))
    found = check_memo().remember("pdf-text", key, lambda: _read_text(path, reader, base))
    return [Page(**page) for page in found["pages"]], found["stored"]


def _read_text(path: Path, reader: PdfReader, base: str) -> dict[str, list[Any]]:
    """What pdfplumber lays out and what pypdf extracts in stored order, page by page, as JSON values."""
    with pdfplumber.open(path) as plumber:
        pages = [asdict(read_page(page, base)) for page in plumber.pages]
    stored = [page.extract_text() or "" for page in reader.pages]
    return {"pages": pages, "stored": stored}


def read_page(page: pdfplumber.page.Page, base: str = "ltr") -> Page:
    """Split one page's characters into body and running header/footer, with their sizes."""
    height = float(page.height)
    body = page.filter(lambda obj: obj.get("object_type") != "char" or not is_running(obj, height))
    running = page.filter(lambda obj: obj.get("object_type") != "char" or is_running(obj, height))
    result = Page(body_text(body, base), on_baselines(running, base))
    result.lines, result.line_sizes = body_lines(body, base)
    for char in page.chars:
        if not char["text"].strip():
            continue
        sizes = result.running_sizes if is_running(char, height) else result.body_sizes
        sizes.append(round(float(char["size"]), 2))
    return result


RIGHT_TO_LEFT = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def logical_order(text: str, base: str = "ltr") -> str:
    """Text with each run of right-to-left words (Arabic, Hebrew) put back in reading order:
    pdfplumber lays a line out left to right as drawn, so such a run comes reversed, word by word
    and letter by letter. In a right-to-left handout (`base` "rtl") a line holding such words is
    read from its right end, a run of left-to-right words (a phone number, a brand) in its own order."""
    lines = []
    for line in text.split("\n"):
        tokens, out, at = line.split(" "), [], 0
        if base == "rtl" and RIGHT_TO_LEFT.search(line):
            lines.append(" ".join(_read_from_the_right(tokens)))
            continue
        while at < len(tokens):
            end = at
            while end < len(tokens) and RIGHT_TO_LEFT.search(tokens[end]):
                end += 1
            if end == at:
                out.append(tokens[at])
                at += 1
                continue
            out.extend(token[::-1] for token in reversed(tokens[at:end]))
            at = end
        lines.append(" ".join(out))
    return "\n".join(lines)


def _read_from_the_right(tokens: list[str]) -> list[str]:
    """A right-to-left line's words (as drawn, left to right) in reading order."""
    out: list[str] = []
    tokens, at = tokens[::-1], 0
    while at < len(tokens):
        end = at
        while end < len(tokens) and not RIGHT_TO_LEFT.search(tokens[end]):
            end += 1
        if end == at:
            out.append(tokens[at][::-1])
            at += 1
            continue
        out.extend(reversed(tokens[at:end]))
        at = end
    return out


def body_text(body: pdfplumber.page.Page, base: str = "ltr") -> str:
    """The page's text as a reader takes it in: line by line, but a ruled table cell by cell, row by
    row (line by line would interleave the lines of cells that wrap side by side)."""
    tables = sorted(body.find_tables(), key=lambda table: table.bbox[1])
    if not tables:
        return on_baselines(body, base)
    parts, top = [], 0.0
    width, height = float(body.width), float(body.height)
    for table in tables:
        _x0, table_top, _x1, bottom = (min(max(float(v), 0.0), height) for v in table.bbox)
        if table_top > top:
            parts.append(on_baselines(body.crop((0, top, width, table_top)), base))
        parts.append("\n".join(" ".join(_cell_text(body, cell, base) for cell in row.cells) for row in table.rows))
        top = max(top, bottom)
    if top < height:
        parts.append(on_baselines(body.crop((0, top, width, height)), base))
    return "\n".join(part for part in parts if part.strip())


def _cell_text(body: pdfplumber.page.Page, cell: tuple[float, float, float, float] | None, base: str) -> str:
    """One table cell's text on one line: the characters whose middle lies in it (a tall glyph
    reaching over the cell's edge would otherwise be read in both cells)."""
    if not cell:
        return ""
    x0, top, x1, bottom = cell

    def inside(obj: dict[str, Any]) -> bool:
        return obj.get("object_type") != "char" or (x0 <= (obj["x0"] + obj["x1"]) / 2 < x1 and
                                                     top <= (obj["top"] + obj["bottom"]) / 2 < bottom)
    return " ".join(on_baselines(body.filter(inside), base).split())


def on_baselines(body: pdfplumber.page.Page, base: str = "ltr") -> str:
    """The text line by line, a line being the characters drawn on one baseline (their text
    matrix's y): a word from another font (Arabic from Noto inside Atkinson's line) has its top 8 pt
    lower, which pdfplumber's top-based lines took for a line of its own (and the check for a
    missing word)."""
    lines: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for char in body.chars:
        lines[round(float(char["matrix"][5]), 1)].append(char)
    chars = []
    for line in lines.values():
        top, bottom = min(float(c["top"]) for c in line), max(float(c["bottom"]) for c in line)
        chars += [{**c, "top": top, "bottom": bottom, "doctop": float(c["doctop"]) - float(c["top"]) + top} for c in line]
    text = logical_order(pdfplumber.utils.extract_text(chars) or "", base)
    headings = _heading_lines(list(lines.values()), getattr(body, "root_page", body), base)
    return "\n".join(HEADING_MARK + line if line.strip() and line in headings else line for line in text.split("\n"))


def body_lines(body: pdfplumber.page.Page, base: str = "ltr") -> tuple[list[str], list[float]]:
    """The body's lines top to bottom (the characters on one baseline, in reading order), each with
    its largest type size: where a page ends, and whether that is a heading. A line that closes
    something starts with TABLE_MARK: a line with a rule just under it (a table row's or a box's lower
    border: a table breaks between its rows, which end no sentence), or one whose drawn text ends a sentence."""
    rules = [(float(e["top"]), float(e["x0"]), float(e["x1"])) for e in body.edges if e["orientation"] == "h"]
    lines: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for char in body.chars:
        lines[round(float(char["matrix"][5]), 1)].append(char)
    texts, sizes = [], []
    for baseline in sorted(lines, reverse=True):  # PDF y grows upwards: the top line first
        top = min(float(c["top"]) for c in lines[baseline])  # one line, though another font's glyphs sit lower
        chars = [{**c, "top": top, "doctop": float(c["doctop"]) - float(c["top"]) + top}
                 for c in sorted(lines[baseline], key=lambda c: float(c["x0"]))]
        drawn = " ".join((pdfplumber.utils.extract_text(chars) or "").split())
        text = logical_order(drawn, base)
        bottom, left, right = max(float(c["bottom"]) for c in chars), float(chars[0]["x0"]), float(chars[-1]["x1"])
        ruled = any(bottom <= top <= bottom + RULE_GAP_PT and x0 <= right and x1 >= left for top, x0, x1 in rules)
        closed = ruled or bool(SENTENCE_END.search(drawn))  # as drawn too: an Arabic word in an English
        # line ("Dr. سرطان help?") can be put back in the wrong place, away from the line's "?"
        if text.strip():
            texts.append((TABLE_MARK if closed else "") + text)
            sizes.append(round(max(float(c["size"]) for c in chars), 1))
    return texts, sizes


RULE_GAP_PT = 14.0  # a cell's padding and border below its last line, at most
TABLE_MARK = "\u2062"  # (invisible times) starts a body line that closes a table row, a box or a sentence
HEADING_MARK = "\u2063"  # (invisible separator) starts a line drawn larger than the text around it: a heading, where a section is looked for


def _heading_lines(lines: list[list[dict[str, Any]]], page: pdfplumber.page.Page, base: str) -> set[str]:
    """The text of each line drawn at the page's largest size when that is a fifth larger than its
    smallest text (running header and footer aside): the questions, so "the the the" is looked for
    as a heading and not found in the same words of the answer above it."""
    height = float(page.height)
    sizes = {round(float(c["size"]), 1) for c in page.chars if c["text"].strip() and not is_running(c, height)}
    if not sizes or max(sizes) < 1.2 * min(sizes):
        return set()
    return {logical_order(pdfplumber.utils.extract_text(line) or "", base) for line in lines
            if round(max(float(c["size"]) for c in line), 1) == max(sizes)}


def read_outline(reader: PdfReader) -> list[Bookmark]:
    """Every outline entry, flattened in order, with the page it opens."""
    found: list[Bookmark] = []

    def walk(entries: list[Any]) -> None:
        for entry in entries:
            if isinstance(entry, list):
                walk(entry)
                continue
            try:
                page = reader.get_destination_page_number(entry)
            except (PyPdfError, KeyError, ValueError, AttributeError):
                page = None
            found.append(Bookmark(str(entry.title), page if page is not None and page >= 0 else None))

    walk(reader.outline)
    return found


def _find(haystack: list[str], needle: list[str], start: int) -> int:
    """Index of the first occurrence of the word run `needle` at or after start, or -1."""
    if not needle:
        return -1
    for index in range(start, len(haystack) - len(needle) + 1):
        if haystack[index:index + len(needle)] == needle:
            return index
    return -1


def print_edition(doc: Document, pages: list[Page], say: Words) -> str:
    """Which answers the PDF shows, read from its pages: "both" when a "More detail" sub-heading
    stands on a line of its own, else "plain" or "full", whichever more of the sections' words are in."""
    label = presence.words(say("More detail"))
    if label and any(presence.words(line) == label for page in pages for line in page.lines):
        return "both"
    text = " ".join(page.body_text for page in pages)
    plain = sum(presence.in_order_ratio(s.plain_passages, text) for s in doc.sections)
    full = sum(presence.in_order_ratio(s.full_passages, text) for s in doc.sections)
    return "plain" if plain > full else "full"


def passages(section: Any, edition: str) -> tuple[str, ...]:
    """What the edition must show of a section: its plain passages, its full ones, or both in turn."""
    if edition == "plain":
        return section.plain_passages
    if edition == "both":
        return (*section.plain_passages, *section.full_passages)
    return section.full_passages


def judge_answer(section: Any, edition: str, found: list[str], alts: str, detail: list[str]) -> presence.Presence:
    """A section's words in the edition: in "both", the plain answer before its "More detail" and the
    full one after it, each on its own (matched together, the full text's words could be taken for
    the plain text's alike ones and leave a false gap)."""
    at = _find(found, detail, 0) if edition == "both" else -1
    if at < 0:
        return presence.judge(section.title, passages(section, edition), True, " ".join(found) + " " + alts)
    plain = presence.judge(section.title, section.plain_passages, True, " ".join(found[:at]) + " " + alts)
    full = presence.judge(section.title, section.full_passages, True, " ".join(found[at + len(detail):]) + " " + alts)
    if not plain.present or not full.present:
        return plain if not plain.present else dataclasses.replace(full, detail=f"more detail: {full.detail}")
    return presence.Presence(True, f"plain {plain.detail}, more detail {full.detail}", max(plain.gap or 0, full.gap or 0))


def judge_sections(
    doc: Document, report: FormatReport, pages: list[Page], bookmarks: list[Bookmark], alts: str = "",
    edition: str = "full",
) -> tuple[dict[str, tuple[int, int]], list[int]]:
    """Locate each section's heading via its bookmark, then judge the words up to the next heading
    (pictures' alt texts, which live in the tags and not on the page, count wherever they are).

    Returns where each heading sits in the body's words, and the word index where each page starts
    (plus the end), for the page-layout rules.
    """
    body: list[str] = []
    page_start: list[int] = []
    heads: set[int] = set()  # where a heading line starts in `body`
    for page in pages:
        page_start.append(len(body))
        for line in page.body_text.split("\n"):
            if line.startswith(HEADING_MARK):
                heads.add(len(body))
            body.extend(presence.words(line))
    detail = presence.words(words_for(doc.meta.lang)("More detail"))
    unused = list(bookmarks)  # taken in order, so two questions with the same wording each find their own
    starts: dict[str, tuple[int, int]] = {}  # section id -> (heading position, first word after it)
    cursor = 0
    for section in doc.sections:
        title = presence.words(section.title)
        bookmark = next((b for b in unused if presence.words(b.title) == title), None)
        if bookmark is not None:
            unused.remove(bookmark)
        if bookmark is None or bookmark.page is None or bookmark.page >= len(pages):
            continue
        start = max(cursor, page_start[bookmark.page])
        at = next((h for h in sorted(heads) if h >= start and body[h:h + len(title)] == title), -1)
        at = at if at >= 0 else _find(body, title, start)  # a heading not drawn larger (a test's style sheet)
        if at >= 0:
            starts[section.id] = (at, at + len(title))
            cursor = at + len(title)
    found_at = sorted(position for position, _ in starts.values())
    for section in doc.sections:
        if section.id not in starts:
            why = ("no bookmark" if not any(presence.words(b.title) == presence.words(section.title) for b in bookmarks)
                   else "heading not in the text")
            report.sections[section.id] = presence.Presence(False, f"heading '{section.title}' not found ({why})")
            continue
        position, text_start = starts[section.id]
        text_end = next((p for p in found_at if p > position), len(body))
        report.sections[section.id] = judge_answer(section, edition, body[text_start:text_end], alts, detail)
    return starts, page_start + [len(body)]


@dataclass(frozen=True)
class Tag:
    """One element of the PDF's structure tree: its type, its alt text, and its children's types."""

    kind: str
    alt: str
    children: tuple[str, ...]


def structure(reader: PdfReader) -> list[Tag]:
    """Every element of the tagged structure tree, read from /StructTreeRoot (empty when untagged)."""
    root = reader.trailer["/Root"].get("/StructTreeRoot")
    found: list[Tag] = []
    seen: set[int] = set()

    def visit(node: Any, depth: int) -> list[str]:
        node = node.get_object() if hasattr(node, "get_object") else node
        if depth > 200 or id(node) in seen:
            return []
        seen.add(id(node))
        if isinstance(node, list):
            return [kind for child in node for kind in visit(child, depth + 1)]
        if not isinstance(node, dict) or "/S" not in node:
            return []
        kids = node.get("/K")
        below = visit(kids, depth + 1) if kids is not None else []
        kind = str(node["/S"]).lstrip("/")
        found.append(Tag(kind, str(node.get("/Alt", "")).strip(), tuple(below)))
        return [kind, *below]

    if root is not None:
        visit(root.get_object().get("/K"), 0)
    return found


def check_tags(report: FormatReport, tags: list[Tag]) -> None:
    """Every table has header cells (TH) and every picture (Figure) says what it shows (/Alt)."""
    tables = [tag for tag in tags if tag.kind == "Table"]
    figures = [tag for tag in tags if tag.kind == "Figure"]
    headless = sum(1 for table in tables if "TH" not in table.children)
    silent = sum(1 for figure in figures if not figure.alt)
    report.figures["tables"], report.figures["pictures"] = len(tables), len(figures)
    report.rule("tables and pictures tagged", not headless and not silent,
                f"{len(tables)} table(s), {headless} without TH header cells; "
                f"{len(figures)} picture(s), {silent} without /Alt text")


def check_links(report: FormatReport, reader: PdfReader) -> None:
    """Every link annotation is the child of a `Link` element of the structure tree (PDF/UA-1 7.18.5):
    a screen reader announces it as a link with its words (a note's call once was NonStruct)."""
    root = reader.trailer["/Root"].get("/StructTreeRoot")
    parents: dict[int, Any] = {}
    if root is not None:
        tree = root.get_object().get("/ParentTree")
        nums = list(tree.get_object().get("/Nums", [])) if tree is not None else []
        parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums) - 1, 2)}
    links, untagged = 0, []
    for number, page in enumerate(reader.pages, start=1):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") != "/Link":
                continue
            links += 1
            parent = parents.get(int(annotation.get("/StructParent", -1)))
            kind = str(parent.get_object().get("/S", "")) if parent is not None else ""
            if kind != "/Link":
                untagged.append(f"page {number} ({kind.lstrip('/') or 'untagged'})")
    report.figures["links"] = links
    report.rule("links tagged", not untagged,
                f"{len(untagged)} of {links} link(s) not tagged as Link: {', '.join(untagged[:5])}" if untagged
                else f"{links} link(s), each tagged as a Link")


def check_glossary(doc: Document, report: FormatReport, pages: list[Page], say: Words) -> None:
    """"Words to know" after the answers: its heading, then every term with its meaning, in order."""
    if not doc.meta.glossary:
        return
    body = presence.words(" ".join(page.body_text for page in pages))
    title = presence.words(say("Words to know"))
    last = presence.words(doc.sections[-1].title) if doc.sections else []
    after = max((i for i in range(len(body) - len(last) + 1) if body[i:i + len(last)] == last), default=0)
    at = _find(body, title, after)
    entries = [f"{term} {doc.meta.glossary[term]}" for term in sorted(doc.meta.glossary, key=str.lower)]
    found = presence.in_order(entries, " ".join(body[at + len(title):])) if at >= 0 else None
    ok = found is not None and found.ratio >= float(setting("presence_ratio"))
    report.rule("words to know", ok,
                f"'{say('Words to know')}' not found after the answers" if found is None else
                f"{len(entries)} term(s), {found.ratio:.0%} of their words in order" if ok else
                f"only {found.ratio:.0%} of the glossary's words in order")


def check_care_team(doc: Document, report: FormatReport, pages: list[Page], say: Words) -> None:
    """The handout ends with the care-team line (the source's disclaimer, or the catalog's sentence)."""
    line = formats.care_team_line(doc, say)
    tail = " ".join(page.body_text for page in pages[-2:])
    ratio = presence.in_order_ratio(line, tail)
    report.rule("care-team line", ratio >= float(setting("presence_ratio")),
                f"'{line}' at the end" if ratio >= float(setting("presence_ratio"))
                else f"'{line}' not at the end ({ratio:.0%} of its words)")


SENTENCE_END = re.compile("[.!?:;…。！？；：؟۔।»”\"')\\]]$")
LIST_MARKER = re.compile(r"^(?:[•◦▪‣·–-]|\(?\w{1,3}[.)])\s")


def _ends_sentence(line: str, base: str) -> bool:
    """Whether a line ends a sentence (a right-to-left line's full stop may be read at either end)."""
    line = line.strip()
    if line.startswith(TABLE_MARK):
        return True  # a table row (never split, and a page may end between rows), or a sentence's end
    return bool(SENTENCE_END.search(line)) or (base == "rtl" and bool(SENTENCE_END.search(line[:1])))


def block_endings(doc: Document) -> set[tuple[str, ...]]:
    """The last words of every paragraph, item and row of the source: a page may end there though no
    full stop does (a paragraph ending in an emoji or a phone number)."""
    ends: set[tuple[str, ...]] = set()
    for section in doc.sections:
        for pieces in (section.pieces, section.plain_pieces):
            last = {piece.group: piece.text for piece in pieces}
            ends |= {tuple(presence.words(text)[-3:]) for text in last.values() if presence.words(text)}
    return ends


def _ends_block(line: str, endings: set[tuple[str, ...]]) -> bool:
    """Whether a line ends as one of the source's paragraphs, items or rows does (a line of no words,
    an emoji alone, splits no sentence)."""
    tail = presence.words(line)[-3:]
    return not tail or any(tuple(end[-len(tail):]) == tuple(tail) for end in endings if len(end) >= len(tail))


def check_sentences_kept(report: FormatReport, pages: list[Page], bookmarks: list[Bookmark], base: str = "ltr",
                         endings: set[tuple[str, ...]] | None = None) -> None:
    """No page ends inside a sentence of an answer that would fit on one page: between two headings
    (lines drawn a sixth larger than the text), a page may end mid-sentence only when that stretch
    has more lines than the fullest page holds (it cannot help breaking). A page ending at a full
    stop, a table row, a list item or the end of one of the source's paragraphs ends no sentence."""
    first = min((b.page for b in bookmarks if b.page is not None), default=0)
    body = pages[first:]
    sizes = Counter(size for page in body for size in page.line_sizes)
    if not sizes:
        report.rule("sentences kept on one page", True, "no answers' text to judge")
        return
    text_size = sizes.most_common(1)[0][0]
    heading = [[size >= 1.15 * text_size for size in page.line_sizes] for page in body]
    capacity = max(sum(1 for big in marks if not big) for marks in heading)
    runs, count = [], 0  # on each page, the lines since the last heading at its foot
    for marks in heading:
        for big in marks:
            count = 0 if big else count + 1
        runs.append(count)
    split = []
    for index in range(len(body) - 1):
        page, following = body[index], body[index + 1]
        if not page.lines or not following.lines or heading[index][-1] or heading[index + 1][0]:
            continue
        if _ends_sentence(page.lines[-1], base) or LIST_MARKER.match(following.lines[0]) or _ends_block(page.lines[-1], endings or set()):
            continue
        after = next((n for n, big in enumerate(heading[index + 1]) if big), len(heading[index + 1]))
        length = runs[index] + after
        if length <= capacity:
            split.append(f"page {first + index + 1} ends '…{page.lines[-1][-30:]}' ({length} lines, a page holds {capacity})")
    report.rule("sentences kept on one page", not split,
                "; ".join(split[:4]) if split else "no page ends inside a sentence of an answer that fits on one page")


def check_headings_kept(doc: Document, report: FormatReport, starts: dict[str, tuple[int, int]],
                        page_bounds: list[int], edition: str = "full") -> None:
    """No question stands alone at the foot of a page: its first words follow it on the same page
    (those of the answer printed first: a two-word plain answer under its question is not alone)."""
    stranded = []
    for section in doc.sections:
        if section.id not in starts:
            continue
        position, text_start = starts[section.id]
        page_end = next(bound for bound in page_bounds[1:] if bound > position)
        first_answer = passages(section, "plain" if edition == "both" else edition)
        if page_end - text_start < min(HEADING_KEEP_WORDS, len(presence.words(" ".join(first_answer)))):
            stranded.append(section.id)
    report.rule("headings kept with their text", not stranded,
                f"heading alone at a page foot: {', '.join(stranded)}" if stranded
                else "every heading has its first lines under it on the same page")


def check_type(report: FormatReport, pages: list[Page]) -> None:
    """The smallest body type and the smallest running header/footer type."""
    body_min, running_min = (float(v) for v in setting("large_print_min_pt"))
    body_sizes = [s for p in pages for s in p.body_sizes]
    running_sizes = [s for p in pages for s in p.running_sizes]
    smallest_body = min(body_sizes, default=0.0)
    smallest_running = min(running_sizes, default=0.0)
    report.figures["smallest_body_pt"] = smallest_body
    report.figures["smallest_running_pt"] = smallest_running
    report.rule("body type size", smallest_body >= body_min,
                f"smallest body text {smallest_body:g} pt (need at least {body_min:g} pt)")
    report.rule("running header/footer type size", bool(running_sizes) and smallest_running >= running_min,
                f"smallest header/footer text {smallest_running:g} pt (need at least {running_min:g} pt)")


def _fonts_of(resources: Any, seen: set[int], fonts: dict[str, bool]) -> None:
    """Collect the fonts of a resource dictionary (and of its form XObjects) with their embedding."""
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        name = SUBSET_PREFIX.sub("", str(font.get("/BaseFont", font.get("/Name", "unnamed"))).lstrip("/"))
        fonts[name] = fonts.get(name, True) and _embedded(font) and not _lacks_glyphs(font)
    for xobject in (resources.get("/XObject") or {}).values():
        ref = getattr(xobject, "idnum", None)
        if ref in seen:
            continue
        seen.add(ref)
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            _fonts_of(xobject.get("/Resources"), seen, fonts)


def _embedded(font: Any) -> bool:
    """Whether a font's program is inside the PDF (Type 3 fonts always are)."""
    if font.get("/Subtype") == "/Type3":
        return True
    if font.get("/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    descriptor = descriptor.get_object()
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def _lacks_glyphs(font: Any) -> bool:
    """Whether WeasyPrint drew some of this font's characters as empty boxes: it marks a font it
    lacked glyphs for with its own CMap (`WP-Encod-0`) that maps them to .notdef (a Korean date in
    Atkinson Hyperlegible was printed as boxes, and pdfminer could read none of that font's text)."""
    encoding = font.get("/Encoding")
    encoding = encoding.get_object() if encoding is not None else None
    return hasattr(encoding, "get") and str(encoding.get("/CMapName", "")).startswith("/WP-Encod")


def check_fonts(report: FormatReport, reader: PdfReader) -> None:
    """Every font used on every page is embedded, so it prints as designed anywhere, and has a
    glyph for every character it was asked to draw."""
    fonts: dict[str, bool] = {}
    seen: set[int] = set()
    for page in reader.pages:
        _fonts_of(page.get("/Resources"), seen, fonts)
    report.figures["fonts"] = sorted(fonts)
    loose = sorted(name for name, embedded in fonts.items() if not embedded)
    report.rule("fonts embedded", bool(fonts) and not loose,
                f"not embedded, or drawing characters it lacks as boxes: {', '.join(loose)}" if loose
                else f"{len(fonts)} font(s), all embedded, every character drawn")


def check_outline(doc: Document, report: FormatReport, bookmarks: list[Bookmark]) -> None:
    """One bookmark per section, in the document's order, each opening a page."""
    expected = [" ".join(presence.words(s.title)) for s in doc.sections]
    actual = [" ".join(presence.words(b.title)) for b in bookmarks]
    missing = [s.title for s, want in zip(doc.sections, expected) if want not in actual]
    in_order = [a for a in actual if a in expected] == [e for e in expected if e in actual]
    dangling = [b.title for b in bookmarks if b.page is None]
    ok = not missing and in_order and not dangling and len(actual) == len(expected)
    if ok:
        detail = f"{len(bookmarks)} bookmarks, one per section, in order"
    else:
        problems = [f"missing: {'; '.join(missing)}"] if missing else []
        problems += [] if in_order else ["out of order"]
        problems += [f"open no page: {'; '.join(dangling)}"] if dangling else []
        problems += [] if len(actual) == len(expected) else [f"{len(actual)} bookmarks for {len(expected)} sections"]
        detail = ", ".join(problems)
    report.rule("outline", ok, detail)


def _true(flag: Any) -> bool:
    """A PDF boolean read as Python's (pypdf's BooleanObject(False) is truthy)."""
    return getattr(flag, "value", flag) is True


def check_catalog(doc: Document, report: FormatReport, reader: PdfReader) -> None:
    """The document-level accessibility entries a screen reader and a viewer rely on."""
    root = reader.trailer["/Root"]
    lang = str(root.get("/Lang", ""))
    report.rule("/Lang", lang.lower() == doc.meta.lang.lower(), f"/Lang is {lang!r} (source says {doc.meta.lang!r})")
    report.rule("/StructTreeRoot", "/StructTreeRoot" in root, "tagged structure tree present"
                if "/StructTreeRoot" in root else "no structure tree: not a tagged PDF")
    marked = _true((root.get("/MarkInfo") or {}).get("/Marked"))
    report.rule("/MarkInfo Marked", marked, f"/MarkInfo /Marked is {marked}")
    display = _true((root.get("/ViewerPreferences") or {}).get("/DisplayDocTitle"))
    report.rule("DisplayDocTitle", display, f"/DisplayDocTitle is {display}")
    labels = reader.page_labels if "/PageLabels" in root else []
    report.rule("page labels", len(labels) == len(reader.pages),
                f"labels {labels[0]}..{labels[-1]}" if labels else "no /PageLabels")
    info = reader.metadata or {}
    wanted = {"/Title": doc.meta.title, "/Author": doc.meta.publisher,
              "/Subject": doc.meta.description, "/Keywords": ", ".join(doc.meta.keywords)}
    wrong = [key for key, value in wanted.items() if value and str(info.get(key, "")).strip() != value]
    report.rule("metadata", not wrong, f"wrong or missing: {', '.join(wrong)}" if wrong
                else "title, author, subject and keywords match the source")


def check_running(report: FormatReport, pages: list[Page], title: str, say: Words) -> None:
    """Every page carries the title at the top and "Page X of Y" (in the handout's language) at the
    foot, compared without spaces (a PDF's text splits Persian "صفحهٔ" around its hamza)."""
    total = len(pages)
    page_words = say("Page {page} of {pages}")
    want_title = presence.words(title)
    bad = [
        str(number)
        for number, page in enumerate(pages, start=1)
        if "".join(presence.words(page_words.format(page=number, pages=total))) not in "".join(presence.words(page.running_text))
        or "".join(want_title) not in "".join(presence.words(page.running_text))
    ]
    report.rule("running header and footer", total > 0 and not bad,
                f"missing on page(s) {', '.join(bad)}" if bad else f"title and 'Page X of {total}' on every page")


def check_reading_order(report: FormatReport, pages: list[Page], stored: list[str], base: str = "ltr") -> None:
    """Text extracts, and the order it is stored in (what assistive tech reads) matches the layout,
    page by page (a handout that repeats itself could otherwise be matched a page out of step). A
    right-to-left handout's pages are compared word for word as a bag (see `_letters_on_the_page`)."""
    laid_out = " ".join(p.body_text for p in pages)
    texts = [_without_list_markers(page.body_text) for page in pages]
    counts = [len(presence.words(text)) for text in texts]
    in_order = _letters_on_the_page if base == "rtl" else presence.in_order_ratio
    matched = sum(in_order(laid, text) * count for laid, text, count in zip(texts, stored, counts))
    ratio = matched / sum(counts) if sum(counts) else 0.0
    threshold = float(setting("presence_ratio"))
    report.figures["reading_order_ratio"] = round(ratio, 3)
    report.rule("text in reading order", bool(presence.words(laid_out)) and ratio >= threshold,
                f"{ratio:.0%} of the words stored in the order they are laid out")


def _without_list_markers(text: str) -> str:
    """A page's lines without their list numbers and bullets: WeasyPrint stores a list's markers
    after the page's text, where no reader meets them first (a page of two short numbered lists,
    the plain steps and their "More detail", fell under the threshold on its markers alone)."""
    return "\n".join(LIST_MARKER.sub("", line) for line in text.split("\n"))


def _letters_on_the_page(laid_out: str, stored: str) -> float:
    """Share of the laid-out letters and digits found among the stored ones of the same page, as a
    bag: a right-to-left page's stored text comes in the drawn order of each line's runs, and pypdf
    joins words where it moves a full stop ("الشديدوهو"), so only that every letter is there, on its
    page, is judged."""
    want, have = (Counter(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum()) for text in (laid_out, stored))
    total = sum(want.values())
    return sum(min(count, have[char]) for char, count in want.items()) / total if total else 1.0
