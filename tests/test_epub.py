"""The EPUB 3 e-book: valid (EPUBCheck), accessible, read aloud in sync, reproducible, and checked for real."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from pipeline import checks
from pipeline.manifest import Manifest
from pipeline.engine.build import BuildOptions, build
from pipeline.checks import epub as epub_check
from pipeline.checks.presence import in_order_ratio
from pipeline.formats import epub as epub_format
from pipeline.formats.audio import RENDITIONS
from pipeline.language.narration import spoken
from pipeline.model import Metadata
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"
EPOCH = 1_764_028_800  # 2025-11-25T00:00:00Z
NS = epub_check.NS
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def book_path(folder: Path, doc) -> Path:
    """The built e-book in a built folder."""
    return folder / f"{doc.name}.epub"


def rewrite(book: Path, change) -> None:
    """Rewrite the zip in place, entry order kept; `change(name, bytes)` returns new bytes or None to drop."""
    with zipfile.ZipFile(book) as old:
        entries = [(info, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as new:
        for info, content in entries:
            changed = change(info.filename, content)
            if changed is not None:
                new.writestr(info, changed)


def rule(report, name: str):
    """The named rule of a format report."""
    return next(r for r in report.rules if r.name == name)


@pytest.fixture(scope="session")
def faq_epub_report(faq_built, faq_doc):
    """The EPUB check of the real FAQ built with every format (read-only)."""
    return epub_check.check(faq_doc, faq_built)


@pytest.fixture(scope="session")
def sample_epub_report(sample_built, sample_doc):
    """The EPUB check of the fixture FAQ built with every format (read-only)."""
    return epub_check.check(sample_doc, sample_built)


@pytest.mark.parametrize("which", ["faq", "sample"])
def test_epubcheck_clean_with_read_aloud(request, which):
    doc = request.getfixturevalue(f"{which}_doc")
    report = request.getfixturevalue(f"{which}_epub_report")
    figures = report.figures["epubcheck"]
    assert (figures["fatal"], figures["error"], figures["warning"]) == (0, 0, 0), rule(report, "EPUBCheck").detail
    assert report.figures["overlays"] == len(doc.sections)
    assert all(p.present for p in report.sections.values()), report.sections
    assert report.ok, [r for r in report.rules if not r.ok]


@pytest.mark.parametrize("which", ["faq", "sample"])
def test_overlays_replay_the_built_narration(request, which):
    """Each SMIL clip is the audio format's clip, the plain words' then the full answer's (the
    default `epub_first`), and the embedded MP3s are the built ones, byte for byte. The plain
    narration's opening ("Section N of M. Question") highlights the question with its "Section N of
    M" line; the full narration's, which repeats it, is not played."""
    doc = request.getfixturevalue(f"{which}_doc")
    folder = request.getfixturevalue(f"{which}_built")
    renditions = {r.name: (r.folder, json.loads((r.directory(folder) / "timings.json").read_text(encoding="utf-8")))
                  for r in RENDITIONS}
    with zipfile.ZipFile(book_path(folder, doc)) as book:
        for section in doc.sections:
            smil = etree.fromstring(book.read(f"EPUB/overlays/{section.id}.smil"))
            pars = [
                (p.find("smil:text", NS).get("src").split("#")[1], p.find("smil:audio", NS).get("src"),
                 epub_check.clock(p.find("smil:audio", NS).get("clipBegin")),
                 epub_check.clock(p.find("smil:audio", NS).get("clipEnd")))
                for p in smil.xpath("//smil:par", namespaces=NS)
            ]
            sources = []
            for name in ("plain", "full"):
                where, timings = renditions[name]
                entry = next(e for e in timings["sections"] if e["id"] == section.id)
                assert book.read(f"EPUB/{where}/{entry['file']}") == (folder / where / entry["file"]).read_bytes()
                src = f"../{where}/{entry['file']}"
                sources.append(src)
                mine = [(t, b, e) for t, s, b, e in pars if s == src]
                clips = entry["clips"] if name == "plain" else entry["clips"][1:]  # the full one's opening is left out
                expected = [epub_format.question_id(section) if c["target"] in (section.id, f"{section.id}_p") else c["target"]
                            for c in clips]
                assert [t for t, _, _ in mine] == expected
                for (_, begin, end), clip, following in zip(mine, clips, clips[1:] + [None]):
                    assert abs(begin - clip["begin"]) < 0.0015
                    # a clip runs on through the pause after it, so reading apps keep the narration's pauses
                    assert abs(end - (following["begin"] if following else entry["duration"])) < 0.0015
                    assert end >= clip["end"]
            assert [s for _, s, _, _ in pars] == sorted((s for _, s, _, _ in pars), key=sources.index)  # plain first
            assert pars[0][0] == epub_format.question_id(section)


