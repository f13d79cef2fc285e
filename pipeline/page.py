"""The HTML page every HTML-based format starts from (the web page, the PDF handout, EPUB chapters).

A derived format reuses this rendering and adds one step (WeasyPrint for the PDF), as nbconvert's
WebPDFExporter extends its HTMLExporter.
"""

from __future__ import annotations

import re
from html import escape
from typing import Callable

import lxml.html
from lxml import etree

from .language.scripts import direction
from .model import Document

NO_MARKUP = {"a", "abbr", "dfn", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "summary"}
TermLink = Callable[[str, str], etree._Element]  # (glossary term, the words as written) -> the link element


def document(doc: Document, body: str, *, title: str | None = None, head: str = "", css: str = "",
             xhtml: bool = False) -> str:
    """A complete HTML5 (or XHTML for EPUB) page with the document's language and title."""
    lang = escape(doc.meta.lang, quote=True)
    written = ' dir="rtl"' if direction(doc.meta.lang) == "rtl" else ""  # Arabic, Farsi, Hebrew run right to left
    page_title = escape(title or doc.meta.title)
    style = f"<style>\n{css}\n</style>\n" if css else ""
    if xhtml:
        opening = (
            '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
            f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
            f'lang="{lang}" xml:lang="{lang}"{written}>\n'
        )
        charset = '<meta charset="utf-8"/>'
    else:
        opening = f'<!DOCTYPE html>\n<html lang="{lang}"{written}>\n'
        charset = '<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">'
    return (
        f"{opening}<head>\n{charset}\n<title>{page_title}</title>\n{head}{style}</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def heading(section_id: str, title: str, level: int = 2) -> str:
    """A section heading carrying the section's stable id."""
    return f'<h{level} id="{escape(section_id, quote=True)}">{escape(title)}</h{level}>'


def text(value: str) -> str:
    """Plain text made safe for HTML."""
    return escape(value)


def fragment(html: str) -> lxml.html.HtmlElement:
    """Parse an HTML fragment under one <div> so it can be walked and changed safely."""
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


def serialize(root: lxml.html.HtmlElement) -> str:
    """The children of a fragment's wrapper <div>, back as HTML text."""
    inner = escape(root.text or "", quote=False)
    return inner + "".join(lxml.html.tostring(child, encoding="unicode", method="html") for child in root)


def term_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern of whole terms, longest first so "lymph nodes" beats "lymph"."""
    if not terms:
        return None
    ordered = sorted(terms, key=lambda t: (-len(t), t.lower()))
    alternatives = "|".join(r"\s+".join(re.escape(word) for word in term.split()) for term in ordered)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.I)


def mark_glossary(html: str, glossary: dict[str, str], link: TermLink, used: set[str] | None = None) -> str:
    """Link each glossary term's first use to its definition (made by `link`), touching text nodes
    only; `used` carries the terms already linked in this section across several fragments."""
    pattern = term_pattern(list(glossary))
    if pattern is None:
        return html
    by_key = {" ".join(term.lower().split()): term for term in glossary}
    root = fragment(html)
    _mark_element(root, pattern, by_key, link, set() if used is None else used)
    return serialize(root)


def _mark_element(element: etree._Element, pattern: re.Pattern[str], by_key: dict[str, str], link: TermLink,
                  used: set[str]) -> None:
    """Mark terms in this element's text, then in each child and the text after it, in reading order."""
    if not isinstance(element.tag, str) or element.tag in NO_MARKUP:
        return
    lead, links = _split_text(element.text, pattern, by_key, link, used)
    children = list(element)
    element.text = lead
    for position, made in enumerate(links):
        element.insert(position, made)
    for child in children:
        _mark_element(child, pattern, by_key, link, used)
        lead, links = _split_text(child.tail, pattern, by_key, link, used)
        child.tail = lead
        anchor = child
        for made in links:
            anchor.addnext(made)
            anchor = made


def _split_text(value: str | None, pattern: re.Pattern[str], by_key: dict[str, str], link: TermLink,
                used: set[str]) -> tuple[str | None, list[etree._Element]]:
    """A text node cut into the text before the first new term and term links (each with its tail)."""
    if not value:
        return value, []
    lead: str | None = None
    links: list[etree._Element] = []
    cursor = 0
    for match in pattern.finditer(value):
        term = by_key.get(" ".join(match.group(0).lower().split()))
        if term is None or term in used:
            continue
        used.add(term)
        before = value[cursor:match.start()]
        if links:
            links[-1].tail = before
        else:
            lead = before
        links.append(link(term, match.group(0)))
        cursor = match.end()
    if not links:
        return value, []
    links[-1].tail = value[cursor:]
    return lead, links
