"""The Easy Read edition, for people with learning disabilities, low literacy or aphasia: one idea a
row, a picture on the left, one short sentence on the right, large type and white space (the UK
Department of Health's Easy Read guidance; the NHS Accessible Information Standard lists the format).

Two files of the same rows: `NAME-easy-read.pdf` to print (tagged PDF/UA-1, Atkinson Hyperlegible
embedded, 20 pt text, no row split across pages) and `easy-read.html` for a phone. Each section's
question heads its rows (`Section.easy_rows`: the plain rendition sentence by sentence, or the
author's `::: easyread` div, see `pipeline.source.easyread`). A row "How to use this guide" opens it
and the care-team line, with whom to call, closes it, as Easy Read guides do. The pictures are
Health Icons (MIT), drawn as vector images with alt text (tagged Figure in the PDF); a row without
a confident picture has a plain round marker, never a wrong picture. The pictures' licence ships
beside the files (`pictures-licence.txt`).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from .. import fonts, formats, icons
from . import _print, _web
from ..config import STYLES_DIR
from ..engine.cache import fingerprint, write_atomic
from ..language import readability
from ..language.scripts import direction
from ..language.words import N_, Words, words_for
from ..manifest import Manifest
from ..model import Document, EasyRow
from ..page import document, heading
from ..source.tree import NUMBER_WITH_SEPARATORS

if TYPE_CHECKING:
    from ..engine.build import BuildOptions

NAME = "easyread"
LABEL = N_("Easy Read guide")
ARTICLED = N_("an Easy Read guide")
RANK = 35
NEEDS: tuple[str, ...] = ()
SETTINGS = (
    _print.PAPER,
    formats.Setting("easyread_words_max", "Easy Read: the most words one sentence may have", type=int),
)
PAGE = "easy-read.html"
LICENCE = "pictures-licence.txt"
STYLESHEET = STYLES_DIR / "easy-read.css"

EASY_READ = N_("Easy Read")
HOW_TITLE = N_("How to use this guide")
HOW_ROWS = (N_("This guide uses easy words and pictures."), N_("Read one line at a time."),
            N_("You can ask someone to read it with you."))
HOW_PICTURES = (icons.HOW_TO_USE, "eye", "people")
END_TITLE = N_("Questions?")
ASK_PICTURE = "health-worker"
CALL = N_("Call {contact}.")


def published(name: str) -> tuple[formats.Publication, ...]:
    """The guide to print, then the same rows as a page."""
    return (formats.Publication(f"{name}-easy-read.pdf", N_("Easy Read guide"), "PDF",
                                N_("PDF, short sentences with pictures")),
            formats.Publication(PAGE, N_("Easy Read page"), N_("web page"), N_("short sentences with pictures")))


def unavailable(doc: Document, options: BuildOptions) -> str:
    """Why no Easy Read edition can be made here: the picture set is not installed."""
    return icons.unavailable()


def build(doc: Document, out_dir: Path, options: BuildOptions) -> Manifest:
    """Write the guide's PDF, its page (with the page's fonts) and the pictures' licence."""
    paper = options.value("paper")
    pdf = guide_pdf(doc, paper, options.source_date_epoch)
    write_atomic(out_dir / formats.main_file(NAME, doc.name), pdf)
    faces = _web.write_fonts(out_dir, options.cache)
    fallbacks = _web.write_fallbacks(doc, out_dir, options.cache)
    css = _web.font_faces(faces) + fonts.fallback_rules(fallbacks) + STYLESHEET.read_text(encoding="utf-8")
    write_atomic(out_dir / PAGE, guide_html(doc, css, page=True).encode("utf-8"))
    write_atomic(out_dir / LICENCE, licence_text().encode("utf-8"))
    return Manifest(NAME, formats.main_file(NAME, doc.name))


def licence_text() -> str:
    """Who drew the pictures and the licence they are used under."""
    found = icons.icon_set()
    return f"{found.credit() if found else ''}\n\n{icons.LICENCE_FILE.read_text(encoding='utf-8')}"


def picture(row: EasyRow, lang: str = "en") -> str:
    """The row's picture with its alt text (marked English where the language has no keyword table of
    its own), or a plain marker (hidden from screen readers) when none fits."""
    found = icons.icon_set()
    if not row.icon or found is None or not found.has(row.icon):
        return '<span class="marker" aria-hidden="true"></span>'
    marked = "" if icons.has_table(lang) else ' lang="en"'
    return f'<img class="picture" src="{found.data_uri(row.icon)}" alt="{escape(row.alt, quote=True)}"{marked}>'


def row_html(row: EasyRow, lang: str, lang_attr: str = "") -> str:
    """One row: picture left, sentence right (in a right-to-left handout, a phone number or dose
    held left to right, as the other formats hold it)."""
    text = escape(row.text)
    if direction(lang) == "rtl":
        text = NUMBER_WITH_SEPARATORS.sub(r'<span dir="ltr">\1</span>', text)
    return f'<li class="row"><span class="cell">{picture(row, lang)}</span><p{lang_attr}>{text}</p></li>'