@pytest.mark.parametrize("which", ["faq", "sample"])
def test_read_along_says_what_it_highlights(request, which):
    """Every SMIL text/audio pair: the clip's transcript (the WebVTT cue beside its MP3) is what the
    element shows; the question is shown with the "Section N of M" its narration says."""
    doc = request.getfixturevalue(f"{which}_doc")
    report = request.getfixturevalue(f"{which}_epub_report")
    assert rule(report, "read-along matches").ok, rule(report, "read-along matches").detail
    assert report.figures["read_along_lowest"] >= epub_check.READ_ALONG_MIN
    assert report.figures["read_along_pairs"] >= 2 * len(doc.sections)
    folder = request.getfixturevalue(f"{which}_built")
    with zipfile.ZipFile(book_path(folder, doc)) as book:
        first = doc.sections[0]
        page = etree.fromstring(book.read(f"EPUB/text/{first.id}.xhtml"))
    question = page.xpath("//*[@id=$id]", id=epub_format.question_id(first))[0]
    assert " ".join("".join(question.itertext()).split()) == f"Section 1 of {len(doc.sections)}. {first.title}"
    parts = page.xpath("//x:section[@class='plain' or @class='full']/x:h2", namespaces=NS)
    assert ["".join(h.itertext()) for h in parts] == ["In plain words", "The full answer"]


@pytest.mark.parametrize("breakage", [
    "swap two clips",              # the first two pars' audio exchanged: each says the other's words
    "heading on the plain label",  # the old pairing: the spoken question highlights "In plain words"
])
def test_read_along_that_says_another_thing_fails(sample_built, sample_doc, copy_of, breakage):
    folder = copy_of(sample_built)
    first = sample_doc.sections[0].id

    def corrupt(name: str, data: bytes) -> bytes:
        if name != f"EPUB/overlays/{first}.smil":
            return data
        smil = data.decode()
        if breakage == "swap two clips":
            audios = re.findall(r"<audio [^>]*/>", smil)
            broken = smil.replace(audios[1], "\0").replace(audios[2], audios[1]).replace("\0", audios[2])
        else:
            broken = smil.replace(f"#{epub_format.question_id(sample_doc.sections[0])}\"", f'#{first}_p"', 1)
        assert broken != smil
        return broken.encode()

    rewrite(book_path(folder, sample_doc), corrupt)
    report = epub_check.check(sample_doc, folder)
    assert not rule(report, "read-along matches").ok
    assert "says '" in rule(report, "read-along matches").detail


def test_recogniser_hears_what_the_first_chapter_highlights(sample_built, sample_doc, tmp_path):
    """What the recogniser (pocketsphinx, with the handout's words) hears in each clip of the first
    chapter's overlay is the text of the element that clip highlights, more than any other element's
    of that chapter: so "Section 1 of 3. What is a mammogram?" is heard where the question with its
    "Section 1 of 3." line is highlighted. Negative control: heard against its neighbour's element,
    a clip scores lower."""
    from pipeline.audio import ffmpeg
    from pipeline.checks import audio as audio_check
    from pipeline.checks import hearing

    first = sample_doc.sections[0]
    dictionary, language_model = hearing.model_for(sample_doc).files()
    audio_check._start_decoder(str(dictionary), str(language_model))
    with zipfile.ZipFile(book_path(sample_built, sample_doc)) as book:
        smil = etree.fromstring(book.read(f"EPUB/overlays/{first.id}.smil"))
        page = etree.fromstring(book.read(f"EPUB/text/{first.id}.xhtml"))
        pcm: dict[str, bytes] = {}
        pairs = []
        for par in smil.xpath("//smil:par", namespaces=NS):
            audio = par.find("smil:audio", NS)
            src = "EPUB/" + audio.get("src").removeprefix("../")
            if src not in pcm:
                (tmp_path / "clip.mp3").write_bytes(book.read(src))
                pcm[src] = ffmpeg.decode(tmp_path / "clip.mp3", audio_check.ASR_RATE)
            begin, end = (round(epub_check.clock(audio.get(k)) * audio_check.ASR_RATE) * 2 for k in ("clipBegin", "clipEnd"))
            element = page.xpath("//*[@id=$id]", id=par.find("smil:text", NS).get("src").split("#")[1])[0]
            pairs.append((audio_check._listen(pcm[src][begin:end]), epub_check.element_text(element)))

    def agreement(heard: str, shown: str) -> float:
        want = set(hearing.said_words(spoken(shown)))
        return len(want & set(hearing.said_words(heard))) / max(1, len(want))

    for index, (heard, shown) in enumerate(pairs):
        own = agreement(heard, shown)
        others = [agreement(heard, other) for j, (_, other) in enumerate(pairs) if j != index and other != shown]
        print(f"\n{own:.2f} vs {max(others):.2f}: heard '{heard}' for '{shown}'")
        assert own >= 0.6 and own > max(others), (heard, shown)
    assert " ".join(hearing.said_words(pairs[0][0]))[:len("section one of three")] == "section one of three"


