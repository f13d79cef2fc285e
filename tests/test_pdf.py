"""The large-print PDF handout: built for real by WeasyPrint, read back with pypdf, pdfplumber and poppler."""

from __future__ import annotations

import dataclasses
import http.server
import io
import logging
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pdfplumber
import pytest
import weasyprint
from pypdf import PdfReader, PdfWriter

from pipeline import checks
from pipeline.engine.build import BuildOptions, build
from pipeline.checks import pdf as pdf_check
from pipeline.checks import presence
from pipeline.config import PROJECT_ROOT
from pipeline.formats import pdf as pdf_format

ROOT = Path(__file__).resolve().parent.parent
FAQ = ROOT / "source" / "breast-cancer-recurrence.md"
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"
EPOCH = 1_764_000_000
TWELVE_POINT = """
html { font-family: "Atkinson Hyperlegible", sans-serif; font-size: 12pt; line-height: 1.2; }
@page { margin: 1in; @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 14pt; }
        @top-left { content: string(handout-title); font-size: 14pt; } }
.cover h1 { string-set: handout-title content(); }
h1, h2 { bookmark-level: none; }
main h2 { bookmark-level: 1; font-size: 14pt; }
"""


def pdf_only(source: Path, root: Path, **options: object) -> Path:
    """Build just the PDF of a source into root/out (own cache); returns the built folder."""
    return build(source, BuildOptions(out_root=root / "out", cache_dir=root / "cache", formats=("pdf",),
                                      quiet=True, **options))


@pytest.fixture(scope="module")
def faq_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real FAQ's PDF alone, built once for this module."""
    return pdf_only(FAQ, tmp_path_factory.mktemp("faq-pdf"))


def pdf_of(folder: Path) -> Path:
    """The handout file in a built folder."""
    return folder / f"{folder.name}.pdf"


def test_check_passes_on_the_faq_in_the_full_build(faq_built: Path, faq_doc) -> None:
    report = pdf_check.check(faq_doc, faq_built)
    assert report.ok, checks.failures(faq_doc, [report])
    assert set(report.sections) == {s.id for s in faq_doc.sections}
    assert report.figures["smallest_body_pt"] >= 18
    assert report.figures["smallest_running_pt"] >= 14
    assert all(name.startswith("Atkinson-Hyperlegible") for name in report.figures["fonts"])


@pytest.mark.fast
def test_check_passes_on_the_sample_faq(tmp_path: Path, sample_doc) -> None:
    report = pdf_check.check(sample_doc, pdf_only(SAMPLE, tmp_path))
    assert report.ok, checks.failures(sample_doc, [report])
    assert len(report.sections) == len(sample_doc.sections)


@pytest.mark.fast
def test_check_fails_on_a_twelve_point_handout(tmp_path: Path, faq_doc) -> None:
    folder = tmp_path / faq_doc.name
    folder.mkdir()
    small = pdf_format.handout_pdf(faq_doc, "letter", EPOCH, css=TWELVE_POINT)
    (folder / f"{faq_doc.name}.pdf").write_bytes(small)
    report = pdf_check.check(faq_doc, folder)
    assert not report.ok
    assert report.figures["smallest_body_pt"] == pytest.approx(12, abs=0.1)
    failed = {rule.name for rule in report.rules if not rule.ok}
    assert "body type size" in failed
    assert any("pdf: body type size: smallest body text 12 pt" in line for line in checks.failures(faq_doc, [report]))


