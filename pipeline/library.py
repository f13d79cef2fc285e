"""The clinic's library page, `OUT/index.html`: every built handout with its files, sizes and check result.

It reads only what was built (each folder's page, e-book, audio and `report.json`), never the
sources, so the page says what a patient will actually get when they follow a link.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from . import formats
from .engine.cache import write_atomic
from .config import STYLES_DIR, setting
from .language.words import N_, Words, language_name, words_for

PAGE_TITLE = N_("Patient information library")
STYLESHEET = STYLES_DIR / "library.css"


@dataclass(frozen=True)
class Download:
    """One file a patient can open: what it is, where it is, how big, how long it plays (a recording)
    and how big in its own terms ("24 braille pages")."""

    label: str
    kind: str
    href: str
    size: int
    seconds: float | None = None
    extent: str = ""


@dataclass(frozen=True)
class Handout:
    """One built document folder as the library page shows it."""

    name: str
    title: str
    lang: str
    sections: int
    checked: bool | None
    problems: tuple[str, ...]
    downloads: tuple[Download, ...]
    editions: tuple[str, ...] = ()  # the folders of its other language editions (the page's alternates)
    unverified: tuple[str, ...] = ()  # formats some rule could only say "not verified" of (no recogniser for the language)


class _PageHead(HTMLParser):
    """Reads a built page's `<html lang>` and `<title>` without trusting anything else in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.title = ""
        self.editions: list[str] = []  # the folders of the same handout in other languages
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html" and not self.lang:
            self.lang = found.get("lang") or ""
        if tag == "link" and found.get("rel") == "alternate" and found.get("hreflang"):
            match = re.fullmatch(r"\.\./([^/]+)/index\.html", found.get("href") or "")
            if match:
                self.editions.append(match.group(1))
        self._in_title = tag == "title" and not self.title

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def human_size(size: int) -> str:
    """A file size as people say it ("412 KB", "1.6 MB"), so a patient on a phone plan can decide."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1000:
        return f"{max(1, round(size / 1024))} KB"
    if size < 1024 * 1024 * 1000:
        return f"{size / 1024 ** 2:.1f} MB"
    return f"{size / 1024 ** 3:.1f} GB"


def human_length(seconds: float) -> str:
    """A recording's length as people say it ("3 min 29 s"), so a listener knows what they start."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def iso_length(seconds: float) -> str:
    """The same length as an ISO 8601 duration for `<time datetime>`."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def _page_head(page: Path) -> _PageHead:
    """Title and language of a built web page (empty when there is none)."""
    head = _PageHead()
    if page.is_file():
        head.feed(page.read_text(encoding="utf-8", errors="replace"))
    return head


def _epub_title(epub: Path) -> str:
    """The `dc:title` of a built EPUB's package document (empty when unreadable)."""
    try:
        with zipfile.ZipFile(epub) as book:
            container = book.read("META-INF/container.xml").decode("utf-8")
            opf_path = re.search(r'full-path="([^"]+)"', container)
            opf = book.read(opf_path.group(1)).decode("utf-8") if opf_path else ""
    except (OSError, KeyError, zipfile.BadZipFile):
        return ""
    title = re.search(r"<dc:title[^>]*>(.*?)</dc:title>", opf, re.S)
    return unescape(title.group(1)).strip() if title else ""


def _pdf_title(pdf: Path) -> str:
    """The title in a built PDF's document information (empty when unreadable)."""
    try:
        title = PdfReader(pdf).metadata.title if pdf.is_file() else ""
    except (OSError, PdfReadError, AttributeError, ValueError):
        return ""
    return str(title or "").strip()


def _report(folder: Path) -> dict:
    """The folder's last check report (empty when it was never checked or is unreadable)."""
    try:
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}


def _problems(report: dict) -> tuple[str, ...]:
    """One line per missing section or broken rule in a report, in the format's words."""
    say = library_words()
    found: list[str] = []
    for name, result in sorted((report.get("formats") or {}).items()):
        label = say(formats.label(name)) if name in formats.names() else name
        for section_id, presence in sorted((result.get("sections") or {}).items()):
            if not presence.get("present", False):
                found.append(say("section {section} is missing from the {format}", section=section_id, format=label))
        found.extend(_broken_rule(label, rule) for rule in result.get("rules") or []
                     if not (rule.get("ok") or rule.get("advisory")))
    return tuple(found)


