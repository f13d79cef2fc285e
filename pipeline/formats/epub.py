"""The EPUB 3 e-book patients read on a phone, tablet or e-reader, at their own text size.

ebooklib writes the package: one XHTML content document per section (its question, then both
renditions with every sentence in a `<span id>`), a cover page in real text with a calm SVG
picture, the nav document (contents + landmarks), an NCX for old readers, `styles/epub.css`, and
EPUB Accessibility 1.1 metadata. Each chapter shows its question under the words "Section N of M",
then the answer in plain words and the full answer, each under its label (`epub_first`: the plain
one first by default, as on the web page). When the audio format is built too, the e-book reads
itself aloud: each section's MP3s are embedded and one SMIL Media Overlay per section pairs every
element with the clip that says its words, so reading apps highlight what is being said: the
narration's opening "Section N of M. Question" highlights the question with its "Section N of M"
line (one element shows all it says), each sentence its sentence. The second narration's opening
repeats the question shown at the top of the chapter, so it is left out of the overlay rather than
send the highlight back up the page; the two labels are not said (docs/formats.md).

ebooklib stamps every zip entry with the current time; so the finished zip is repacked once, entry
by entry in ebooklib's order, with the SOURCE_DATE_EPOCH time: two builds of one source are then
byte-identical (and `dcterms:modified` is that same moment).
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import textwrap
import uuid
import zipfile
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import lxml.html
from ebooklib import epub
from lxml import etree

from .. import fonts, formats
from ..engine.cache import write_atomic
from ..config import STYLES_DIR
from ..errors import PipelineError
from ..language.pronunciation import Lexicon, lexicon_for
from ..language.scripts import direction
from ..language.words import N_, language_name, words_for
from ..manifest import Manifest
from ..rendering import section_html
from ..model import Document, Metadata, Section
from ..page import document, heading
from ..page import mark_glossary
from ..source.reading import plain_heading

if TYPE_CHECKING:
    from ..engine.build import BuildOptions

NAME = "epub"
LABEL = N_("e-book")
ARTICLED = N_("an e-book")
RANK = 40
NEEDS = ("audio",)

STYLESHEET = STYLES_DIR / "epub.css"
ACTIVE_CLASS = "-epub-media-overlay-active"
CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"
STORED_SUFFIXES = (".mp3", ".png", ".jpg")  # already compressed: deflating them only costs time
ZIP_EPOCH = dt.datetime(1980, 1, 1, tzinfo=dt.timezone.utc)  # the earliest time a zip entry can hold

CSS_PATH = "styles/epub.css"
GLOSSARY_PATH = "words-to-know.xhtml"
GLOSSARY_TITLE = N_("Words to know")
PLAIN_TITLE = N_("In plain words")
FULL_TITLE = N_("The full answer")
COVER_IMAGE_PATH = "images/cover.svg"
COVER_PAGE_PATH = "cover.xhtml"
LEXICON_PATH = "lexicon.pls"
NAV_NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
RENDITION_ORDER = {"plain": ("plain", "full"), "full": ("full", "plain")}
SETTINGS = (formats.Setting("epub_first", "which answer each e-book chapter shows and reads first: plain "
                            "(the plain words, as on the web page) or full", choices=tuple(RENDITION_ORDER),
                            flag="--epub-first"),)


@dataclass(frozen=True)
class Clip:
    """One narrated piece: the element id it reads and where it sits in the section's MP3."""

    target: str
    begin: float
    end: float


@dataclass(frozen=True)
class Narration:
    """A section's built narration in one rendition, as the audio format wrote it; `file` is its
    path in the book ("audio/01-where.mp3", "audio/plain/01-where.mp3")."""

    rendition: str
    section_id: str
    file: str
    audio: bytes
    clips: tuple[Clip, ...]

    @property
    def duration(self) -> float:
        """Seconds a reading app plays for this section's overlay (the sum of its clips)."""
        return round(sum(clip.end - clip.begin for clip in self.clips), 3)


