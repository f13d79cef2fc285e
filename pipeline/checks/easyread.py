"""The Easy Read edition, read from its two built files: the PDF's tagged rows and the page's rows.

A row is a list item of the PDF's structure tree (a `Figure` with its alt text, if it has a picture,
and the `P` of its sentence, whose words are the page's characters marked with that paragraph's
marked-content ids) or a `<li class="row">` of the page. Each section is looked for under its
question heading in both, its words in order: the author's `::: easyread` text when written, else
the plain rendition's (`presence`). Rules: every sentence within `easyread_words_max` words (each
longer one named; advisory, a warning that does not fail the check: the limit is a writing guideline,
which `lint` enforces where the author can act), every picture with alt text, type at least 16 pt, fonts embedded, tagged with
the handout's language, every question on the page of its first row; the rows without a picture are counted (a marker stands there, by design).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .. import formats, icons
from ..model import Document, Section
from ..source.easyread import count_words, words_max
from . import FormatReport, interface_words
from .pdf import check_fonts, is_running, logical_order
from ..language.scripts import counting_unit, direction
from .presence import judge, words

FORMAT = "easyread"
PAGE = "easy-read.html"
MIN_PT = 16.0


@dataclass(frozen=True)
class Row:
    """One row as a built file shows it: the question it is under, its sentence and its picture's alt text."""

    heading: str
    text: str
    picture: bool
    alt: str
    page: int = 0  # the PDF page it is printed on (the page's rows: 0)
    heading_page: int = 0  # the PDF page its question is printed on


def check(doc: Document, out_dir: Path) -> FormatReport:
    """Judge every section and rule of the guide's PDF and page."""
    report = FormatReport(FORMAT)
    pdf_path = out_dir / formats.main_file(FORMAT, doc.name)
    page_path = out_dir / PAGE
    if not pdf_path.is_file() and icons.unavailable():
        report.unavailable = icons.unavailable()  # seen here, not taken from the build
        return report
    for path in (pdf_path, page_path):
        if not path.is_file():
            return report.missing(doc, f"{path.name} not found")
    try:
        printed, sizes = pdf_rows(pdf_path, direction(doc.meta.lang))
        reader = PdfReader(pdf_path)
    except (PyPdfError, OSError, ValueError, KeyError) as exc:
        return report.missing(doc, f"{pdf_path.name} is not a readable PDF: {exc}")
    try:
        page = lxml.html.fromstring(page_path.read_bytes())
    except (etree.ParserError, ValueError) as exc:
        return report.missing(doc, f"{PAGE} cannot be parsed: {exc}")
    shown = page_rows(page)
    for section in doc.sections:
        report.sections[section.id] = judge_section(section, printed, shown)
    with report.guard("sentences short"):
        short_rows(report, printed, doc.meta.lang)
    with report.guard("questions kept with their rows"):
        kept_together(report, printed)
    with report.guard("pictures described"):
        described(report, printed, shown)
    with report.guard("type size"):
        smallest = round(min(sizes, default=0.0), 1)
        report.figures["smallest_pt"] = smallest
        report.rule("type size", smallest >= MIN_PT, f"smallest text {smallest:g} pt (need at least {MIN_PT:g} pt)")
    with report.guard("fonts embedded"):
        check_fonts(report, reader)
    with report.guard("tagged"):
        root = reader.trailer["/Root"]
        lang = str(root.get("/Lang", ""))
        report.rule("tagged", "/StructTreeRoot" in root and lang.lower() == doc.meta.lang.lower(),
                    f"structure tree {'present' if '/StructTreeRoot' in root else 'missing'}, /Lang {lang!r}")
    with report.guard("no English interface words"):
        interface_words.check(report, doc, [interface_words.shown(page, doc.meta.lang)])
    report.figures["pages"] = len(reader.pages)
    report.figures["rows"] = len(printed)
    report.figures["rows_without_picture"] = sum(not row.picture for row in printed)
    return report


def judge_section(section: Section, printed: list[Row], shown: list[Row]) -> Any:
    """Present when the section's words are in order under its question in both the PDF and the page."""
    expected = (" ".join(row.text for row in section.easy_rows) if section.easy_written
                else (section.plain_text, *section.plain_asides[: section.plain_notes]))
    verdicts = []
    for name, rows in (("PDF", printed), ("page", shown)):
        under = [row for row in rows if words(row.heading) == words(section.title)]
        verdicts.append((name, judge(section.title, expected, bool(under), " ".join(row.text for row in under))))
    wrong = [(name, found) for name, found in verdicts if not found.present]
    if wrong:
        name, found = wrong[0]
        return type(found)(False, f"{name}: {found.detail}", found.gap)
    return verdicts[0][1]


