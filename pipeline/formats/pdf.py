"""The large-print PDF handout a clinic prints: each answer in plain words, then in more detail.

Which answers it holds is the `print` setting (`--print plain|full|both`; both by default: the plain
answer, then a "More detail" sub-heading with the original wording), the same choice the braille
edition offers; "Words to know" (the glossary) and the care-team line close it. With `base_url` (where
the clinic publishes the built folder) page 1 carries a QR code to the web page with its address
beside it, and each answer a small one to its own place on that page, where the patient finds the
same answer to read and its recording to play (a code straight to an MP3 would open a bare player
with nothing to read and no way to the other answers); without it, page 1 says whom to ask.

It is the shared HTML page (`pipeline.page.document`) plus one step, WeasyPrint, with
`styles/large-print.css`, Atkinson Hyperlegible embedded, tagged as PDF/UA-1 with one bookmark per
section, page labels, and dates and file identifier taken from SOURCE_DATE_EPOCH so that two builds
of the same source are byte-identical. WeasyPrint may only read files of the project (the
stylesheet, the packaged fonts, images under the project): never the network, never elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from .. import fonts, formats
from . import _print
from ._print import PICTURES_BASE, RefusedResource, add_page_labels, css_content, css_string  # noqa: F401 (this format's surface)
from ..engine.cache import fingerprint, write_atomic
from ..config import STYLES_DIR
from ..manifest import Manifest
from ..rendering import section_html
from ..model import Document, Metadata, Section
from ..language.scripts import direction
from ..language.words import N_, Words, words_for
from ..page import document, heading

if TYPE_CHECKING:
    from ..engine.build import BuildOptions

NAME = "pdf"
LABEL = N_("large-print handout")
ARTICLED = N_("a large-print handout")
RANK = 30
NEEDS: tuple[str, ...] = ()
PRINT_EDITIONS = ("both", "plain", "full")


def web_base(value: object) -> str:
    """`base_url` as given: empty, or an http(s) address a phone can open (a code to a bare path cannot)."""
    text = str(value).strip()
    parts = urlsplit(text)
    if text and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ValueError(f"base_url must be an http:// or https:// address, not {text!r}")
    return text


SETTINGS = (
    _print.PAPER,
    formats.Setting("print", "the answers the print editions (PDF, braille) hold: both (plain words, then "
                             "'More detail' with the full text), plain or full", choices=PRINT_EDITIONS, flag="--print"),
    formats.Setting("base_url", "where the built output folder is published (https://clinic.example/handouts/): "
                                "the PDF's QR codes lead there; empty, no codes", type=web_base, flag="--base-url",
                    metavar="URL"),
)
MORE_DETAIL = N_("More detail")
GLOSSARY_TITLE = N_("Words to know")
QR_ALT = N_("QR code to {url}")
SCAN = N_("Scan the code with a phone camera, or type this address:")
ASK_CONTACT = N_("Call {contact}.")  # the narration's closing line too

STYLESHEET = STYLES_DIR / "large-print.css"


def published(name: str) -> tuple[formats.Publication, ...]:
    """The handout a clinic prints."""
    return (formats.Publication(f"{name}.pdf", N_("Large-print handout"), "PDF", N_("PDF, to print or zoom")),)


def __getattr__(name: str) -> Any:
    """`HandoutFetcher`, made on first use so that discovering the formats never imports WeasyPrint."""
    if name == "HandoutFetcher":
        return _print._fetcher_class()
    raise AttributeError(name)


def font_faces(folder: Path | None) -> str:
    """@font-face rules embedding the packaged font files."""
    return _print.font_faces(folder)


def font_dir() -> Path | None:
    """The packaged fonts' folder (a seam tests use to check the sans-serif fallback)."""
    return fonts.font_dir()