class ContentDocument(epub.EpubHtml):
    """An XHTML document written exactly as rendered here (ebooklib would re-parse it as tag soup)."""

    def get_content(self, default: bytes | None = None) -> bytes:
        """The finished XHTML bytes."""
        return self.content


class Writer(epub.EpubWriter):
    """ebooklib's writer with landmarks hidden (for apps, not a second contents page) and EPUB 3
    names, and the book's language on the package itself (`xml:lang`, which Ace requires)."""

    def _write_opf_file(self, root: etree._Element) -> None:
        """The package document, its `<package>` carrying the book's language."""
        language = next((value for value, _ in self.book.get_metadata("DC", "language")), None)
        if language:
            root.set("{http://www.w3.org/XML/1998/namespace}lang", language)
        super()._write_opf_file(root)

    def _get_nav(self, item: epub.EpubNav) -> bytes:
        """The nav document with `hidden` on its landmarks, EPUB 3 landmark names and the pronunciation lexicon's link."""
        root = etree.fromstring(super()._get_nav(item))
        epub_type = f"{{{NAV_NS['epub']}}}type"
        for landmarks in root.xpath("//x:nav[@epub:type='landmarks']", namespaces=NAV_NS):
            landmarks.set("hidden", "hidden")
            for link in landmarks.xpath(".//x:a[@epub:type='title-page']", namespaces=NAV_NS):
                link.set(epub_type, "titlepage")
        for title in root.xpath("//x:nav[@epub:type='toc']/x:h2", namespaces=NAV_NS):
            title.tag = f"{{{NAV_NS['x']}}}h1"  # the page's one top heading, as in every other document
        head = root.find("x:head", NAV_NS)
        for link in (link for link in item.links if link.get("rel") == "pronunciation"):
            etree.SubElement(head, f"{{{NAV_NS['x']}}}link", {k: v for k, v in link.items()})
        body = root.find("x:body", NAV_NS)
        main = etree.SubElement(body, f"{{{NAV_NS['x']}}}main")
        main.extend([child for child in body if child is not main])
        return etree.tostring(root.getroottree(), encoding="utf-8", xml_declaration=True, pretty_print=True)


def published(name: str) -> tuple[formats.Publication, ...]:
    """The e-book a patient downloads."""
    return (formats.Publication(f"{name}.epub", N_("E-book"), "EPUB", N_("EPUB, for a reading app; it can read aloud too")),)


def build(doc: Document, out_dir: Path, options: BuildOptions) -> Manifest:
    """Write `NAME.epub`, with Media Overlays when the audio format is part of this build."""
    moment = modified_time(options.source_date_epoch)
    say = words_for(doc.meta.lang)
    narration = options.handed.get("audio")
    narrations = read_narrations(doc, out_dir, narration) if narration else {}
    book = assemble(doc, narrations, options.value("epub_first"))
    staged = io.BytesIO()
    writer = Writer(staged, book, {"mtime": moment, "play_order": {"enabled": True}, "landmark_title": say("Landmarks"),
                                   "epub3_pages": False})  # a handout has no print pages to list
    writer.process()
    writer.write()
    write_atomic(out_dir / formats.main_file(NAME, doc.name), repack(staged.getvalue(), moment))
    return Manifest(NAME, formats.main_file(NAME, doc.name))


def modified_time(source_date_epoch: int | None) -> dt.datetime:
    """The moment the e-book says it was modified: SOURCE_DATE_EPOCH when set, so builds repeat."""
    if source_date_epoch is None:
        return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return dt.datetime.fromtimestamp(source_date_epoch, dt.timezone.utc)


def identifier(meta: Metadata, name: str) -> str:
    """The source's identifier, or a UUID derived from title and file name so it never drifts."""
    if meta.identifier:
        return meta.identifier
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'faq-pipeline:{name}:{meta.title}')}"