def _broken_rule(label: str, rule: dict) -> str:
    """A failed format rule in one short line: the format, the rule and what was found."""
    detail = " ".join(str(rule.get("detail") or "").split())
    detail = detail if len(detail) <= 160 else detail[:157].rstrip() + "..."
    return f"{label}: {rule.get('name')}" + (f" ({detail})" if detail else "")


def _downloads(folder: Path) -> tuple[Download, ...]:
    """The handout's files that exist, as every format publishes them, the web page first."""
    say = library_words()
    found = []
    for name in formats.names():
        for publication in formats.published(name, folder.name):
            path = folder / publication.path
            if path.is_file():
                found.append(Download(
                    say(publication.label), publication.kind, quote(f"{folder.name}/{publication.path}"),
                    os.path.getsize(path), publication.seconds(path) if publication.seconds else None,
                    publication.extent(path, say) if publication.extent else "",
                ))
    return tuple(found)


def read_handout(folder: Path) -> Handout | None:
    """What the built folder holds, or None when it is not a built handout."""
    downloads = _downloads(folder)
    report = _report(folder)
    if not downloads and not report:
        return None
    head = _page_head(folder / "index.html")
    title = " ".join(head.title.split()) or _epub_title(folder / formats.main_file("epub", folder.name))
    title = title or str(report.get("title") or "") or _pdf_title(folder / formats.main_file("pdf", folder.name))
    title = title or folder.name
    checked = report.get("ok") if isinstance(report.get("ok"), bool) else None
    return Handout(
        name=folder.name,
        title=title,
        lang=head.lang,
        sections=len(report.get("sections") or []),
        checked=checked,
        problems=_problems(report) if checked is False else (),
        downloads=downloads,
        editions=tuple(head.editions),
        unverified=_unverified(report),
    )


def _unverified(report: dict) -> tuple[str, ...]:
    """The formats with a rule that says it could not verify (no speech recogniser for the language)."""
    found = []
    for name, result in sorted((report.get("formats") or {}).items()):
        rules = result.get("rules") if isinstance(result, dict) else None
        if any(isinstance(r, dict) and str(r.get("detail", "")).startswith("not verified") for r in rules or []):
            found.append(name)
    return tuple(found)


def handouts(out_root: Path) -> list[Handout]:
    """Every built handout in the output folder, sorted by title then folder name."""
    found = []
    for folder in sorted(out_root.iterdir()):
        if folder.is_dir() and not folder.name.startswith("."):
            handout = read_handout(folder)
            if handout is not None:
                found.append(handout)
    return grouped(sorted(found, key=lambda h: (h.title.casefold(), h.name)))


def grouped(found: list[Handout]) -> list[Handout]:
    """The handouts in title order, each followed by its editions in other languages (so a clinic
    sees one handout's languages together)."""
    by_name = {h.name: h for h in found}
    placed: set[str] = set()
    ordered: list[Handout] = []
    for handout in found:
        if handout.name in placed:
            continue
        family = [handout] + sorted((by_name[n] for n in handout.editions if n in by_name and n not in placed),
                                    key=lambda h: (h.lang, h.name))
        ordered += family
        placed.update(h.name for h in family)
    return ordered


def _download_item(handout: Handout, download: Download) -> str:
    """One list item: a link named for what it opens, then its type, length and size."""
    facts = [escape(download.kind)] if download.kind.lower() not in download.label.lower() else []
    if download.seconds:
        facts.append(f'<time datetime="{iso_length(download.seconds)}">{human_length(download.seconds)}</time>')
    if download.extent:
        facts.append(escape(download.extent))
    facts.append(f'<data value="{download.size}">{human_size(download.size)}</data>')
    return (
        f'<li><a href="{escape(download.href, quote=True)}">{escape(download.label)}'
        f'<span class="visually-hidden">: {escape(handout.title)}</span></a> '
        f'<span class="facts">({", ".join(facts)})</span></li>'
    )


