"""The HTML page every HTML-based format starts from (the web page, the PDF handout, EPUB chapters).

A derived format reuses this rendering and adds one step (WeasyPrint for the PDF), as nbconvert's
WebPDFExporter extends its HTMLExporter.
"""

from __future__ import annotations

from html import escape

from .model import Document


def document(doc: Document, body: str, *, title: str | None = None, head: str = "", css: str = "",
             xhtml: bool = False) -> str:
    """A complete HTML5 (or XHTML for EPUB) page with the document's language and title."""
    lang = escape(doc.meta.lang, quote=True)
    page_title = escape(title or doc.meta.title)
    style = f"<style>\n{css}\n</style>\n" if css else ""
    if xhtml:
        opening = (
            '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
            f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
            f'lang="{lang}" xml:lang="{lang}">\n'
        )
        charset = '<meta charset="utf-8"/>'
    else:
        opening = f'<!DOCTYPE html>\n<html lang="{lang}">\n'
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