def read_narrations(doc: Document, out_dir: Path, narration: Manifest) -> dict[str, list[Narration]]:
    """Every section's MP3 and clip times as the build handed them over: the full text's narration,
    then the plain words'."""
    narrations: dict[str, list[Narration]] = {section.id: [] for section in doc.sections}
    for recording in narration.recordings:
        if recording.section_id not in narrations:
            continue
        audio_path = out_dir / recording.path
        if not audio_path.is_file():
            raise PipelineError(f"EPUB read-aloud: {audio_path} for section '{recording.section_id}' is missing")
        if not recording.clips:
            raise PipelineError(f"EPUB read-aloud: the narration of section '{recording.section_id}' has no clips")
        clips = [Clip(c.target, c.begin, c.end) for c in recording.clips]
        narrations[recording.section_id].append(Narration(recording.rendition, recording.section_id, recording.path,
                                                          audio_path.read_bytes(),
                                                          with_pauses(clips, recording.seconds or clips[-1].end)))
    missing = [section.id for section in doc.sections if not narrations[section.id]]
    if missing:
        raise PipelineError(f"EPUB read-aloud: the narration has no recording of section '{missing[0]}'")
    return narrations


def with_pauses(clips: list[Clip], seconds: float) -> tuple[Clip, ...]:
    """Each clip runs on to the next one's start (the last to the end of the file): reading apps
    skip the gaps between clips, and the narration's pauses between sentences are part of its sense."""
    ends = [following.begin for following in clips[1:]] + [max(seconds, clips[-1].end)]
    return tuple(Clip(clip.target, clip.begin, end) for clip, end in zip(clips, ends))


def assemble(doc: Document, narrations: dict[str, list[Narration]], first: str = "plain") -> epub.EpubBook:
    """The whole book in ebooklib's model: metadata, cover, sections (the answer in plain words and
    the full one, `first` first), the glossary, overlays, nav and NCX; the care-team line ends it."""
    order = RENDITION_ORDER[first]
    narrations = {sid: read_along(doc, sid, said, order) for sid, said in narrations.items()}
    book = epub.EpubBook()
    describe(book, doc, narrations)
    style = book.add_item(epub.EpubItem(uid="style", file_name=CSS_PATH, media_type="text/css",
                                        content=STYLESHEET.read_bytes() + embed_fallbacks(book, doc)))
    book.set_cover(COVER_IMAGE_PATH, cover_svg(doc).encode("utf-8"), create_page=False)
    cover = book.add_item(ContentDocument(uid="cover", file_name=COVER_PAGE_PATH, title=doc.meta.title,
                                          lang=doc.meta.lang, content=cover_page(doc)))
    say = words_for(doc.meta.lang)
    nav = book.add_item(epub.EpubNav(title=say("Contents"), direction="rtl" if direction(doc.meta.lang) == "rtl" else None))
    if direction(doc.meta.lang) == "rtl":
        book.set_direction("rtl")  # the spine's page-progression-direction: pages turn right to left
    nav.add_item(style)
    book.add_item(epub.EpubNcx())
    owners = id_owners(doc)
    for number, picture in enumerate(doc.pictures, start=1):
        book.add_item(epub.EpubImage(uid=f"picture-{number}", file_name=picture.href,
                                     media_type=picture.media_type, content=picture.path.read_bytes()))
    uses: dict[str, list[tuple[Section, str]]] = {term: [] for term in doc.meta.glossary}
    last = None if doc.meta.glossary else doc.sections[-1]
    chapters = [book.add_item(chapter(doc, section, owners, uses, order, closing=section is last))
                for section in doc.sections]
    for section, item in zip(doc.sections, chapters):
        if narrations.get(section.id):
            add_overlay(book, item, section, narrations[section.id])
    if narrations:
        total = sum(n.duration for said in narrations.values() for n in said)
        book.add_metadata(None, "meta", clock(total), {"property": "media:duration"})
        book.add_metadata(None, "meta", ACTIVE_CLASS, {"property": "media:active-class"})
    words = [book.add_item(glossary_page(doc, uses))] if doc.meta.glossary else []
    lexicon = book_lexicon(doc)
    if lexicon:
        book.add_item(epub.EpubItem(uid="lexicon", file_name=LEXICON_PATH, media_type="application/pls+xml",
                                    content=lexicon.pls().encode("utf-8")))
        nav.add_link(href=LEXICON_PATH, rel="pronunciation", type="application/pls+xml", hreflang=lexicon.lang)
    book.toc = chapters + words
    book.spine = [cover, nav, *chapters, *words]
    book.guide = [
        {"type": "title-page", "href": COVER_PAGE_PATH, "title": say("Title page")},
        {"type": "toc", "href": nav.file_name, "title": say("Contents")},
        {"type": "text", "href": chapters[0].file_name, "title": doc.sections[0].title},
    ] + [{"type": "glossary", "href": GLOSSARY_PATH, "title": say(GLOSSARY_TITLE)} for _ in words]
    return book