@pytest.mark.parametrize("breakage", ["certified by its own title", "a recorded voice"])
def test_accessibility_metadata_that_misdescribes_the_book_fails(sample_built, sample_doc, copy_of, breakage):
    """Negative controls: the book naming itself as its certifier, or calling its synthetic voice recorded."""
    folder = copy_of(sample_built)

    def corrupt(name: str, data: bytes) -> bytes:
        if not name.endswith(".opf"):
            return data
        if breakage == "certified by its own title":
            return data.replace(b"</metadata>", f'<meta property="a11y:certifiedBy">{sample_doc.meta.title}</meta></metadata>'.encode())
        return data.replace(b"read aloud by a synthetic (computer) voice", b"narrated by a recorded voice")

    rewrite(book_path(folder, sample_doc), corrupt)
    assert not rule(epub_check.check(sample_doc, folder), "accessibility metadata").ok


@pytest.mark.fast
def test_read_along_score_tells_a_clip_from_its_neighbours():
    """The pairing score: the spoken question matches the question shown with its "Section N of M"
    line, not the title alone nor the "In plain words" label; a row's words are matched with its
    column names; a short sentence's clip on a longer one that holds its words does not match."""
    def element(xml: str):
        return etree.fromstring(f'<div xmlns="http://www.w3.org/1999/xhtml">{xml}</div>')[0]

    question = element('<header><p class="position">Section 7 of 8.</p><h1>How likely is it?</h1></header>')
    said = "Section 7 of 8. How likely is it?"
    assert epub_check.shown_share(said, question) == 1.0
    assert epub_check.shown_share(said, element("<h1>How likely is it?</h1>")) < epub_check.READ_ALONG_MIN
    assert epub_check.shown_share(said, element("<h2>In plain words</h2>")) == 0.0
    row = element("<table><thead><tr><th>Medicine</th><th>Day</th></tr></thead>"
                  "<tbody><tr><td>Tamoxifen</td><td>every day</td></tr></tbody></table>").find(".//{*}tbody/{*}tr")
    assert epub_check.shown_share("Tamoxifen. Day: every day.", row) == 1.0
    longer = element("<span>This is called a “recurrence,” because it is not a new cancer.</span>")
    assert epub_check.shown_share("This is called a recurrence.", longer) < epub_check.READ_ALONG_MIN


def test_care_team_line_ends_the_book(sample_built, sample_doc, copy_of):
    """The book's last page ends with the care-team line; a book without it fails the check."""
    report = epub_check.check(sample_doc, sample_built)
    assert rule(report, "care-team line").ok
    folder = copy_of(sample_built)
    rewrite(book_path(folder, sample_doc), lambda name, data: re.sub(
        rb'<footer class="care-team">.*?</footer>', b"", data, flags=re.S) if name.endswith(".xhtml") else data)
    assert not rule(epub_check.check(sample_doc, folder), "care-team line").ok


def test_full_answer_first_when_configured(tmp_path, sample_doc):
    """`epub_first = "full"`: each chapter shows the full answer first, the plain one after it."""
    folder = build(SAMPLE, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", formats=("epub",),
                                        settings={"epub_first": "full"}, quiet=True))
    with zipfile.ZipFile(book_path(folder, sample_doc)) as book:
        page = etree.fromstring(book.read(f"EPUB/text/{sample_doc.sections[0].id}.xhtml"))
    assert page.xpath("//x:section[@class='plain' or @class='full']/@class", namespaces=NS) == ["full", "plain"]
    assert epub_check.check(sample_doc, folder).ok