@pytest.mark.fast
def test_remembered_text_equals_a_fresh_reading_and_follows_the_bytes(
        tmp_path: Path, faq_doc, faq_pdf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second check reuses the text read from the PDF with the same report; a changed PDF is read again."""
    monkeypatch.setenv("PIPELINE_CACHE", str(tmp_path / "memo"))
    folder = tmp_path / faq_doc.name
    folder.mkdir()
    shutil.copy(pdf_of(faq_pdf), folder / f"{faq_doc.name}.pdf")
    fresh = pdf_check.check(faq_doc, folder)
    assert list((tmp_path / "memo" / "pdf-text").rglob("*.json")), "the text was not remembered"
    assert dataclasses.asdict(pdf_check.check(faq_doc, folder)) == dataclasses.asdict(fresh)
    writer = PdfWriter(clone_from=PdfReader(pdf_of(faq_pdf)))
    writer.remove_page(len(writer.pages) - 1)
    with open(folder / f"{faq_doc.name}.pdf", "wb") as handle:
        writer.write(handle)
    shorter = pdf_check.check(faq_doc, folder)
    assert shorter.figures["pages"] == fresh.figures["pages"] - 1
    running = next(r for r in shorter.rules if r.name == "running header and footer")
    assert not running.ok, running.detail  # the pages still say "of N" for the old N


@pytest.mark.fast
def test_removing_a_sections_pages_is_caught_naming_it(tmp_path: Path, faq_doc, faq_pdf: Path) -> None:
    reader = PdfReader(pdf_of(faq_pdf))
    last = faq_doc.sections[-1]
    first_page = next(reader.get_destination_page_number(b) for b in reader.outline if b.title == last.title)
    writer = PdfWriter(clone_from=reader)
    for number in reversed(range(first_page, len(reader.pages))):
        writer.remove_page(number)
    folder = tmp_path / faq_doc.name
    folder.mkdir()
    with open(folder / f"{faq_doc.name}.pdf", "wb") as handle:
        writer.write(handle)
    report = pdf_check.check(faq_doc, folder)
    assert not report.sections[last.id].present
    assert f"section '{last.id}' missing from pdf" in "\n".join(checks.failures(faq_doc, [report]))


@pytest.mark.fast
def test_a_source_missing_a_section_builds_a_pdf_the_check_rejects(tmp_path: Path, faq_doc) -> None:
    gone = faq_doc.sections[2]
    text = FAQ.read_text(encoding="utf-8")
    start = text.index(f"## {gone.title}")
    end = text.index("## ", start + 3)
    shortened = tmp_path / FAQ.name
    shortened.write_text(text[:start] + text[end:], encoding="utf-8")
    report = pdf_check.check(faq_doc, pdf_only(shortened, tmp_path))
    problems = checks.failures(faq_doc, [report])
    assert [p for p in problems if p.startswith("section ")] == [
        f"section '{gone.id}' missing from pdf: heading '{gone.title}' not found (no bookmark)"
    ]
    assert any(p.startswith("pdf: outline: missing: " + gone.title) for p in problems)


@pytest.mark.fast
def test_first_page_is_a_handout_cover_with_true_page_numbers(faq_doc, faq_pdf: Path) -> None:
    reader = PdfReader(pdf_of(faq_pdf))
    opens = {b.title: reader.get_destination_page_number(b) + 1 for b in reader.outline}
    with pdfplumber.open(pdf_of(faq_pdf)) as document:
        cover = document.pages[0].extract_text()
    flat = " ".join(cover.split())
    for words in (faq_doc.meta.title, faq_doc.meta.subtitle, "November 25, 2026", faq_doc.meta.publisher,
                  "About this handout", "e-book", "web page", "audio", "Contents"):
        assert words in flat, words
    for section in faq_doc.sections:
        entry = re.search(re.escape(section.title) + r"[ .]*(\d+)", flat)
        assert entry, section.title
        assert int(entry.group(1)) == opens[section.title]


@pytest.mark.fast
def test_catalog_is_pdf_ua_with_labels_and_metadata(faq_doc, faq_pdf: Path) -> None:
    reader = PdfReader(pdf_of(faq_pdf))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-US"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert "/StructTreeRoot" in root
    assert reader.page_labels == [str(n) for n in range(1, len(reader.pages) + 1)]
    assert [b.title for b in reader.outline] == [s.title for s in faq_doc.sections]
    assert reader.metadata.title == faq_doc.meta.title
    assert reader.metadata.author == faq_doc.meta.publisher
    assert reader.metadata.subject == faq_doc.meta.description
    xmp = root["/Metadata"].get_object().get_data()
    assert b"pdfuaid:part=\"1\"" in xmp or b"<pdfuaid:part>1</pdfuaid:part>" in xmp


@pytest.mark.fast
def test_every_body_character_is_large_print(faq_pdf: Path) -> None:
    with pdfplumber.open(pdf_of(faq_pdf)) as document:
        for page in document.pages:
            for char in page.chars:
                if not char["text"].strip():
                    continue
                floor = 14 if pdf_check.is_running(char, page.height) else 18
                assert char["size"] >= floor - 0.01, (page.page_number, char["text"], char["size"])
                assert "Italic" not in char["fontname"]


@pytest.mark.fast
@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_pdffonts_lists_only_embedded_fonts(faq_pdf: Path) -> None:
    listing = subprocess.run(["pdffonts", str(pdf_of(faq_pdf))], capture_output=True, text=True, check=True).stdout
    rows = listing.splitlines()[2:]
    assert rows
    for row in rows:
        name, emb = row.split()[0], row.split()[-5]
        assert emb == "yes", row
        assert "AtkinsonHyperlegible" in name.replace("-", "")


@pytest.mark.fast
def test_a4_build_has_a4_pages(tmp_path: Path) -> None:
    reader = PdfReader(pdf_of(pdf_only(SAMPLE, tmp_path, settings={"paper": "a4"})))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


@pytest.mark.fast
def test_letter_is_the_default(faq_pdf: Path) -> None:
    box = PdfReader(pdf_of(faq_pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


@pytest.mark.fast
def test_same_source_date_epoch_gives_identical_bytes(tmp_path: Path) -> None:
    first = pdf_of(pdf_only(FAQ, tmp_path / "one", source_date_epoch=EPOCH)).read_bytes()
    second = pdf_of(pdf_only(FAQ, tmp_path / "two", source_date_epoch=EPOCH)).read_bytes()
    assert first == second
    info = PdfReader(pdf_of(tmp_path / "one" / "out" / FAQ.stem)).metadata
    assert info["/CreationDate"].startswith("D:20251124160000")


@pytest.mark.fast
@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/logo.png",
    "https://example.org/style.css",
    "ftp://example.org/x",
    "file:///etc/passwd",
    "file://otherhost/share/x.png",
    f"{PROJECT_ROOT.as_uri()}/../../etc/passwd",
])
def test_fetcher_refuses_the_network_and_files_outside_the_project(url: str) -> None:
    with pytest.raises(pdf_format.RefusedResource):
        pdf_format.HandoutFetcher((PROJECT_ROOT,)).fetch(url)


@pytest.mark.fast
def test_fetcher_reads_project_files() -> None:
    response = pdf_format.HandoutFetcher((PROJECT_ROOT,)).fetch(pdf_format.STYLESHEET.as_uri())
    assert b"font-size: 18pt" in response.read()
    response.close()


@pytest.mark.fast
def test_weasyprint_never_requests_a_remote_or_outside_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hits: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    remote = f"http://127.0.0.1:{server.server_address[1]}"
    secret = tmp_path / "secret.png"
    shutil.copy(ROOT / "styles" / "large-print.css", secret)
    html = (f'<html lang="en"><head><title>t</title><link rel="stylesheet" href="{remote}/x.css"></head>'
            f'<body><p>Hi</p><img src="{remote}/x.png" alt=""><img src="{secret.as_uri()}" alt=""></body></html>')
    try:
        with caplog.at_level(logging.WARNING, logger="weasyprint"):
            weasyprint.HTML(string=html, url_fetcher=pdf_format.HandoutFetcher((PROJECT_ROOT,))).write_pdf()
    finally:
        server.shutdown()
    assert hits == []
    assert "outside the project" in caplog.text and "never fetches from the network" in caplog.text


@pytest.mark.fast
def test_check_reads_only_the_file_and_misses_it_when_absent(tmp_path: Path, faq_doc) -> None:
    report = pdf_check.check(faq_doc, tmp_path)
    assert not report.ok
    assert all(not p.present and "not found" in p.detail for p in report.sections.values())


@pytest.mark.fast
def test_words_of_every_section_are_in_the_text(faq_doc, faq_pdf: Path) -> None:
    with pdfplumber.open(pdf_of(faq_pdf)) as document:
        text = " ".join(page.extract_text() for page in document.pages)
    for section in faq_doc.sections:
        assert presence.in_order_ratio(section.full_text, text) >= 0.99, section.id


@pytest.mark.fast
def test_check_catches_a_pdf_stripped_of_its_accessibility_entries(tmp_path: Path, faq_doc, faq_pdf: Path) -> None:
    from pypdf.generic import BooleanObject, DictionaryObject, NameObject

    writer = PdfWriter(clone_from=PdfReader(pdf_of(faq_pdf)))
    root = writer._root_object
    for key in ("/Lang", "/PageLabels", "/StructTreeRoot"):
        del root[key]
    root[NameObject("/ViewerPreferences")] = DictionaryObject({NameObject("/DisplayDocTitle"): BooleanObject(False)})
    root[NameObject("/MarkInfo")] = DictionaryObject({NameObject("/Marked"): BooleanObject(False)})
    folder = tmp_path / faq_doc.name
    folder.mkdir()
    with open(folder / f"{faq_doc.name}.pdf", "wb") as handle:
        writer.write(handle)
    report = pdf_check.check(faq_doc, folder)
    failed = {rule.name for rule in report.rules if not rule.ok}
    assert {"/Lang", "page labels", "/StructTreeRoot", "DisplayDocTitle", "/MarkInfo Marked"} <= failed
    assert all(p.present for p in report.sections.values())


@pytest.mark.fast
def test_check_catches_headings_stranded_at_a_page_foot(tmp_path: Path, sample_doc) -> None:
    stranding = pdf_format.STYLESHEET.read_text(encoding="utf-8") + "\nmain h2 + * { break-before: page !important; }\n"
    folder = tmp_path / sample_doc.name
    folder.mkdir()
    (folder / f"{sample_doc.name}.pdf").write_bytes(pdf_format.handout_pdf(sample_doc, "letter", EPOCH, css=stranding))
    report = pdf_check.check(sample_doc, folder)
    kept = next(rule for rule in report.rules if rule.name == "headings kept with their text")
    assert not kept.ok
    assert all(section.id in kept.detail for section in sample_doc.sections)
    assert all(p.present for p in report.sections.values())


@pytest.mark.fast
def test_a_truncated_pdf_is_reported_not_crashed_on(tmp_path: Path, sample_doc, faq_pdf: Path) -> None:
    folder = tmp_path / sample_doc.name
    folder.mkdir()
    (folder / f"{sample_doc.name}.pdf").write_bytes(pdf_of(faq_pdf).read_bytes()[:3000])
    report = pdf_check.check(sample_doc, folder)
    assert not report.ok
    assert all("not a readable PDF" in p.detail for p in report.sections.values())


@pytest.mark.fast
def test_without_the_font_package_a_system_sans_serif_is_embedded(tmp_path: Path, sample_doc, monkeypatch) -> None:
    monkeypatch.setattr(pdf_format, "font_dir", lambda: None)
    folder = tmp_path / sample_doc.name
    folder.mkdir()
    (folder / f"{sample_doc.name}.pdf").write_bytes(pdf_format.handout_pdf(sample_doc, "letter", EPOCH))
    report = pdf_check.check(sample_doc, folder)
    assert report.ok, checks.failures(sample_doc, [report])
    assert report.figures["fonts"] and not any("Atkinson" in name for name in report.figures["fonts"])


@pytest.mark.fast
def test_the_same_handout_in_another_folder_gives_the_same_pdf_bytes(tmp_path, monkeypatch) -> None:
    """The clinic handout (three pictures) copied into two folders builds to one SHA-256: WeasyPrint
    names a picture by its URL, which held the source's folder, so the bytes depended on where the
    source (or the project) lay. Its pictures are still drawn, each with its description."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    clinic = ROOT / "tests" / "fixtures" / "clinic-handout.md"
    built = []
    for place in ("here", "there/deeper"):
        folder = tmp_path / place
        shutil.copytree(clinic.parent / "images", folder / "images")
        shutil.copy(clinic, folder / clinic.name)
        built.append(pdf_of(pdf_only(folder / clinic.name, folder)).read_bytes())
    assert built[0] == built[1]
    reader = PdfReader(io.BytesIO(built[0]))
    assert sum(len(page.images) for page in reader.pages) >= 3  # a pill box, the armpit twice


@pytest.mark.fast
def test_reading_order_rule_fails_text_stored_out_of_order(faq_pdf: Path) -> None:
    """The FAQ's PDF passes "text in reading order" (its list numbers, stored after each page's text,
    left out); the same pages with each page's stored sentences reversed fail it."""
    path = pdf_of(faq_pdf)
    pages, stored = pdf_check.read_text(path, PdfReader(path), "ltr")
    kept, shuffled = pdf_check.FormatReport("pdf"), pdf_check.FormatReport("pdf")
    pdf_check.check_reading_order(kept, pages, stored)
    pdf_check.check_reading_order(shuffled, pages, [" ".join(reversed(text.split(". "))) for text in stored])
    assert kept.rules[-1].ok and kept.figures["reading_order_ratio"] >= 0.99
    assert not shuffled.rules[-1].ok, shuffled.figures