def book_lexicon(doc: Document) -> Lexicon:
    """How the book's words are said (the project's lexicon and the source's `pronounce:`, the
    entries the book uses): carried as a PLS file a reading app's voice reads."""
    return lexicon_for(doc.meta.lang, doc.meta.pronounce).used_in(doc.text)


def head_links(doc: Document, up: str = "") -> str:
    """A content document's links: the style sheet and, when the book has one, the pronunciation lexicon."""
    links = f'<link rel="stylesheet" type="text/css" href="{up}{CSS_PATH}"/>\n'
    if book_lexicon(doc):
        links += (f'<link rel="pronunciation" type="application/pls+xml" hreflang="{escape(doc.meta.lang, quote=True)}" '
                  f'href="{up}{LEXICON_PATH}"/>\n')
    return links


def embed_fallbacks(book: epub.EpubBook, doc: Document) -> bytes:
    """The fonts that draw what the reader's own font may lack (Arabic words, an emoji), cut to those
    characters and embedded; returns the CSS that declares them, for exactly those characters."""
    faces = []
    for number, (path, chars, weight) in enumerate(fonts.fallback_faces(fonts.handout_characters(doc), doc.meta.lang), start=1):
        name = fonts.subset_name(path, chars, ".woff2")
        book.add_item(epub.EpubItem(uid=f"font-{number}", file_name=f"fonts/{name}", media_type="font/woff2",
                                    content=fonts.subset(path, chars)))
        faces.append((f"../fonts/{name}", chars, weight))
    if not faces:
        return b""
    rules = fonts.fallback_rules(faces)
    return (f"\n/* Glyphs the text needs that a reading app's font may lack (written by the build). */\n{rules}"
            f'body {{ font-family: "{fonts.FALLBACK_FAMILY}", serif; }}\n').encode("utf-8")


def describe(book: epub.EpubBook, doc: Document, narrations: dict[str, list[Narration]]) -> None:
    """Dublin Core and EPUB Accessibility 1.1 metadata."""
    meta = doc.meta
    book.set_identifier(identifier(meta, doc.name))
    book.title = meta.title
    book.add_metadata("DC", "title", meta.title, {"id": "title"})
    book.add_metadata(None, "meta", "main", {"refines": "#title", "property": "title-type"})
    if meta.subtitle:
        book.add_metadata("DC", "title", meta.subtitle, {"id": "subtitle"})
        book.add_metadata(None, "meta", "subtitle", {"refines": "#subtitle", "property": "title-type"})
    book.set_language(meta.lang)
    if meta.publisher:
        book.add_metadata("DC", "publisher", meta.publisher)
        book.add_author(meta.publisher)
    if meta.date:
        book.add_metadata("DC", "date", meta.date)
    if meta.description:
        book.add_metadata("DC", "description", meta.description)
    for keyword in meta.keywords:
        book.add_metadata("DC", "subject", keyword)
    for prop, value in accessibility(doc, bool(narrations)):
        book.add_metadata(None, "meta", value, {"property": prop})