def test_opf_metadata_and_accessibility(faq_built, faq_doc):
    with zipfile.ZipFile(book_path(faq_built, faq_doc)) as book:
        assert book.namelist()[0] == "mimetype" and book.infolist()[0].compress_type == zipfile.ZIP_STORED
        opf = etree.fromstring(book.read("EPUB/content.opf"))
    text = lambda xpath: [" ".join(e.text.split()) for e in opf.xpath(xpath, namespaces=NS)]  # noqa: E731
    assert text("//dc:identifier") == [faq_doc.meta.identifier]
    assert text("//dc:language") == [faq_doc.meta.lang]
    assert text("//dc:publisher") == [faq_doc.meta.publisher]
    assert text("//dc:date") == [faq_doc.meta.date]
    assert faq_doc.meta.title in text("//dc:title")
    prop = lambda name: text(f"//opf:meta[@property='{name}' and not(@refines)]")  # noqa: E731
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", prop("dcterms:modified")[0])
    assert set(prop("schema:accessMode")) == {"textual", "visual", "auditory"}
    assert "textual" in prop("schema:accessModeSufficient")
    assert {"structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability",
            "synchronizedAudioText"} <= set(prop("schema:accessibilityFeature"))
    assert prop("schema:accessibilityHazard") == ["none"]
    assert prop("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    assert prop("a11y:certifiedBy") == []  # no one certified it: the book does not name itself
    summary = prop("schema:accessibilitySummary")[0]
    assert "synthetic" in summary and "recorded" not in summary
    assert prop("media:active-class") == ["-epub-media-overlay-active"]
    per_item = [epub_check.clock(v) for v in text("//opf:meta[@property='media:duration' and @refines]")]
    assert len(per_item) == len(faq_doc.sections)
    assert abs(sum(per_item) - epub_check.clock(prop("media:duration")[0])) < 0.01


def test_content_documents_are_xhtml_with_every_sentence(faq_built, faq_doc):
    """One XHTML document per section: heading with the section id, then every narrated sentence span."""
    with zipfile.ZipFile(book_path(faq_built, faq_doc)) as book:
        cover = etree.fromstring(book.read("EPUB/cover.xhtml"))
        assert "".join(cover.find(".//x:h1", NS).itertext()) == faq_doc.meta.title
        image = cover.find(".//x:img", NS)
        assert image.get("alt") and faq_doc.meta.title in image.get("alt")
        assert book.read("EPUB/images/cover.svg").startswith(b"<?xml")
        nav = etree.fromstring(book.read("EPUB/nav.xhtml"))
        assert nav.xpath("//x:nav[@epub:type='landmarks']", namespaces=NS)
        ncx = etree.fromstring(book.read("EPUB/toc.ncx"))
        assert len(ncx.xpath("//n:navPoint", namespaces={"n": "http://www.daisy.org/z3986/2005/ncx/"})) == len(
            faq_doc.sections) + 1  # one per section, then the glossary
        for section in faq_doc.sections:
            page = etree.fromstring(book.read(f"EPUB/text/{section.id}.xhtml"))  # well-formed XML or it raises
            assert page.get("lang") == faq_doc.meta.lang
            heading = page.find(".//x:h1", NS)
            assert heading.get("id") == section.id and "".join(heading.itertext()) == section.title
            ids = set(page.xpath("//@id"))
            assert {u.target for u in section.narration} <= ids
            assert in_order_ratio(section.full_text, " ".join(page.find("x:body", NS).itertext())) == 1.0


@pytest.mark.fast
def test_stylesheet_lets_reader_settings_win():
    css = re.sub(r"/\*.*?\*/", "", (ROOT / "styles" / "epub.css").read_text(encoding="utf-8"), flags=re.S)
    assert not re.search(r"font-size\s*:\s*[\d.]+\s*(px|pt|cm|mm|in)\b", css)
    assert not re.search(r"\d(px|pt)\b", css)
    assert "!important" not in css and "font-family" not in css
    assert ".-epub-media-overlay-active" in css


def test_deleted_chapter_is_named(sample_built, sample_doc, copy_of):
    folder = copy_of(sample_built)
    section = sample_doc.sections[1]
    rewrite(book_path(folder, sample_doc), lambda name, data: None if name == f"EPUB/text/{section.id}.xhtml" else data)
    report = epub_check.check(sample_doc, folder)
    assert not report.sections[section.id].present
    assert [s for s, p in report.sections.items() if not p.present] == [section.id]
    assert f"section '{section.id}' missing from epub" in " ".join(checks.failures(sample_doc, [report]))


def test_deleted_nav_entry_is_named(sample_built, sample_doc, copy_of):
    folder = copy_of(sample_built)
    section = sample_doc.sections[-1]

    def drop_entry(name: str, data: bytes) -> bytes:
        if name != "EPUB/nav.xhtml":
            return data
        cut = re.sub(rf'<li>\s*<a href="text/{section.id}\.xhtml">.*?</li>', "", data.decode(), flags=re.S)
        assert cut != data.decode()
        return cut.encode()

    rewrite(book_path(folder, sample_doc), drop_entry)
    report = epub_check.check(sample_doc, folder)
    assert [s for s, p in report.sections.items() if not p.present] == [section.id]
    assert "nav" in report.sections[section.id].detail
    assert f"section '{section.id}' missing from epub" in " ".join(checks.failures(sample_doc, [report]))


@pytest.mark.parametrize("breakage, rule_name", [
    (lambda smil, first: smil.replace(f'#{first}_s1"', '#no-such-sentence"', 1), "overlay references"),
    (lambda smil, first: re.sub(r'clipEnd="[\d.]+s"', 'clipEnd="9999.000s"', smil, count=2), "overlay references"),
    (lambda smil, first: re.sub(r'src="\.\./audio/[^"]+"', 'src="../audio/gone.mp3"', smil, count=1),
     "overlay references"),
    (lambda smil, first: re.sub(r"<par [^>]*>.*?</par>\s*", "", smil, count=2, flags=re.S),
     "overlays cover every sentence"),
])
def test_broken_smil_fails_the_check(sample_built, sample_doc, copy_of, breakage, rule_name):
    folder = copy_of(sample_built)
    first = sample_doc.sections[0].id

    def corrupt(name: str, data: bytes) -> bytes:
        if name != f"EPUB/overlays/{first}.smil":
            return data
        broken = breakage(data.decode(), first)
        assert broken != data.decode()
        return broken.encode()

    rewrite(book_path(folder, sample_doc), corrupt)
    report = epub_check.check(sample_doc, folder)
    assert not rule(report, rule_name).ok
    assert not report.ok
    assert any(line.startswith(f"epub: {rule_name}") for line in checks.failures(sample_doc, [report]))


def test_injected_script_fails_the_check(sample_built, sample_doc, copy_of):
    folder = copy_of(sample_built)
    target = f"EPUB/text/{sample_doc.sections[0].id}.xhtml"
    rewrite(book_path(folder, sample_doc), lambda name, data: data.replace(
        b"</section>", b'<p onclick="steal()">x</p><script>steal()</script></section>') if name == target else data)
    report = epub_check.check(sample_doc, folder)
    assert not rule(report, "no scripts").ok and not rule(report, "EPUBCheck").ok


def test_hostile_source_never_reaches_the_epub(tmp_path):
    source = tmp_path / "hostile.md"
    source.write_text(SAMPLE.read_text(encoding="utf-8").replace(
        "A mammogram is an X-ray picture of the breast.",
        'A mammogram is an X-ray picture of the breast. <script>alert("owned")</script>'
        '<iframe src="https://evil.example/"></iframe> [click](javascript:alert(1)) '
        '<img src="x" onerror="alert(2)">', 1), encoding="utf-8")
    folder = build(source, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache",
                                        formats=("epub",), quiet=True))
    with zipfile.ZipFile(folder / "hostile.epub") as book:
        everything = b"".join(book.read(name) for name in book.namelist()).lower()
    for needle in (b"<script", b"alert(", b"<iframe", b"evil.example", b"javascript:", b"onerror"):
        assert needle not in everything, needle
    report = epub_check.check(parse(source), folder)
    assert report.ok, [r for r in report.rules if not r.ok]


