"""The plain-language web page a patient reads on a phone in a waiting room: `index.html`.

Every section's plain rendition under its question, with medical words linked to a glossary, a
player for that section's narration, and the full original text (which is also the transcript of
the recording) folded away in a <details>. One self-contained page: CSS inline, Atkinson
Hyperlegible as WOFF2 files beside it in `fonts/` (system sans-serif if they cannot load), no
script at all, and a Content-Security-Policy that forbids any, so whatever a pasted source might
smuggle in cannot run. Same source, same bytes: nothing time- or machine-dependent is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import lxml.html

from .. import fonts, formats
from . import _web
from ..source import pictures
from ..engine.cache import write_atomic
from ..config import STYLES_DIR
from ..manifest import Manifest
from ..rendering import section_html
from ..model import Document, Section
from ..language.words import N_, Words, language_name, words_for
from ..page import fragment, serialize, document, heading, mark_glossary, text

if TYPE_CHECKING:
    from ..engine.build import BuildOptions

NAME = "html"
LABEL = N_("web page")
ARTICLED = N_("a web page")
RANK = 10
# the players link the section MP3s and show their lengths; "other ways to read" says each file's size
NEEDS: tuple[str, ...] = ("audio", "pdf", "easyread", "epub", "braille")
OPTIONS = ("formats",)  # the "other ways to read" links name the formats built alongside
PAGE = "index.html"
STYLESHEET = STYLES_DIR / "page.css"

# Fragments come from pandoc after the parser dropped raw HTML; this is a second lock on the door.
DROPPED_ELEMENTS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
    "button", "select", "textarea", "link", "meta", "base", "svg", "math", "img", "picture",
    "video", "audio", "source", "track", "canvas", "template", "noscript", "portal",
}
SAFE_URL = re.compile(r"^(?:https?:|mailto:|tel:|#|[^:/?#]*(?:[/?#]|$))", re.I)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "srcset", "background"}


@dataclass(frozen=True)
class Recording:
    """One MP3 of the narration as the audio format left it: where it is and how long it plays."""

    href: str
    seconds: float | None


def published(name: str) -> tuple[formats.Publication, ...]:
    """The page itself, which the others are offered from."""
    return (formats.Publication(PAGE, N_("Web page"), N_("web page")),)


def build(doc: Document, out_dir: Path, options: BuildOptions) -> Manifest:
    """Write index.html, its fonts and its pictures into out_dir; returns the page."""
    pictures.publish(doc.pictures, out_dir)
    faces = _web.write_fonts(out_dir, options.cache)
    fallbacks = _web.write_fallbacks(doc, out_dir, options.cache)
    kept = {url for url, _, _ in faces} | {url for url, _, _ in fallbacks}
    for stale in (out_dir / "fonts").iterdir():  # a subset an earlier text needed
        if f"fonts/{stale.name}" not in kept:
            stale.unlink()
    css = _web.font_faces(faces) + fonts.fallback_rules(fallbacks) + STYLESHEET.read_text(encoding="utf-8")
    html = page_html(doc, css, recordings(doc, out_dir, options.handed.get("audio")), offers(doc, out_dir, options))
    write_atomic(out_dir / PAGE, html.encode("utf-8"))
    return Manifest(NAME, PAGE)


def recordings(doc: Document, out_dir: Path, narration: Manifest | None) -> dict[tuple[str, str], Recording]:
    """Each section's narration MP3s the build handed over that are beside the page, by (rendition,
    section id): the plain one plays beside the plain answer, the full one inside the full answer."""
    sections = {section.id for section in doc.sections}
    return {(r.rendition, r.section_id): Recording(r.path, r.seconds) for r in (narration.recordings if narration else ())
            if r.section_id in sections and (out_dir / r.path).is_file()}


def offers(doc: Document, out_dir: Path, options: BuildOptions) -> list[tuple[str, str, str]]:
    """(href, what it is, how to use it) for every other format's file built with or beside this
    page that the format offers to readers, in the formats' order; a recording says how long it
    is, and every file how big (a phone on a slow plan is asked before a 5 MB download). A file
    with no note (an M4B audiobook) is described by its kind."""
    offered = []
    say = words_for(doc.meta.lang)
    for name in formats.names():
        if name == NAME:
            continue
        for publication in formats.published(name, doc.name):
            path = out_dir / publication.path
            if not (options.wants(name) or path.is_file()):
                continue
            seconds = publication.seconds(path) if publication.seconds and path.is_file() else None
            said = [say(publication.note) if publication.note else publication.kind,
                    duration_words(seconds, say) if seconds else "", file_size(path) if path.is_file() else ""]
            note = ", ".join(part for part in said if part)
            offered.append((publication.path, say(publication.label), note))
    return offered


def file_size(path: Path) -> str:
    """A download's size as a phone's owner reads it: "5.3 MB", "240 KB"."""
    size = path.stat().st_size
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"


def page_html(doc: Document, css: str, found: dict[tuple[str, str], Recording], offered: list[tuple[str, str, str]]) -> str:
    """The whole page: header, then the questions and the other ways to read, each folded to one
    line so the first answer starts on a phone's first screen, answers, glossary, footer."""
    ids = PageIds(doc)
    say = words_for(doc.meta.lang)
    body = "\n".join([
        f'<a class="skip-link" href="#{ids.main}"{say.lang_attr}>{say.html("Skip to the questions and answers")}</a>',
        masthead(doc, ids, say),
        contents(doc, ids, say),
        other_ways(offered, ids, say),
        f'<main id="{ids.main}">',
        *(answer(doc, section, found.get(("plain", section.id)), found.get(("full", section.id)), ids, say)
          for section in doc.sections),
        glossary(doc, ids, say),
        "</main>",
        footer(doc, ids, say),
    ])
    return document(doc, body, css=css, head=head_meta(doc, css))