def accessibility(doc: Document, read_aloud: bool) -> list[tuple[str, str]]:
    """EPUB Accessibility 1.1 / schema.org properties that say what this e-book offers."""
    modes = ["textual", "visual"] + (["auditory"] if read_aloud else [])
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability",
                "alternativeText"] + (["synchronizedAudioText"] if read_aloud else [])
    say = words_for(doc.meta.lang)
    summary = say("Every question of this e-book is its own chapter with a heading and is listed in the table "
                  "of contents. The text reflows and takes the reader's own font, size and colours; no meaning "
                  "depends on colour. The cover picture has a text description.")
    if read_aloud:
        summary += " " + say("Every heading and sentence is read aloud by a synthetic (computer) voice and "
                             "highlighted as it is read.")
    summary += " " + say("It meets {standard}.", standard=CONFORMS_TO)
    # No a11y:certifiedBy: the publisher checked its own book (the check's report); only an
    # independent certifier may be named there, and none has certified these books.
    return (
        [("schema:accessMode", mode) for mode in modes]
        + [("schema:accessModeSufficient", "textual")]
        + [("schema:accessibilityFeature", feature) for feature in features]
        + [("schema:accessibilityHazard", "none"),
           ("schema:accessibilitySummary", summary),
           ("dcterms:conformsTo", CONFORMS_TO)]
    )


def id_owners(doc: Document) -> dict[str, str]:
    """Which section's file holds each id, so a link to another section's sentence still lands."""
    owners: dict[str, str] = {}
    for section in doc.sections:
        owners[section.id] = chapter_path(section)
        for html in (section_html(doc, section, "full"), section_html(doc, section, "plain")):
            for element in lxml.html.fragment_fromstring(html, create_parent="div").iter():
                if isinstance(element.tag, str) and element.get("id"):
                    owners.setdefault(element.get("id"), chapter_path(section))
    return owners


def chapter_path(section: Section) -> str:
    """Where a section's content document lives in the book."""
    return f"text/{section.id}.xhtml"


def question_id(section: Section) -> str:
    """The id of a chapter's question with its "Section N of M" line, which the narration's opening
    says; like every made id it holds `_` (and ends in no digit), so no section or sentence takes it."""
    return f"{section.id}_question"


def full_heading(section_id: str) -> str:
    """The id of the full answer's own label ("The full answer"), beside the plain one's."""
    return f"{section_id}_full"


def position_line(doc: Document, section: Section) -> str:
    """ "Section 2 of 8.": where the reader is, as the narration's opening says it."""
    return words_for(doc.meta.lang)("Section {number} of {total}.", number=section.number, total=len(doc.sections))


def chapter(doc: Document, section: Section, owners: dict[str, str], uses: dict[str, list[tuple[Section, str]]],
            order: tuple[str, ...] = RENDITION_ORDER["plain"], closing: bool = False) -> ContentDocument:
    """One section's content document: its question under "Section N of M", then the answer in
    plain words and the full one (in `order`), each under its label; each glossary term's first
    use links to its definition. The book's last document ends with the care-team line."""
    used: set[str] = set()
    say = words_for(doc.meta.lang)

    def term_link(term: str, said: str) -> lxml.html.HtmlElement:
        ident = f"{section.id}_g{sum(len(u) for u in uses.values()) + 1}"
        uses[term].append((section, ident))
        link = lxml.html.Element("a", {"class": "term", "id": ident, "href": f"../{GLOSSARY_PATH}#{definition_id(term)}",
                                       "epub:type": "noteref", "role": "doc-noteref"})
        link.text = said
        return link

    path = chapter_path(section)
    labels = {"plain": (plain_heading(section.id), PLAIN_TITLE), "full": (full_heading(section.id), FULL_TITLE)}
    parts = []
    for rendition in order:
        shown = xhtml_fragment(mark_glossary(section_html(doc, section, rendition), doc.meta.glossary, term_link, used),
                               path, owners)
        label_id, label = (escape(value, quote=True) for value in labels[rendition])
        parts.append(f'<section class="{rendition}" aria-labelledby="{label_id}">\n'
                     f'<h2 id="{label_id}"{say.xml_lang_attr}>{escape(say(label))}</h2>\n{shown}\n</section>')
    question = (f'<header class="question" id="{escape(question_id(section), quote=True)}">\n'
                f'<p class="position"{say.xml_lang_attr}>{escape(position_line(doc, section))}</p>\n'
                f"{heading(section.id, section.title, level=1)}\n</header>")
    body = (
        f'<main>\n<section epub:type="chapter" role="doc-chapter" aria-labelledby="{escape(section.id, quote=True)}">\n'
        f"{question}\n" + "\n".join(parts) + "\n</section>\n</main>" + (care_team(doc) if closing else "")
    )
    head = head_links(doc, "../")
    page = document(doc, body, title=section.title, head=head, xhtml=True)
    return ContentDocument(uid=f"chapter-{section.id}", file_name=path, title=section.title,
                           lang=doc.meta.lang, content=well_formed(page, path))