def rows_html(rows: list[EasyRow], lang: str, lang_attr: str = "") -> str:
    """A list of rows (a screen reader says how many)."""
    return '<ul class="rows">' + "".join(row_html(row, lang, lang_attr) for row in rows) + "</ul>"


def how_to_use(say: Words) -> str:
    """The first rows: how to read the guide, beside a picture of someone reading with help."""
    rows = [EasyRow(say(line), name, icons.alt_for(name, say.lang)) for line, name in zip(HOW_ROWS, HOW_PICTURES)]
    return (f'<section class="how" aria-labelledby="easy_how"><h2 id="easy_how"{say.lang_attr}>{say.html(HOW_TITLE)}</h2>'
            f"{rows_html(rows, say.lang, say.lang_attr)}</section>")


def closing(doc: Document, say: Words) -> str:
    """The last rows: the care-team line and whom to call, beside a phone."""
    rows = [ending_row(line, say.lang) for line in readability.sentences(formats.care_team_line(doc, say))]
    if doc.meta.contact:
        rows.append(EasyRow(say(CALL, contact=doc.meta.contact), icons.CARE_TEAM, icons.alt_for(icons.CARE_TEAM, say.lang)))
    marked = "" if doc.meta.disclaimer else say.lang_attr
    return (f'<section class="care-team" aria-labelledby="easy_end"><h2 id="easy_end"{say.lang_attr}>'
            f"{say.html(END_TITLE)}</h2>{rows_html(rows, say.lang, marked)}</section>")


def ending_row(line: str, lang: str) -> EasyRow:
    """A row of the care-team line: the picture its words suggest, else a health worker (whom it is about)."""
    found = icons.suggest(line, lang)
    name = found.name if found else ASK_PICTURE
    return EasyRow(line, name, found.alt if found else icons.alt_for(name, lang))


def guide_html(doc: Document, css: str, page: bool = False) -> str:
    """The whole guide as one HTML page: cover, how to use it, each question with its rows, the end.
    As a `page`, with landmarks and a policy that lets it run nothing."""
    say = words_for(doc.meta.lang)
    meta = doc.meta
    cover = [f"<h1>{escape(meta.title)}</h1>", f'<p class="kind"{say.lang_attr}>{say.html(EASY_READ)}</p>']
    if meta.date:
        cover.append(f'<p class="edition"{say.lang_attr}>{say.html("Updated {date}", date=say.date(meta.date))}</p>')
    if meta.publisher:
        cover.append(f'<p class="publisher"{say.lang_attr}>{say.html("From {publisher}", publisher=meta.publisher)}</p>')
    sections = "\n".join(f'<section aria-labelledby="{escape(s.id, quote=True)}">{heading(s.id, s.title)}'
                         f"{rows_html(list(s.easy_rows), meta.lang)}</section>" for s in doc.sections)
    found = icons.icon_set()
    credit = f'<p class="credit" lang="en">{escape(found.credit())}</p>' if found else ""
    body = (f'<header class="cover">{"".join(cover)}</header>\n<main id="easy_main">\n{how_to_use(say)}\n{sections}\n'
            f"{closing(doc, say)}\n</main>\n<footer>{credit}</footer>")
    head = ""
    if page:
        head = f'<meta http-equiv="Content-Security-Policy" content="{_web.content_policy(css, images="data:")}">\n'
    return document(doc, body, title=f"{meta.title}: {say(EASY_READ)}", css=css, head=head)


def stylesheet(paper: str, say: Words, css: str | None = None) -> str:
    """The guide's print CSS: the packaged fonts, the Easy Read rules (or `css`, a test's), paper size
    and page numbers."""
    size = _print.page_size(paper)
    number = _print.css_content(say("Page {page} of {pages}"), page="counter(page)", pages="counter(pages)")
    corner = "bottom-left" if direction(say.lang) == "rtl" else "bottom-right"
    rules = STYLESHEET.read_text(encoding="utf-8") if css is None else css
    return (f"{_print.font_faces(fonts.font_dir())}\n{rules}\n"
            f"@page {{ size: {size}; @{corner} {{ content: {number}; }} }}\n")


def guide_pdf(doc: Document, paper: str, source_date_epoch: int | None, css: str | None = None) -> bytes:
    """The guide as a tagged PDF, the same bytes for the same source (`css` replaces the rules: tests)."""
    say = words_for(doc.meta.lang)
    others = fonts.fallback_faces(fonts.handout_characters(doc), doc.meta.lang)
    faces = fonts.fallback_rules([(path.as_uri(), chars, weight) for path, chars, weight in others])
    html = guide_html(doc, faces + stylesheet(paper, say, css))
    identifier = fingerprint("easyread", doc.content_sha256, paper, source_date_epoch)[:32].encode("ascii")
    roots = (*_print.allowed_roots(fonts.font_dir()), *(path for path, _, _ in others))
    return _print.render(html, roots, {}, identifier)