def head_meta(doc: Document, css: str) -> str:
    """Description, colour schemes, and a policy that lets the page run nothing and fetch only its own files."""
    policy = _web.content_policy(css, images="'self'")
    tags = [
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="color-scheme" content="light dark">',
        *(f'<link rel="alternate" hreflang="{escape(e.lang, quote=True)}" href="../{escape(e.name, quote=True)}/{PAGE}">'
          for e in doc.editions),
    ]
    if doc.meta.description:
        tags.append(f'<meta name="description" content="{escape(doc.meta.description, quote=True)}">')
    return "\n".join(tags) + "\n"


class PageIds:
    """The page's own ids, kept clear of section and sentence ids so links never land wrong."""

    def __init__(self, doc: Document) -> None:
        self.taken: set[str] = set()
        for section in doc.sections:
            self.taken.add(section.id)
            for rendition in ("full", "plain"):
                self.taken.update(re.findall(r'\sid="([^"]+)"', section_html(doc, section, rendition)))
        self.top = self.new("top")
        self.main = self.new("main")
        self.ways = self.new("other-ways")
        self.contents = self.new("contents")
        self.glossary = self.new("glossary")
        self.terms = {term: self.new(f"glossary-{slug(term)}") for term in sorted(doc.meta.glossary, key=str.lower)}

    def term_link(self, term: str, said: str) -> lxml.html.HtmlElement:
        """A glossary term's first use in an answer: a link to its definition, which describes it."""
        link = lxml.html.Element("a", {"class": "term", "href": f"#{self.terms[term]}",
                                       "aria-describedby": f"{self.terms[term]}-meaning"})
        link.text = said
        return link

    def new(self, wanted: str) -> str:
        """wanted, or wanted-2, -3... if a section already uses it."""
        candidate, n = wanted, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{wanted}-{n}"
        self.taken.add(candidate)
        return candidate


def slug(term: str) -> str:
    """A glossary term as an id fragment."""
    return re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-") or "term"


