"""The braille edition, built for real with liblouis and read back from the files alone: the FAQ
and the clinic handout in UEB contracted braille, the layout rules a braille reader relies on, and
a check that fails when a section is cut, a line is 41 cells or a page 26 lines."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from pipeline import checks, formats
from pipeline.engine.build import BuildOptions, build
from pipeline.checks import braille as braille_check
from pipeline.formats import braille

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
FAQ = ROOT / "source" / "breast-cancer-recurrence.md"
CLINIC = ROOT / "tests" / "fixtures" / "clinic-handout.md"
EPOCH = 1764028800


def _braille(source: Path, root: Path, grade: int | None = None) -> Path:
    """Build only the braille edition of a source into root/out."""
    chosen = {"braille_grade": grade} if grade else {}
    return build(source, BuildOptions(out_root=root / "out", cache_dir=root / "cache", formats=("braille",),
                                      quiet=True, source_date_epoch=EPOCH, settings=chosen))


@pytest.fixture(scope="module")
def faq_braille(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FAQ's braille edition, built once for this module."""
    return _braille(FAQ, tmp_path_factory.mktemp("faq-braille"))


def _pages(folder: Path) -> list[list[str]]:
    """The BRF's pages as lines."""
    return braille.brf_pages(next(folder.glob("*.brf")).read_bytes().decode("ascii"))


def _text(line: str) -> str:
    """One braille line back in print, by liblouis."""
    return braille.louis([line], "en-us-brf.dis,en-ueb-g2.ctb", backward=True)[0]


def test_the_faq_in_contracted_braille_passes_its_check(faq_braille, faq_doc):
    report = braille_check.check(faq_doc, faq_braille)
    assert report.ok, checks.failures(faq_doc, [report])
    assert report.figures["table"] == "en-ueb-g2.ctb"
    assert report.figures["print_edition"] == "both"  # the default: the plain answer, then "More detail"
    assert all(p.detail == "plain 100% of words, more detail 100% of words" for p in report.sections.values())


def test_pages_are_40_cells_by_25_lines_with_form_feeds_and_page_numbers(faq_braille):
    raw = next(faq_braille.glob("*.brf")).read_bytes()
    assert raw.count(b"\f") == len(_pages(faq_braille)) and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    pages = _pages(faq_braille)
    assert all(len(page) <= braille.LINES and all(len(line) <= braille.CELLS for line in page) for page in pages)
    for number, page in enumerate(pages[1:], start=2):  # the title page carries no number
        assert len(page) == braille.LINES and page[-1].strip() == braille.louis([str(number)], braille.DISPLAY + ",en-ueb-g2.ctb")[0]
        assert page[-1].endswith(page[-1].strip()) and len(page[-1]) == braille.CELLS


def test_title_page_and_contents_follow_braille_formats(faq_braille, faq_doc):
    pages = _pages(faq_braille)
    title = [_text(line.strip()) for line in pages[0] if line.strip()]
    assert title[0] == faq_doc.meta.title
    assert "Unified English Braille, contracted" in title
    assert f"1 volume, {len(pages)} braille pages" in title
    assert "edition was made automatically from the same source" in _text(" ".join(line.strip() for line in pages[0]))
    contents = pages[1]
    assert _text(contents[0].strip()) == "Contents" and contents[0].startswith(" " * 10)  # centred
    entries = [line for line in contents if braille_check.CONTENTS_LINE.search(line)]
    assert len(entries) == len(faq_doc.sections)
    for section, entry in zip(faq_doc.sections, entries):
        number = entry.split()[-1]
        page = next(n for n, page in enumerate(pages, start=1) if page[-1].strip() == number)
        heading = braille.louis([section.title], braille.DISPLAY + ",en-ueb-g2.ctb")[0]
        assert any(line.startswith(heading[:20]) for line in pages[page - 1]), section.id  # at the margin


def test_paragraphs_start_in_cell_3_and_list_items_in_cell_1(faq_braille, faq_doc):
    """Questions at the margin, paragraphs from cell 3 with runovers at cell 1, items from cell 1
    with runovers at cell 3: no other indent in the body but the centred glossary heading and the
    "More detail" minor headings in cell 5."""
    pages = _pages(faq_braille)[2:]
    body = [line for page in pages for line in page[:-1] if line.strip()]
    centred = braille.louis(["Words to know"], braille.DISPLAY + ",en-ueb-g2.ctb")[0]
    detail = braille.louis(["More detail"], braille.DISPLAY + ",en-ueb-g2.ctb")[0]
    assert sum(line == "    " + detail for line in body) == len(faq_doc.sections)
    indents = {len(line) - len(line.lstrip()) for line in body if line.strip() not in (centred, detail)}
    assert indents == {0, 2}
    first = faq_doc.sections[0]
    heading = braille.louis([first.title], braille.DISPLAY + ",en-ueb-g2.ctb")[0]
    at = next(i for i, line in enumerate(body) if line.startswith(heading[:25]))
    after = body[at + len(braille.wrap(heading, 0, 2))]
    assert after.startswith("  ") and not after.startswith("   ")  # its first paragraph, from cell 3