def short_rows(report: FormatReport, rows: list[Row], lang: str) -> None:
    """Every printed sentence within the Easy Read limit; the longer ones named."""
    limit, unit = words_max(lang), counting_unit(lang)
    counts = [count_words(row.text, lang) for row in rows]
    long = [(row, count) for row, count in zip(rows, counts) if count > limit]
    report.figures["longest_row_words"] = max(counts, default=0)
    named = "; ".join(f"'{row.text}' ({count} {unit}s)" for row, count in long[:3])
    report.rule("sentences short", not long, f"{len(long)} row(s) over {limit} {unit}s: {named} (lint names "
                "each; a ::: easyread div says it shorter)" if long else f"{len(rows)} rows, each {limit} {unit}s or fewer",
                advisory=True)


def kept_together(report: FormatReport, rows: list[Row]) -> None:
    """Every question printed on the page of its first row: a heading alone at a page's foot (or on
    a page of its own) leaves a reader who turns the page without the question."""
    first: dict[str, Row] = {}
    for row in rows:
        first.setdefault(row.heading, row)
    apart = [row.heading for row in first.values() if row.page != row.heading_page]
    report.rule("questions kept with their rows", not apart,
                f"printed apart from their first row: {'; '.join(apart[:3])}" if apart
                else f"{len(first)} headings, each on the page of its first row")


def described(report: FormatReport, printed: list[Row], shown: list[Row]) -> None:
    """Every picture in the PDF and on the page has alt text."""
    bare = [row.text for row in printed + shown if row.picture and not row.alt.strip()]
    pictures = sum(row.picture for row in printed)
    report.rule("pictures described", pictures > 0 and not bare,
                f"pictures without alt text beside: {'; '.join(bare[:3])}" if bare
                else f"{pictures} pictures in the PDF, each with alt text")


def pdf_rows(path: Path, base: str = "ltr") -> tuple[list[Row], list[float]]:
    """The PDF's rows in reading order, from its structure tree, and the size of every character
    (`base`: the handout's direction, which its lines are read in)."""
    import pdfplumber
    from pdfplumber.structure import PDFStructTree

    rows: list[Row] = []
    with pdfplumber.open(path) as pdf:
        pages = pdf.pages
        heading, heading_page = "", 0
        for element in _walk(list(PDFStructTree(pdf))):
            if element.type in ("H1", "H2"):
                heading, heading_page = _text(pages, element, base), element.page_number or 0
            elif element.type == "LI":
                figures = [e for e in _walk(element.children) if e.type == "Figure"]
                said = " ".join(_text(pages, e, base) for e in _walk(element.children) if e.type == "P")
                rows.append(Row(heading, said, bool(figures), " ".join(f.alt_text or "" for f in figures),
                                element.page_number or 0, heading_page))
        sizes = [char["size"] for page in pages for char in page.chars
                 if not is_running(char, page.height) and char["text"].strip()]
    return rows, sizes


def _walk(elements: list[Any]) -> list[Any]:
    """Every structure element below these, in document order."""
    found = []
    for element in elements:
        found.append(element)
        found += _walk(element.children)
    return found


def _text(pages: list[Any], element: Any, base: str) -> str:
    """The words an element's marked content draws on its page, each line in reading order."""
    if element.page_number is None:
        return ""
    ids = {mcid for _, mcid in element.all_mcids()}  # an element and its spans lie on one page (rows never split)
    page = pages[element.page_number - 1]
    text = page.filter(lambda obj: obj.get("mcid") in ids).extract_text() if ids else ""
    return re.sub(r"\s+", " ", logical_order(text, base)).strip()


def page_rows(page: lxml.html.HtmlElement) -> list[Row]:
    """The page's rows in reading order, each under the heading before it."""
    rows: list[Row] = []
    heading = ""
    for element in page.iter("h1", "h2", "li"):
        if element.tag in ("h1", "h2"):
            heading = " ".join(element.text_content().split())
        elif "row" in (element.get("class") or "").split():
            images = element.xpath(".//img")
            text = " ".join(" ".join(p.text_content().split()) for p in element.xpath(".//p"))
            rows.append(Row(heading, text, bool(images), " ".join(img.get("alt", "") for img in images)))
    return rows