def masthead(doc: Document, ids: PageIds, say: Words) -> str:
    """Title, subtitle and who published it."""
    parts = [f'<header class="masthead" id="{ids.top}">', '<div class="measure">']
    if doc.meta.publisher:
        parts.append(f'<p class="publisher">{text(doc.meta.publisher)}</p>')
    parts.append(f"<h1>{text(doc.meta.title)}</h1>")
    if doc.meta.subtitle:
        parts.append(f'<p class="subtitle">{text(doc.meta.subtitle)}</p>')
    if doc.editions:
        links = " · ".join(
            f'<a href="../{escape(e.name, quote=True)}/{PAGE}" hreflang="{escape(e.lang, quote=True)}" lang="{escape(e.lang, quote=True)}">'
            f'{text(words_for(e.lang)(N_("Read in {language}"), language=language_name(e.lang)))}</a>' for e in doc.editions)
        parts.append(f'<p class="editions">{links}</p>')
    explained = (" " + say("Words in {sample} are explained at the end.",
                           sample=f'<span class="term-sample">{say.html("dotted underline")}</span>')
                 if doc.meta.glossary else "")  # only when there is an end to explain them
    parts.append(f'<p class="welcome"{say.lang_attr}>{say.html("Take your time. Read one answer at a time, or listen to it.")}'
                 f"{explained}</p>")
    parts += ["</div>", "</header>"]
    return "\n".join(parts)


def other_ways(items: list[tuple[str, str, str]], ids: PageIds, say: Words) -> str:
    """Links near the top to the other formats: the whole recording, the large-print PDF, the e-book..."""
    if not items:
        return ""
    links = "\n".join(
        f'<li><a href="{escape(href, quote=True)}">{text(label)}</a> <span class="note">({text(note)})</span></li>'
        for href, label, note in items
    )
    return (
        f'<nav class="other-ways measure" aria-labelledby="{ids.ways}"{say.lang_attr}>\n'
        f'<details>\n<summary><h2 id="{ids.ways}">{say.html("Other ways to read and listen")}</h2></summary>\n'
        f'<ul>\n{links}\n</ul>\n</details>\n</nav>'
    )


def contents(doc: Document, ids: PageIds, say: Words) -> str:
    """The numbered list of questions, each a link to its answer."""
    items = "\n".join(f'<li><a href="#{s.id}">{text(s.title)}</a></li>' for s in doc.sections)
    extra = (f'\n<p class="to-glossary"{say.lang_attr}><a href="#{ids.glossary}">{say.html("Words to know")}</a></p>'
             if doc.meta.glossary else "")
    return (
        f'<nav class="contents measure" aria-labelledby="{ids.contents}">\n'
        f'<details>\n<summary><h2 id="{ids.contents}"{say.lang_attr}>{say.html("Questions in this guide")}</h2></summary>\n'
        f'<ol>\n{items}\n</ol>{extra}\n</details>\n</nav>'
    )


def answer(doc: Document, section: Section, plain: Recording | None, full: Recording | None, ids: PageIds,
           say: Words) -> str:
    """One question: heading, the player of the plain words beside them, the plain answer with
    glossary links, and the full text folded away with its own player."""
    parts = [f'<section class="answer measure" aria-labelledby="{section.id}">', heading(section.id, section.title)]
    if plain is not None:
        parts.append(player(plain, say, say("Listen to this answer"),
                            say("Listen to the answer in plain words: {title}", title=section.title)))
    shown = {picture.href for picture in doc.pictures}
    plain_words = mark_glossary(safe_fragment(section_html(doc, section, "plain"), shown, say), doc.meta.glossary,
                                ids.term_link)
    parts.append(f'<div class="plain">\n{plain_words}\n</div>')
    heard = (player(full, say, say("Listen to the full answer"), say("Listen to the full answer: {title}", title=section.title))
             if full else "")
    parts.append(
        f'<details class="original">\n<summary{say.lang_attr}>{say.html("Read the full, detailed answer")}</summary>\n'
        f'<div class="full">\n<p class="full-note"{say.lang_attr}>{say.html("This is the original text, with more detail.")}</p>\n'
        f"{heard}{safe_fragment(section_html(doc, section, 'full'), shown, say)}\n</div>\n</details>"
    )
    parts.append("</section>")
    return "\n".join(parts)


def player(recording: Recording, say: Words, label: str, name: str) -> str:
    """A labelled player for one narration MP3, with its length in words."""
    length = f" · {duration_words(recording.seconds, say)}" if recording.seconds else ""
    return (
        '<div class="listen">\n'
        f'<p class="listen-label" aria-hidden="true"{say.lang_attr}>{text(label)}{text(length)}</p>\n'
        f'<audio controls preload="metadata" src="{escape(recording.href, quote=True)}" '
        f'aria-label="{escape(name, quote=True)}"></audio>\n</div>\n'
    )


