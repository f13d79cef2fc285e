"""Handouts unlike the FAQ, built for real into every format and read back with real readers:
a table, a footnote, pictures, a one-line answer and section ids `a` and `a-s1`
(`tests/fixtures/clinic-handout.md`), a 2,000-word sentence, and every bad picture a clinic could
paste in.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from lxml import etree
from PIL import Image
from pypdf import PdfReader

from pipeline import checks
from pipeline.checks import audio as audio_check
from pipeline.checks import html as html_check
from pipeline.checks import pdf as pdf_check
from pipeline.config import setting
from pipeline.errors import SourceError
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
X = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
HEAD = "---\ntitle: Pictures\nlang: en-US\n---\n\n"


@pytest.fixture(scope="module")
def clinic_report(clinic_doc, clinic_built):
    """The full check of the untouched clinic build."""
    return checks.run(clinic_doc, clinic_built)


def test_the_clinic_handout_passes_its_check_in_every_format(clinic_doc, clinic_report):
    """Tables, notes, pictures and a one-line answer: every section present, every rule kept
    (the one-line answer's short MP3 reads as 63 999 bit/s and must not break the bitrate rule)."""
    assert checks.failures(clinic_doc, clinic_report) == []
    audio = next(r for r in clinic_report if r.format == "audio")
    assert audio.figures["seconds"]["call"] < 10
    assert all(r.ok for r in clinic_report)


def test_the_table_is_a_real_table_in_the_page_pdf_and_epub(clinic_built, clinic_doc):
    page = lxml.html.parse(str(clinic_built / "index.html")).getroot()
    table = page.xpath("//section[@aria-labelledby='a']//details//table")[0]
    assert [th.get("scope") for th in table.xpath("./thead//th")] == ["col"] * 3
    assert [th.text_content() for th in table.xpath("./tbody//th[@scope='row']")] == ["Paclitaxel", "Tamoxifen"]
    assert table.findtext("caption") == "Your medicine schedule"
    tags = pdf_check.structure(PdfReader(clinic_built / f"{clinic_doc.name}.pdf"))
    tables = [t for t in tags if t.kind == "Table"]
    # the default print edition shows the table twice (in plain words, then in "More detail"), each
    # with three column and two row headers
    assert len(tables) == 2 and all(t.children.count("TH") >= 5 for t in tables)
    with zipfile.ZipFile(clinic_built / f"{clinic_doc.name}.epub") as book:
        chapter = etree.fromstring(book.read("EPUB/text/a.xhtml"))
    assert chapter.xpath("//x:tbody/x:tr/x:th[@scope='row']", namespaces=X)


def test_the_narration_reads_every_row_naming_each_cell_by_its_column(clinic_built):
    timings = json.loads((clinic_built / "audio" / "timings.json").read_text(encoding="utf-8"))
    targets = [clip["target"] for clip in timings["sections"][0]["clips"]]
    assert ["a_t1", "a_t1r1", "a_t1r2"] == [t for t in targets if t.startswith("a_t")]
    vtt = (clinic_built / "audio" / "01-a.vtt").read_text(encoding="utf-8")
    assert "Table: Your medicine schedule. 2 rows, 3 columns: Medicine, Day, How." in vtt
    assert "Paclitaxel. Day: days 1, 8 and 15. How: drip into a vein." in vtt
    assert "Tamoxifen. Day: every day. How: a pill by mouth." in vtt


def test_a_footnote_is_a_note_with_a_way_back_in_every_format(clinic_built, clinic_doc):
    note = "Your nurse can print a new copy of the plan at any visit."
    page = lxml.html.parse(str(clinic_built / "index.html")).getroot()
    call = page.xpath("//a[@class='noteref'][@href='#a_n1']")[0]
    aside = page.xpath("//aside[@id='a_n1']")[0]
    assert note in aside.text_content() and aside.xpath(".//a[@href=$back]", back=f"#{call.get('id')}")
    with zipfile.ZipFile(clinic_built / f"{clinic_doc.name}.epub") as book:
        chapter = etree.fromstring(book.read("EPUB/text/a.xhtml"))
    assert chapter.xpath("//x:a[@epub:type='noteref'][@href='#a_n1']", namespaces=X)
    footnote = chapter.xpath("//x:aside[@epub:type='footnote'][@id='a_n1']", namespaces=X)[0]
    assert footnote.xpath(".//x:a[@role='doc-backlink'][@href='#a_r1']", namespaces=X)
    reader = PdfReader(clinic_built / f"{clinic_doc.name}.pdf")
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "(note 1)" in text and note in " ".join(text.split())
    vtt = (clinic_built / "audio" / "01-a.vtt").read_text(encoding="utf-8")
    assert vtt.index("how it is given.") < vtt.index(f"Note: {note}") < vtt.index("Bring this page")


def test_pictures_are_shown_with_their_alt_text_and_heard(clinic_built, clinic_doc):
    alt = "A drawing of the armpit, where the lymph nodes are"
    page = lxml.html.parse(str(clinic_built / "index.html")).getroot()
    shown = page.xpath("//img[@alt=$alt]", alt=alt)
    assert len(shown) == 2 and (clinic_built / shown[0].get("src")).is_file()
    assert Image.open(clinic_built / shown[0].get("src")).size == (640, 480)
    tags = pdf_check.structure(PdfReader(clinic_built / f"{clinic_doc.name}.pdf"))
    # the PDF prints both renditions as the page shows them: the same pictures, each with its alt text
    assert sorted(t.alt for t in tags if t.kind == "Figure") == sorted(img.get("alt") for img in page.xpath("//main//img"))
    assert {alt, "A pill box with seven days, one pill in each"} <= {t.alt for t in tags if t.kind == "Figure"}
    with zipfile.ZipFile(clinic_built / f"{clinic_doc.name}.epub") as book:
        names = book.namelist()
        chapter = etree.fromstring(book.read("EPUB/text/a-s1.xhtml"))
        src = chapter.xpath("//x:img/@src", namespaces=X)[0]
        assert "EPUB/" + src.removeprefix("../") in names and src.startswith("../images/")
    vtt = (clinic_built / "audio" / "02-a-s1.vtt").read_text(encoding="utf-8")
    assert f"Picture: {alt}." in vtt


def test_made_ids_never_collide_with_the_sources_ids(clinic_built, clinic_doc):
    """Sections `a` and `a-s1`: every id once in the page, each chapter and the PDF's links."""
    page = lxml.html.parse(str(clinic_built / "index.html")).getroot()
    ids = Counter(page.xpath("//@id"))
    assert max(ids.values()) == 1
    assert page.xpath("//*[@id='a-s1']")[0].tag == "h2"
    with zipfile.ZipFile(clinic_built / f"{clinic_doc.name}.epub") as book:
        for name in book.namelist():
            if name.endswith(".xhtml"):
                found = Counter(etree.fromstring(book.read(name)).xpath("//@id"))
                assert not found or max(found.values()) == 1, name
    reader = PdfReader(clinic_built / f"{clinic_doc.name}.pdf")
    destination = reader.named_destinations["a-s1"]
    page_of_heading = next(i for i, p in enumerate(reader.pages) if "Where are the lymph nodes?" in p.extract_text()
                           and i > 0)
    assert reader.get_destination_page_number(destination) == page_of_heading


def test_presence_counts_cells_notes_and_alt_text_in_every_format(clinic_doc, clinic_built, copy_of):
    """Drop the table's rows from the narration's transcript, or the picture (alt text and caption)
    from the page: the check must say the section is missing there, naming why."""
    section = clinic_doc.section("a")
    assert "Paclitaxel" in section.full_text and any("nurse can print" in a for a in section.full_asides)
    assert any("pill box" in a for a in section.full_asides)
    broken = copy_of(clinic_built)
    vtt = broken / "audio" / "01-a.vtt"
    vtt.write_text(re.sub(r"a_t1r\d\n[^\n]*\n[^\n]*\n", "", vtt.read_text(encoding="utf-8")), encoding="utf-8")
    report = audio_check.check(clinic_doc, broken)
    assert not report.sections["a"].present and "transcript" in report.sections["a"].detail
    page = broken / "index.html"
    html = page.read_text(encoding="utf-8").replace('alt="A drawing of the armpit, where the lymph nodes are"', 'alt=""')
    plain = html.index('<div class="plain">', html.index('aria-labelledby="a-s1"'))
    figure = html.index("<figure", plain)
    page.write_text(html[:figure] + html[html.index("</figure>", figure) + 9:], encoding="utf-8")
    report = html_check.check(clinic_doc, broken)
    assert not report.sections["a-s1"].present
    assert any(r.name == "tables and pictures" and not r.ok and "no alt text" in r.detail for r in report.rules)


def test_a_rule_that_breaks_is_that_rules_failure_not_a_crash(clinic_doc, clinic_built, copy_of, monkeypatch):
    broken = copy_of(clinic_built)

    def explode(*_args):
        raise ZeroDivisionError("the rule itself broke")

    monkeypatch.setattr(audio_check, "_playlist_rule", explode)
    monkeypatch.setattr(pdf_check, "check_fonts", explode)
    reports = {r.format: r for r in checks.run(clinic_doc, broken, ("audio", "pdf"))}
    for name, rule in (("audio", "playlist"), ("pdf", "fonts embedded")):
        failed = [r for r in reports[name].rules if r.name == rule]
        assert failed and not failed[0].ok and "ZeroDivisionError: the rule itself broke" in failed[0].detail
    assert all(p.present for r in reports.values() for p in r.sections.values())
    monkeypatch.setattr(html_check, "answer_region", explode)
    report = checks.check_format("html", clinic_doc, broken)
    assert not report.ok and "could not run" in report.sections["a"].detail


# --- bad pictures -------------------------------------------------------------------------------

def _picture_source(tmp_path: Path, reference: str) -> Path:
    """A one-section source showing one picture, in a folder of its own."""
    source = tmp_path / "handout.md"
    source.write_text(HEAD + f"## Q {{#q}}\n\nWords.\n\n{reference}\n\n::: plain\nWords.\n:::\n", encoding="utf-8")
    return source


def _png(path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    """A small real PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (10, 120, 200)).save(path)
    return path


@pytest.mark.fast
@pytest.mark.parametrize("case, reference, problem", [
    ("no alt text", "![](pic.png)", "has no alt text"),
    ("remote", "![A map](https://example.org/map.png)", "never fetched from the network"),
    ("outside the folder", "![A map](../outside.png)", "outside the source's folder"),
    ("absolute", "![A map](/etc/hostname)", "relative to the source's folder"),
    ("missing", "![A map](nowhere.png)", "not found beside the source"),
    ("svg", "![A map](map.svg)", "is SVG"),
    ("not a picture", "![A map](notes.png)", "not a PNG or JPEG"),
    ("damaged", "![A map](broken.png)", "is damaged"),
    ("too many pixels", "![A map](huge.png)", "over the limit of"),
    ("a folder", "![A map](folder.png)", "not a regular file"),
])
def test_a_bad_picture_is_a_bad_source_with_file_and_line(tmp_path, case, reference, problem):
    home = tmp_path / "handouts"
    _png(home / "pic.png")
    _png(tmp_path / "outside.png")
    (home / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    (home / "notes.png").write_text("just words")
    (home / "broken.png").write_bytes(_png(tmp_path / "whole.png").read_bytes()[:60])
    (home / "folder.png").mkdir()
    Image.new("1", (6000, 5000)).save(home / "huge.png")
    source = _picture_source(home, reference)
    with pytest.raises(SourceError) as error:
        parse(source)
    assert str(error.value).startswith(f"{source}:10: ") and problem in str(error.value), case


@pytest.mark.fast
def test_a_bad_picture_stops_the_build_with_exit_2_and_one_line(tmp_path):
    source = _picture_source(tmp_path, "![](pic.png)")
    _png(tmp_path / "pic.png")
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(source), "--out", str(tmp_path / "out"),
                           "--formats", "html"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        f"error: {source}:10: picture 'pic.png' has no alt text: say what it shows, as in "
        "![A drawing of the armpit](pic.png)"]
    assert not (tmp_path / "out" / "handout").exists()


@pytest.mark.fast
def test_the_same_picture_file_in_two_folders_gets_two_names(tmp_path):
    _png(tmp_path / "one" / "pic.png", (10, 10))
    _png(tmp_path / "two" / "pic.png", (20, 20))
    source = _picture_source(tmp_path, "![First](one/pic.png) and ![Second](two/pic.png)")
    doc = parse(source)
    assert len({p.href for p in doc.pictures}) == 2
    assert [(p.width, p.height) for p in doc.pictures] == [(10, 10), (20, 20)]


@pytest.mark.fast
def test_a_changed_picture_rebuilds_the_formats_that_show_it(tmp_path):
    from pipeline.engine.build import BuildOptions, build, format_key

    picture = _png(tmp_path / "pic.png")
    source = _picture_source(tmp_path, "![A map](pic.png)")
    before = parse(source)
    Image.new("RGB", (40, 30), (200, 20, 20)).save(picture)
    after = parse(source)
    options = BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", formats=("html",), quiet=True)
    assert format_key(before, "html", options, {}) != format_key(after, "html", options, {})
    out = build(source, options)
    assert {p.name for p in (out / "images").iterdir()} == {after.pictures[0].href.split("/")[1]}


# --- a 2,000-word sentence ----------------------------------------------------------------------

CLAUSES = (
    "you may feel tired for a few weeks after each treatment", "your care team will check your blood before every visit",
    "some people find it helps to write their questions down", "a friend or family member can come with you to the clinic",
    "the nurse will explain each medicine and how it is given", "it is normal to feel worried while you wait for results",
    "gentle walks and rest can help your body recover", "tell your doctor about any new pain or swelling",
    "you can ask for a copy of your treatment plan at any time", "many people keep working during their treatment",
)


def long_sentence_source(folder: Path, words: int = 2000) -> Path:
    """A handout whose one answer is a single sentence of at least `words` words, clause after clause."""
    clauses: list[str] = []
    while sum(len(c.split()) + 1 for c in clauses) < words:
        clauses.append(CLAUSES[(len(clauses) * 7) % len(CLAUSES)])
    sentence = ", and ".join(clauses)
    source = folder / "long-sentence.md"
    source.write_text(HEAD + f"## What should I know? {{#know}}\n\n{sentence[0].upper()}{sentence[1:]}.\n\n"
                      "::: plain\nTake your time. Ask your care team any question.\n:::\n", encoding="utf-8")
    return source


def _peak_mib(source: Path, out: Path) -> float:
    """Peak memory (largest resident set) of a cold build of every format, in its own process."""
    build = [sys.executable, "-m", "pipeline", "build", str(source), "--out", str(out / "out"),
             "--cache", str(out / "cache"), "--quiet"]
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", probe, *build], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1]) / 1024


def test_a_2000_word_sentence_is_voiced_in_breath_groups_with_flat_memory(tmp_path):
    """The sentence builds in every format with peak memory within 20 % of the FAQ's, is spoken at
    a rate in range, and the check passes."""
    source = long_sentence_source(tmp_path)
    doc = parse(source)
    assert len(doc.sections[0].full_text.split()) >= 2000
    long_peak = _peak_mib(source, tmp_path / "long")
    faq_peak = _peak_mib(ROOT / "source" / "breast-cancer-recurrence.md", tmp_path / "faq")
    assert long_peak <= 1.2 * faq_peak, (long_peak, faq_peak)
    built = tmp_path / "long" / "out" / "long-sentence"
    reports = checks.run(doc, built)
    assert checks.failures(doc, reports) == []
    audio = next(r for r in reports if r.format == "audio")
    low, high = setting("words_per_minute")
    assert low <= audio.figures["words_per_minute"]["know"] <= high
    timings = json.loads((built / "audio" / "timings.json").read_text(encoding="utf-8"))
    assert [c["target"] for c in timings["sections"][0]["clips"]] == ["know", "know_s1"]