def test_the_pef_holds_the_same_pages_in_unicode_braille(faq_braille):
    root = etree.parse(str(next(faq_braille.glob("*.pef")))).getroot()
    ns = {"p": braille.PEF_NS, "dc": "http://purl.org/dc/elements/1.1/"}
    assert root.get("version") == "2008-1"
    assert root.findtext(".//dc:format", namespaces=ns) == "application/x-pef+xml"
    volume = root.find(".//p:volume", ns)
    assert (volume.get("cols"), volume.get("rows")) == ("40", "25")
    rows = root.findall(".//p:row", ns)
    assert rows and all(0x2800 <= ord(c) <= 0x283F for row in rows for c in (row.text or ""))
    assert len(root.findall(".//p:page", ns)) == len(_pages(faq_braille))


def test_same_source_same_bytes(tmp_path, faq_braille):
    again = _braille(FAQ, tmp_path)
    for suffix in (".brf", ".pef"):
        first, second = next(faq_braille.glob(f"*{suffix}")), next(again.glob(f"*{suffix}"))
        assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()


def test_grade_1_is_uncontracted(tmp_path, faq_doc):
    folder = _braille(FAQ, tmp_path, grade=1)
    report = braille_check.check(faq_doc, folder)
    assert report.ok and report.figures["table"] == "en-ueb-g1.ctb"
    title = [_text(line.strip()) for line in _pages(folder)[0] if line.strip()]
    assert "Unified English Braille, uncontracted" in title


def test_tables_notes_and_pictures_in_braille(tmp_path, clinic_doc):
    folder = _braille(CLINIC, tmp_path)
    assert braille_check.check(clinic_doc, folder).ok
    text = " ".join(_text(" ".join(line.strip() for line in page[:-1] if line.strip())) for page in _pages(folder)[2:])
    for said in ("Paclitaxel. Day: days 1, 8 and 15. How: drip into a vein.",
                 "Note: Your nurse can print a new copy of the plan at any visit.",
                 "Picture: A drawing of the armpit, where the lymph nodes are."):
        assert said in text, said


# --- the check fails when the braille is wrong ------------------------------------------------------

def _rewrite(folder: Path, change) -> None:
    """Change the BRF's pages and write it back (the PEF is left as built)."""
    path = next(folder.glob("*.brf"))
    pages = change(braille.brf_pages(path.read_bytes().decode("ascii")))
    path.write_bytes(braille.brf(pages))


def test_a_section_cut_from_the_brf_is_named(faq_braille, faq_doc, copy_of):
    folder = copy_of(faq_braille)
    section = faq_doc.sections[3]
    heading = braille.louis([section.title], braille.DISPLAY + ",en-ueb-g2.ctb")[0]

    def cut(pages):
        body = [n for n in range(2, len(pages))]
        page = next(n for n in body if any(line.startswith(heading[:25]) for line in pages[n]))
        at = next(i for i, line in enumerate(pages[page]) if line.startswith(heading[:25]))
        return pages[:page] + [pages[page][:at] + [""] * (len(pages[page]) - 1 - at) + pages[page][-1:]] + pages[page + 1:]

    _rewrite(folder, cut)
    result = subprocess.run([sys.executable, "-m", "pipeline", "check", str(folder), str(FAQ), "--formats", "braille"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1
    assert f"section '{section.id}' missing from braille" in result.stderr


@pytest.mark.parametrize("change, rule", [
    (lambda pages: [pages[0], [pages[1][0] + "A" * (41 - len(pages[1][0]))] + pages[1][1:], *pages[2:]], "page size"),
    (lambda pages: [pages[0], pages[1], ["", *pages[2]], *pages[3:]], "page size"),
    (lambda pages: [pages[0], pages[1], [pages[2][0] + "~"] + pages[2][1:], *pages[3:]], "ASCII braille"),
    (lambda pages: pages[:-1], "PEF"),
])
def test_a_broken_page_fails_its_rule(faq_braille, faq_doc, copy_of, change, rule):
    folder = copy_of(faq_braille)
    _rewrite(folder, change)
    report = braille_check.check(faq_doc, folder)
    broken = [r for r in report.rules if r.name == rule]
    assert broken and not broken[0].ok, [(r.name, r.detail) for r in report.rules]


def test_a_language_liblouis_cannot_write_is_a_clear_error(tmp_path):
    source = tmp_path / "handout.md"
    source.write_text(FAQ.read_text(encoding="utf-8").replace("lang: en-US", "lang: tlh"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(source), "--out", str(tmp_path / "out"),
                           "--formats", "braille", "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 3  # braille was all that was asked for: nothing to publish
    assert done.stderr.strip().splitlines() == [
        f"error: {source}: no braille edition: liblouis has no braille table for the language 'tlh' "
        f"(looked in {braille.TABLES_DIR})"]
    assert not (tmp_path / "out" / "handout").exists()