def care_team(doc: Document) -> str:
    """The line the book ends with, as every format does: the source's disclaimer or the care-team sentence."""
    say = words_for(doc.meta.lang)
    marked = "" if doc.meta.disclaimer else say.xml_lang_attr
    return f'\n<footer class="care-team">\n<p{marked}>{escape(formats.care_team_line(doc, say))}</p>\n</footer>'


def definition_id(term: str) -> str:
    """The id of a glossary term's definition (what a term link points at)."""
    return "def-" + (re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-") or "term")


def glossary_page(doc: Document, uses: dict[str, list[tuple[Section, str]]]) -> ContentDocument:
    """The glossary at the end of the book: every term and its plain definition, each with links
    back to where the chapters use it (a reading app shows the definition as a pop-up from there)."""
    say = words_for(doc.meta.lang)
    entries = []
    for term in sorted(doc.meta.glossary, key=str.lower):
        back = ", ".join(f'<a href="{chapter_path(section)}#{ident}">{escape(section.title)}</a>'
                         for section, ident in uses[term])
        back_line = (f' <span class="back"><span{say.xml_lang_attr}>{escape(say("Back to:"))}</span> {back}</span>'
                     if back else "")
        entries.append(f'<dt id="term-{definition_id(term)[4:]}"><dfn>{escape(term)}</dfn></dt>\n'
                       f'<dd><span id="{definition_id(term)}">{escape(doc.meta.glossary[term])}</span>{back_line}</dd>')
    body = (
        f'<main>\n<section epub:type="glossary" role="doc-glossary" aria-labelledby="words-to-know">\n'
        f'<h1 id="words-to-know"{say.xml_lang_attr}>{escape(say(GLOSSARY_TITLE))}</h1>\n<dl>\n' + "\n".join(entries)
        + "\n</dl>\n</section>\n</main>" + care_team(doc)
    )
    head = head_links(doc)
    page = document(doc, body, title=say(GLOSSARY_TITLE), head=head, xhtml=True)
    return ContentDocument(uid="glossary", file_name=GLOSSARY_PATH, title=say(GLOSSARY_TITLE), lang=doc.meta.lang,
                           content=well_formed(page, GLOSSARY_PATH))


def xhtml_fragment(html: str, own_path: str, owners: dict[str, str]) -> str:
    """Pandoc's HTML re-serialised as XML (void elements closed, entities resolved), links retargeted."""
    wrapper = lxml.html.fragment_fromstring(html, create_parent="div")
    for anchor in wrapper.iter("a"):
        target = anchor.get("href", "")
        if target.startswith("#") and owners.get(target[1:], own_path) != own_path:
            anchor.set("href", "../" + owners[target[1:]] + target)
        if "noteref" in anchor.get("class", "").split():
            anchor.set("epub:type", "noteref")
    for note in wrapper.iter("aside"):
        if "note" in note.get("class", "").split():
            note.set("epub:type", "footnote")  # reading apps show it as a pop-up and skip it in the flow
    for image in wrapper.iter("img"):
        image.set("src", posixpath.relpath(image.get("src", ""), posixpath.dirname(own_path)))
    inner = escape(wrapper.text or "", quote=False)
    return inner + "".join(etree.tostring(child, encoding="unicode", method="xml") for child in wrapper)


def well_formed(page: str, where: str) -> bytes:
    """The page as bytes, refusing to ship a content document an XML parser would reject."""
    content = page.encode("utf-8")
    try:
        etree.fromstring(content)
    except etree.XMLSyntaxError as exc:
        raise PipelineError(f"EPUB {where} is not well-formed XHTML: {exc}") from None
    return content


def cover_page(doc: Document) -> bytes:
    """The cover as real text a screen reader and a search can read, with the cover picture."""
    meta = doc.meta
    lines = ['<main class="cover">', f"<h1>{escape(meta.title)}</h1>"]
    if meta.subtitle:
        lines.append(f'<p class="subtitle">{escape(meta.subtitle)}</p>')
    lines.append(f'<img src="{COVER_IMAGE_PATH}" alt="{escape(cover_description(doc), quote=True)}" '
                 f'role="doc-cover" epub:type="cover"/>')
    if meta.publisher:
        lines.append(f'<p class="publisher">{escape(meta.publisher)}</p>')
    if meta.date:
        lines.append(f'<p class="date"><time datetime="{escape(meta.date, quote=True)}">'
                     f"{escape(words_for(meta.lang).date(meta.date))}</time></p>")
    if doc.editions:
        say = words_for(meta.lang)
        names = ", ".join(f'<span lang="{escape(e.lang, quote=True)}" xml:lang="{escape(e.lang, quote=True)}">'
                          f"{escape(language_name(e.lang))}</span>" for e in doc.editions)
        lines.append(f'<p class="editions"><span{say.xml_lang_attr}>{escape(say("Also in:"))}</span> {names}</p>')
    lines.append("</main>")
    head = head_links(doc)
    page = document(doc, "\n".join(lines), title=meta.title, head=head, xhtml=True)
    return well_formed(page, COVER_PAGE_PATH)


def cover_description(doc: Document) -> str:
    """The cover picture's alt text: what it shows."""
    say = words_for(doc.meta.lang)
    return say("Cover picture: the title “{title}” above a soft sun rising over gentle green hills.", title=doc.meta.title)


def cover_svg(doc: Document) -> str:
    """A calm cover picture: pale sky, a low sun, gentle hills, and the title in large dark letters."""
    meta = doc.meta
    title_lines = textwrap.wrap(meta.title, 16) or [meta.title]
    size = 58 if len(title_lines) <= 3 else 46
    first_y = 170
    title = "\n".join(
        f'<text x="300" y="{first_y + i * int(size * 1.2)}" text-anchor="middle">{escape(line)}</text>'
        for i, line in enumerate(title_lines)
    )
    publisher = (f'<text x="300" y="860" text-anchor="middle" font-size="24" fill="#24424f">'
                 f"{escape(meta.publisher)}</text>") if meta.publisher else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 600 900" width="600" height="900">
<title>{escape(cover_description(doc))}</title>
<defs>
<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
<stop offset="0" stop-color="#e4f0f5"/>
<stop offset="1" stop-color="#fbf3e6"/>
</linearGradient>
</defs>
<rect width="600" height="900" fill="url(#sky)"/>
<circle cx="300" cy="640" r="120" fill="#f5cf85" opacity="0.85"/>
<path d="M0 660 C 150 600, 300 610, 600 650 L 600 900 L 0 900 Z" fill="#bcdccf"/>
<path d="M0 730 C 200 690, 380 720, 600 700 L 600 900 L 0 900 Z" fill="#97c4b5"/>
<g font-family="sans-serif" font-weight="bold" font-size="{size}" fill="#1c3642">
{title}
</g>
<g font-family="sans-serif">
{publisher}
</g>
</svg>
"""


def read_along(doc: Document, section_id: str, narrations: list[Narration], order: tuple[str, ...]) -> list[Narration]:
    """A section's narrations in the chapter's order, each clip paired with the element that shows
    what it says: the first narration's opening ("Section N of M. Question") with the question and
    its "Section N of M" line; the second's, which repeats it, is left out (its highlight would
    jump back to the top of the chapter). Sentences keep their own ids. Read by section id and
    rendition, whatever the files are called."""
    section = next(s for s in doc.sections if s.id == section_id)
    openings = {section.id, plain_heading(section.id)}
    ranked = sorted(narrations, key=lambda n: order.index(n.rendition) if n.rendition in order else len(order))
    paired = []
    for position, narration in enumerate(ranked):
        clips = tuple(Clip(question_id(section), clip.begin, clip.end) if clip.target in openings else clip
                      for clip in narration.clips if position == 0 or clip.target not in openings)
        paired.append(Narration(narration.rendition, narration.section_id, narration.file, narration.audio, clips))
    return paired


def add_overlay(book: epub.EpubBook, item: ContentDocument, section: Section, narrations: list[Narration]) -> None:
    """Embed a section's MP3s (in the chapter's order) and its SMIL overlay, and tie the overlay
    to the content document."""
    ids = element_ids(item.content)
    stray = [clip.target for narration in narrations for clip in narration.clips if clip.target not in ids]
    if stray:
        raise PipelineError(f"narration of section '{section.id}' targets ids not in its text: {', '.join(stray[:5])}")
    for narration in narrations:
        book.add_item(epub.EpubItem(uid=f"audio-{narration.file.replace('/', '-')}", file_name=narration.file,
                                    media_type="audio/mpeg", content=narration.audio))
    overlay_id = f"overlay-{section.id}"
    book.add_item(epub.EpubSMIL(uid=overlay_id, file_name=f"overlays/{section.id}.smil",
                                content=smil(item.file_name, section, narrations)))
    item.media_overlay = overlay_id
    book.add_metadata(None, "meta", clock(sum(n.duration for n in narrations)),
                      {"property": "media:duration", "refines": f"#{overlay_id}"})


def element_ids(content: bytes) -> set[str]:
    """Every id in a content document."""
    return {str(value) for value in etree.fromstring(content).xpath("//@id")}


def smil(text_path: str, section: Section, narrations: list[Narration]) -> bytes:
    """The Media Overlay: each question, sentence, row, picture and note id paired with its clip of
    the section's MP3s, in the chapter's order."""
    clips = [(narration.file, clip) for narration in narrations for clip in narration.clips]
    pars = "\n".join(
        f'<par id="par-{index}">'
        f'<text src="../{escape(text_path, quote=True)}#{escape(clip.target, quote=True)}"/>'
        f'<audio src="../{escape(file, quote=True)}" clipBegin="{clip.begin:.3f}s" clipEnd="{clip.end:.3f}s"/>'
        f"</par>"
        for index, (file, clip) in enumerate(clips, start=1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">\n'
        "<body>\n"
        f'<seq id="seq-{escape(section.id, quote=True)}" epub:textref="../{escape(text_path, quote=True)}" '
        'epub:type="chapter">\n'
        f"{pars}\n</seq>\n</body>\n</smil>\n"
    ).encode("utf-8")


def clock(seconds: float) -> str:
    """A SMIL clock value (h:mm:ss.fff) as `media:duration` wants it."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def repack(zipped: bytes, moment: dt.datetime) -> bytes:
    """ebooklib's zip with one fixed timestamp and permissions per entry, order kept, MP3s stored."""
    stamp = max(moment, ZIP_EPOCH).astimezone(dt.timezone.utc).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(zipped)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            stored = entry.filename == "mimetype" or entry.filename.endswith(STORED_SUFFIXES)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry))
    return out.getvalue()