def test_plain_epub_without_audio_is_clean(tmp_path, sample_doc):
    folder = build(SAMPLE, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache",
                                        formats=("epub",), quiet=True))
    with zipfile.ZipFile(book_path(folder, sample_doc)) as book:
        assert not [n for n in book.namelist() if n.endswith((".mp3", ".smil"))]
        opf = book.read("EPUB/content.opf").decode()
    assert "media-overlay" not in opf and "synchronizedAudioText" not in opf and "auditory" not in opf
    report = epub_check.check(sample_doc, folder)
    assert report.figures["epubcheck"]["warning"] == report.figures["epubcheck"]["error"] == 0
    assert report.figures["overlays"] == 0 and report.ok


def test_reproducible_with_source_date_epoch(tmp_path, monkeypatch, sample_built, sample_doc):
    """Two builds with one SOURCE_DATE_EPOCH: same bytes, the epoch in every zip entry and in dcterms:modified."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    hashes = []
    for run in ("first", "second"):
        folder = tmp_path / run
        shutil.copytree(sample_built, folder)
        (folder / f"{sample_doc.name}.epub").unlink()
        narration = Manifest.from_record(json.loads((folder / ".build.json").read_text())["audio"]["manifest"])
        options = BuildOptions(out_root=tmp_path, cache_dir=tmp_path / "cache", formats=("audio", "epub"), quiet=True,
                               handed={"audio": narration})
        assert options.source_date_epoch == EPOCH
        path = folder / epub_format.build(sample_doc, folder, options).main
        hashes.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert hashes[0] == hashes[1]
    with zipfile.ZipFile(path) as book:
        assert {info.date_time for info in book.infolist()} == {(2025, 11, 25, 0, 0, 0)}
        assert b'<meta property="dcterms:modified">2025-11-25T00:00:00Z</meta>' in book.read("EPUB/content.opf")


@pytest.mark.fast
def test_plain_builds_reproducible_through_the_build_loop(tmp_path):
    digests = set()
    for run in ("a", "b"):
        folder = build(SAMPLE, BuildOptions(out_root=tmp_path / run, cache_dir=tmp_path / "cache", formats=("epub",),
                                            source_date_epoch=EPOCH, quiet=True))
        digests.add(hashlib.sha256((folder / "sample-faq.epub").read_bytes()).hexdigest())
    assert len(digests) == 1


@pytest.mark.fast
def test_identifier_is_stable_when_the_source_has_none():
    meta = Metadata(title="Getting Ready", lang="en-US")
    first = epub_format.identifier(meta, "getting-ready")
    assert first == epub_format.identifier(meta, "getting-ready")
    assert first.startswith("urn:uuid:") and first != epub_format.identifier(meta, "other")
    assert epub_format.modified_time(EPOCH) == dt.datetime(2025, 11, 25, tzinfo=dt.timezone.utc)


def test_axe_finds_no_accessibility_violation(faq_built, faq_doc, tmp_path):
    """What Ace by DAISY runs inside: axe-core on every content document, WCAG 2.x A/AA and best practice."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    with zipfile.ZipFile(book_path(faq_built, faq_doc)) as book:
        book.extractall(tmp_path)
    pages = sorted((tmp_path / "EPUB").rglob("*.xhtml"))
    assert len(pages) == len(faq_doc.sections) + 3  # title page, contents, one per section, the glossary
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        for path in pages:
            page.goto(path.as_uri())
            result = Axe().run(page, options={"runOnly": {"type": "tag", "values": tags}})
            found[path.name] = [v["id"] for v in result.response["violations"]]
        browser.close()
    assert not any(found.values()), found


@pytest.mark.skipif(shutil.which("ebook-convert") is None, reason="Calibre (Debian package calibre) not installed")
@pytest.mark.parametrize("which", ["faq", "sample"])
def test_calibre_reads_every_section(request, which, tmp_path):
    """A second, independent reader: Calibre converts the e-book to text holding every section in order."""
    doc = request.getfixturevalue(f"{which}_doc")
    folder = request.getfixturevalue(f"{which}_built")
    text_path = tmp_path / f"{doc.name}.txt"
    result = subprocess.run(["ebook-convert", str(book_path(folder, doc)), str(text_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    text = text_path.read_text(encoding="utf-8")
    assert doc.meta.title in text
    for section in doc.sections:
        assert section.title in text, section.id
        assert in_order_ratio(section.full_text, text) >= 0.95, section.id