def glossary(doc: Document, ids: PageIds, say: Words) -> str:
    """Every glossary term with its plain definition; each term is the <dfn> the text links to."""
    if not doc.meta.glossary:
        return ""
    entries = "\n".join(
        f'<div class="entry"><dt><dfn id="{ids.terms[term]}">{text(term)}</dfn></dt>'
        f'<dd id="{ids.terms[term]}-meaning">{text(doc.meta.glossary[term])}</dd></div>'
        for term in sorted(doc.meta.glossary, key=str.lower)
    )
    return (
        f'<section class="glossary measure" aria-labelledby="{ids.glossary}">\n'
        f'<h2 id="{ids.glossary}"{say.lang_attr}>{say.html("Words to know")}</h2>\n<dl>\n{entries}\n</dl>\n</section>'
    )


def footer(doc: Document, ids: PageIds, say: Words) -> str:
    """Who made it, when, the reminder that a care team knows the reader best, and the way back up."""
    made = " · ".join(v for v in (text(doc.meta.publisher), readable_date(doc.meta.date, say)) if v)
    lines = ['<footer class="page-footer">', '<div class="measure">']
    lines.append(f"<p{'' if doc.meta.disclaimer else say.lang_attr}>{escape(formats.care_team_line(doc, say))}</p>")
    if made:
        lines.append(f'<p class="made">{made}</p>')
    lines += [f'<p{say.lang_attr}><a href="#{ids.top}">{say.html("Back to the top")}</a></p>', "</div>", "</footer>"]
    return "\n".join(lines)


def readable_date(value: str, say: Words) -> str:
    """An ISO date as a reader of the page's language says it, in a <time>; other text as written."""
    said = say.date(value)
    if said == value:
        return text(value)
    return f'<time datetime="{escape(value.strip(), quote=True)}">{text(said)}</time>'


def duration_words(seconds: float | None, say: Words) -> str:
    """A length a listener understands: "about 2 minutes", "under 1 minute"."""
    if not seconds:
        return ""
    minutes = round(seconds / 60)
    if minutes < 1:
        return say("under 1 minute")
    return say.plural("about {count} minute", "about {count} minutes", minutes)


def safe_fragment(html: str, pictures: set[str] | frozenset[str] = frozenset(), say: Words | None = None) -> str:
    """A fragment with no active content: no scripts, frames, handlers, styles or script URLs, and
    no picture but the vetted ones published beside the page (`pictures`, their hrefs); headings
    inside it demoted below the section's h2 so the outline stays in order."""
    root = fragment(html)
    for element in list(root.iter()):
        if element is root or not isinstance(element.tag, str):
            if element is not root and element.getparent() is not None:
                element.drop_tree()  # comments and processing instructions
            continue
        if element.tag in DROPPED_ELEMENTS and not (element.tag == "img" and element.get("src") in pictures):
            element.drop_tree()
            continue
        for name in list(element.attrib):
            value = element.attrib[name]
            if name.startswith("on") or name in ("style", "srcdoc", "formaction") or (
                name in URL_ATTRIBUTES and not SAFE_URL.match(value.strip())
            ):
                del element.attrib[name]
        if element.tag in ("h1", "h2"):
            element.tag = "h3"
    for table in list(root.iter("table")):
        scroll_box(table, say or words_for("en"))
    return serialize(root)


def scroll_box(table: lxml.html.HtmlElement, say: Words) -> None:
    """Put a table in a box that scrolls sideways on its own (and can be focused to scroll by
    keyboard), so a wide table never makes the whole page scroll on a phone."""
    caption = " ".join(table.findtext("caption", "").split())
    box = lxml.html.Element("div", {"class": "table-wrap", "role": "region", "tabindex": "0",
                                    "aria-label": say("Table: {caption}", caption=caption) if caption else say("Table")})
    table.addprevious(box)
    box.tail, table.tail = table.tail, None
    box.append(table)