def stylesheet(paper: str, css: str | None = None, say: Words | None = None) -> str:
    """The handout's CSS: font faces, the large-print rules (or `css`, e.g. a test's), paper size,
    and the words CSS writes itself ("Page 2 of 6", "(note 1)") in the handout's language."""
    rules = STYLESHEET.read_text(encoding="utf-8") if css is None else css
    size = _print.page_size(paper)
    say = say or words_for("en")
    page = css_content(say("Page {page} of {pages}"), page="counter(page)", pages="counter(pages)")
    before, _, after = say("(note {number})").partition("{number}")
    corner = "bottom-left" if direction(say.lang) == "rtl" else "bottom-right"  # where the reader's eye ends
    return (f"{font_faces(font_dir())}\n{rules}\n@page {{ size: {size}; @{corner} {{ content: {page}; }} }}\n"
            f'a.noteref sup::before {{ content: "\\a0{css_string(before)}"; }}\n'
            f'a.noteref sup::after {{ content: "{css_string(after)}"; }}\n')


def creation_date(meta: Metadata, source_date_epoch: int | None) -> str:
    """The PDF's creation date: SOURCE_DATE_EPOCH when set (reproducible), else the source's date."""
    if source_date_epoch is not None:
        moment = dt.datetime.fromtimestamp(source_date_epoch, dt.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        return dt.date.fromisoformat(meta.date).isoformat()
    except ValueError:
        return ""


def head_meta(meta: Metadata, created: str) -> str:
    """<meta> elements WeasyPrint turns into the PDF's Author, Subject, Keywords and dates."""
    fields = [("author", meta.publisher), ("description", meta.description or meta.subtitle),
              ("keywords", ", ".join(meta.keywords)), ("generator", "faq-pipeline"),
              ("dcterms.created", created), ("dcterms.modified", created)]
    return "".join(
        f'<meta name="{name}" content="{escape(value, quote=True)}">\n' for name, value in fields if value
    )


def first_page(doc: Document, base_url: str = "") -> str:
    """What a clinic hands out on page one: title, subtitle, date, publisher, about (with the way to
    the other formats: a code and an address, or whom to ask), contents."""
    meta = doc.meta
    say = words_for(meta.lang)
    lines = [f"<h1>{escape(meta.title)}</h1>"]
    if meta.subtitle:
        lines.append(f'<p class="subtitle">{escape(meta.subtitle)}</p>')
    if meta.date:
        lines.append(f'<p class="edition">{say.html("Updated {date}", date=say.date(meta.date))}</p>')
    if meta.publisher:
        lines.append(f'<p class="publisher">{say.html("From {publisher}", publisher=meta.publisher)}</p>')
    others = formats.in_words([n for n in formats.names() if n != NAME], say)
    about = f"{say.html('This large-print handout also comes as {formats}.', formats=others)}"
    lines.append(
        '<section class="about" aria-labelledby="handout_about">'
        f'<h2 id="handout_about"{say.lang_attr}>{say.html("About this handout")}</h2>'
        f"{way_to_the_others(doc, about, base_url, say)}</section>"
    )
    entries = "".join(
        f'<li><a href="#{escape(s.id, quote=True)}">{escape(s.title)}</a></li>' for s in doc.sections
    )
    lines.append(
        '<section class="contents" aria-labelledby="handout_contents">'
        f'<h2 id="handout_contents"{say.lang_attr}>{say.html("Contents")}</h2><ol>{entries}</ol></section>'
    )
    return '<section class="cover">\n' + "\n".join(lines) + "\n</section>"


def way_to_the_others(doc: Document, about: str, base_url: str, say: Words) -> str:
    """The "about" box's text, then the way to the other formats: a code to the web page beside its
    address in text (a patient may type it), else whom to ask (the care team, and `contact` when set)."""
    if not base_url:
        call = f" {say.html(ASK_CONTACT, contact=doc.meta.contact)}" if doc.meta.contact else ""
        return f"<p{say.lang_attr}>{about} {say.html('Ask your care team for the one that suits you.')}{call}</p>"
    url = web_address(base_url, doc.name)
    return (f'<div class="reach">{qr_image(url, say, "qr-cover")}<div>'
            f"<p{say.lang_attr}>{about} {say.html(SCAN)}</p>"
            f'<p class="address" lang="en" dir="ltr">{address_lines(url)}</p></div></div>')


def address_lines(url: str) -> str:
    """The address as HTML that wraps only after a slash: a line ending "breast-" would leave a reader
    (and a PDF's text) unsure whether the hyphen is part of the address."""
    parts = re.findall(r"[^/]*/+|[^/]+$", url)
    return "<wbr>".join(f'<span class="whole">{escape(part)}</span>' if len(part) <= 30 else escape(part)
                        for part in parts)


def web_address(base_url: str, name: str, section_id: str = "") -> str:
    """The published web page of the handout (`{base_url}{name}/index.html`), or one answer on it."""
    url = f"{base_url.rstrip('/')}/{name}/index.html"
    return f"{url}#{section_id}" if section_id else url


def qr_image(url: str, say: Words, kind: str) -> str:
    """A vector QR code (SVG, as a data: URL WeasyPrint may read) tagged as a Figure whose alt text names its address."""
    import segno

    code = segno.make(url, error="m", micro=False)
    return (f'<img class="qr {kind}" src="{code.svg_data_uri(border=4, dark="#000", light="#fff")}" '
            f'alt="{escape(say(QR_ALT, url=url), quote=True)}">')


def section_code(doc: Document, section: Section, base_url: str, say: Words) -> str:
    """A small code to the answer on the web page, where it is read and played (nothing without `base_url`)."""
    if not base_url:
        return ""
    url = web_address(base_url, doc.name, section.id)
    return (f'<div class="section-qr">{qr_image(url, say, "qr-section")}'
            f'<p{say.lang_attr}>{say.html("Listen to this answer")}</p></div>')


WHOLE_CHARS = 700  # a paragraph or item up to about 12 lines of large print is never split across pages


def kept_whole(html: str) -> str:
    """The rendition with its short paragraphs and items marked `whole` (the style sheet keeps them on
    one page); a longer one may break, with three lines each side (WeasyPrint, told to keep a block
    taller than a page whole, pushes it and its heading to a page of their own)."""
    from ..page import fragment, serialize

    root = fragment(html)
    for block in root.iter("p", "li", "dd"):
        if len(block.text_content()) <= WHOLE_CHARS:
            block.set("class", f"{block.get('class', '')} whole".strip())
    return serialize(root)


def answers(doc: Document, section: Section, edition: str, base_url: str, say: Words) -> str:
    """The section's answer as the print edition chooses: plain, full, or plain then "More detail"."""
    first = "full" if edition == "full" else "plain"
    parts = [f'<div class="answer {first}">{kept_whole(section_html(doc, section, first))}</div>',
             section_code(doc, section, base_url, say)]
    if edition == "both":
        detail = f"{section.id}_more"
        parts.append(f'<section class="answer full more" aria-labelledby="{detail}">'
                     f'<h3 id="{detail}"{say.lang_attr}>{say.html(MORE_DETAIL)}</h3>\n'
                     f"{kept_whole(section_html(doc, section, 'full'))}</section>")
    return "\n".join(part for part in parts if part)


def words_to_know(doc: Document, say: Words) -> str:
    """The glossary at the end, in large print: each term bold, its plain meaning under it."""
    if not doc.meta.glossary:
        return ""
    entries = "".join(f"<dt>{escape(term)}</dt><dd>{escape(doc.meta.glossary[term])}</dd>"
                      for term in sorted(doc.meta.glossary, key=str.lower))
    return (f'<section class="glossary" aria-labelledby="handout_glossary">'
            f'<h2 id="handout_glossary"{say.lang_attr}>{say.html(GLOSSARY_TITLE)}</h2><dl>{entries}</dl></section>')


def closing(doc: Document, say: Words) -> str:
    """The care-team line the handout ends with (the source's disclaimer, else the catalog's sentence)."""
    marked = "" if doc.meta.disclaimer else say.lang_attr
    call = f" {say.html(ASK_CONTACT, contact=doc.meta.contact)}" if doc.meta.contact else ""
    return f'<footer class="care-team"><p{marked}>{escape(formats.care_team_line(doc, say))}{call}</p></footer>'


def handout_html(doc: Document, css: str, created: str, edition: str = "both", base_url: str = "") -> str:
    """The whole handout as one HTML page: first page, every section in the chosen edition, the
    words to know and the care-team line."""
    say = words_for(doc.meta.lang)
    sections = "\n".join(
        f'<section aria-labelledby="{escape(s.id, quote=True)}">\n{heading(s.id, s.title)}\n'
        f"{answers(doc, s, edition, base_url, say)}\n</section>"
        for s in doc.sections
    )
    body = f"{first_page(doc, base_url)}\n<main>\n{sections}\n{words_to_know(doc, say)}\n{closing(doc, say)}\n</main>"
    return document(doc, note_calls_as_text(body, say), head=head_meta(doc.meta, created), css=css)


def note_calls_as_text(html: str, say: Words) -> str:
    """Each note call's words ("(note 1)") as the link's own text, so the PDF tags the words with the
    link as a `Link` (PDF/UA-1 7.18.5), where words written by CSS around a <sup> were tagged NonStruct."""
    before, _, after = say("(note {number})").partition("{number}")

    def spelled(match: re.Match[str]) -> str:
        return f'\u00a0{match.group(1)}{escape(before)}{match.group(2)}{escape(after)}</a>'

    return re.sub(r'(<a\b[^>]*class="[^"]*\bnoteref\b[^"]*"[^>]*>)\s*<sup>([^<]*)</sup>\s*</a>', spelled, html)


def handout_pdf(doc: Document, paper: str, source_date_epoch: int | None, css: str | None = None,
                edition: str = "both", base_url: str = "") -> bytes:
    """Render the handout to PDF bytes; `css` replaces the large-print rules (tests use a 12 pt one)."""
    if edition not in PRINT_EDITIONS:
        raise ValueError(f"unknown print edition {edition!r}; choose from {', '.join(PRINT_EDITIONS)}")
    created = creation_date(doc.meta, source_date_epoch)
    others = fonts.fallback_faces(fonts.handout_characters(doc), doc.meta.lang)  # the fonts that draw what Atkinson lacks, as the page gets them
    faces = fonts.fallback_rules([(path.as_uri(), chars, weight) for path, chars, weight in others])
    html = handout_html(doc, faces + stylesheet(paper, css, words_for(doc.meta.lang)), created, edition, base_url)
    # the pictures' URLs are under PICTURES_BASE, not the source's folder: WeasyPrint names each picture
    # by its URL, and the PDF's bytes must not depend on where the project is checked out
    identifier = fingerprint(doc.content_sha256, paper, source_date_epoch, edition, PICTURES_BASE)[:32].encode("ascii")
    pictures = {urljoin(PICTURES_BASE, picture.href): picture.path for picture in doc.pictures}
    roots = (*_print.allowed_roots(font_dir()), *(path for path, _, _ in others))
    return _print.render(html, roots, pictures, identifier)


def build(doc: Document, out_dir: Path, options: BuildOptions) -> Manifest:
    """Write out_dir/NAME.pdf atomically."""
    pdf = handout_pdf(doc, options.value("paper"), options.source_date_epoch,
                      edition=options.value("print"), base_url=options.value("base_url"))
    write_atomic(out_dir / formats.main_file(NAME, doc.name), pdf)
    return Manifest(NAME, formats.main_file(NAME, doc.name))