def _status(handout: Handout, say: Words) -> str:
    """The last check's result in words (never colour alone)."""
    if handout.checked is None:
        return f'<p class="status unchecked">{say.html("Not checked yet.")}</p>'
    if handout.checked:
        sections = (say("all {count} sections", count=handout.sections) if handout.sections else say("every section"))
        unverified = (f' {say.html("The narration was not verified by speech recognition: no recogniser for this language runs here.")}'
                      if "audio" in handout.unverified else "")
        return (f'<p class="status passed"><strong>{say.html("Check passed:")}</strong> '
                f'{say.html("{sections} are in every format.", sections=sections)}{unverified}</p>')
    items = "".join(f"<li>{escape(p)}</li>" for p in handout.problems)
    found = say.plural("{count} problem found.", "{count} problems found.", len(handout.problems))
    return (
        f'<div class="status failed"><p><strong>{say.html("Check failed:")}</strong> {escape(found)} '
        f'{say.html("Do not hand this out until it is fixed.")}</p><ul>{items}</ul></div>'
    )


def _handout_entry(handout: Handout, say: Words, by_name: dict[str, Handout]) -> str:
    """One handout: its title as a heading, the check result and its files."""
    heading_id = f"handout-{handout.name}"
    lang = f' lang="{escape(handout.lang, quote=True)}"' if handout.lang else ""
    downloads = "\n".join(_download_item(handout, d) for d in handout.downloads)
    files = f'<ul class="files">\n{downloads}\n</ul>' if downloads else f"<p>{say.html('No files built yet.')}</p>"
    others = [f'<a href="#handout-{escape(name, quote=True)}" lang="{escape(by_name[name].lang, quote=True)}">'
              f"{escape(language_name(by_name[name].lang))}</a>" for name in handout.editions if name in by_name]
    also = f'<p class="editions">{escape(say("Also in:"))} {", ".join(others)}</p>\n' if others else ""
    return (
        f'<li><article aria-labelledby="{heading_id}">\n'
        f'<h2 id="{heading_id}"{lang}>{escape(handout.title)}</h2>\n'
        f"{also}{_status(handout, say)}\n{files}\n</article></li>"
    )


def _updated(say: Words) -> str:
    """A date line only for reproducible builds (SOURCE_DATE_EPOCH), so rebuilds stay byte-identical."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch.isdigit():
        return ""
    day = datetime.fromtimestamp(int(epoch), tz=timezone.utc).date().isoformat()
    return f'<p>{say("Updated {date}.", date=f"<time datetime={chr(34)}{day}{chr(34)}>{say.date(day)}</time>")}</p>\n'


def library_words() -> Words:
    """The library page's own words, in the library's language (`library_lang` in [tool.pipeline])."""
    return words_for(str(setting("library_lang")))


def render(found: list[Handout]) -> str:
    """The whole library page as HTML, in the library's language (each handout's title in its own)."""
    say = library_words()
    count = say.plural("{count} handout", "{count} handouts", len(found))
    by_name = {h.name: h for h in found}
    entries = "\n".join(_handout_entry(h, say, by_name) for h in found)
    listing = (f'<ul class="library">\n{entries}\n</ul>' if found
               else f"<p>{say.html('No handouts have been built yet.')}</p>")
    css = STYLESHEET.read_text(encoding="utf-8")
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(say.words_lang, quote=True)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(say(PAGE_TITLE))}</title>\n<style>\n{css}</style>\n</head>\n<body>\n"
        f'<a class="skip-link" href="#main">{escape(say("Skip to the handouts"))}</a>\n'
        f'<header><p class="site-name">{escape(say(PAGE_TITLE))}</p></header>\n'
        f'<main id="main" tabindex="-1">\n<h1>{escape(say("Handouts for patients"))}</h1>\n'
        f"<p>{escape(count)}. {escape(say('Each one comes as {formats}.', formats=formats.in_words(formats.names(), say)))}</p>\n"
        f"{listing}\n</main>\n"
        f"<footer>\n<p>{escape(say('Every file is checked to hold every section before it is listed as passed.'))}</p>\n"
        f"{_updated(say)}</footer>\n</body>\n</html>\n"
    )


def build_index(out_root: Path) -> Path:
    """Write `out_root/index.html` atomically from the built folders; returns its path."""
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    return write_atomic(out_root / "index.html", render(handouts(out_root)).encode("utf-8"))
