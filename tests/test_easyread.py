"""The Easy Read edition (issue 29): one short sentence a row, a picture beside each, from the plain
rendition or the author's `::: easyread` div. Its check reads the built PDF's tagged rows and the
page's rows; each rule has a negative control (a row taken out, a long row, a picture without alt
text), and the FAQ's guide shows every row with a picture and 15 words at most, in 16 pt or larger."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from pipeline import checks, icons
from pipeline.checks import easyread as easyread_check
from pipeline.engine.build import BuildOptions, build
from pipeline.errors import SourceError
from pipeline.formats import easyread
from pipeline.model import EasyRow
from pipeline.source.easyread import count_words, short_sentences
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
FAQ = ROOT / "source" / "breast-cancer-recurrence.md"
WOUND = ROOT / "tests" / "corpus" / "wound-care.md"
CLINIC = ROOT / "tests" / "fixtures" / "clinic-handout.md"
HEAD = "---\ntitle: T\nlang: en-US\n---\n\n"


def write(tmp_path: Path, text: str, name: str = "doc.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The pipeline's command line, as a clinic runs it."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def faq_guide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FAQ's Easy Read edition, built alone."""
    out = tmp_path_factory.mktemp("easyread")
    build(FAQ, BuildOptions(out_root=out, formats=("easyread",), quiet=True))
    return out / FAQ.stem


def rebuilt(folder: Path, doc, tmp_path: Path, css: str | None = None) -> Path:
    """The guide's PDF and page written again from `doc` (a changed copy of the model, or `css`) into a copy of the folder."""
    target = tmp_path / folder.name
    target.mkdir()
    (target / f"{doc.name}-easy-read.pdf").write_bytes(easyread.guide_pdf(doc, "letter", 0, css))
    (target / easyread.PAGE).write_text(easyread.guide_html(doc, "", page=True), encoding="utf-8")
    return target


# --- rows from the source (no build) ------------------------------------------------------------

@pytest.mark.fast
def test_a_long_sentence_is_cut_at_its_clauses_and_never_into_scraps() -> None:
    """A sentence over 15 words is cut at a semicolon or a comma before "and"/"but", nearest the middle;
    no piece is under three words; the words and their order are kept. Control: one with no clause
    boundary stays whole (the lint and the check name it)."""
    long = ("Wash your hands with soap and warm water for twenty seconds, and then dry them "
            "well on a clean paper towel.")
    pieces = short_sentences(long, "en")
    assert len(pieces) == 2 and all(3 <= count_words(p) <= 15 for p in pieces)
    assert " ".join(pieces).replace(".", "").lower().split() == long.replace(",", "").replace(".", "").lower().split()
    whole = "The sentinel lymph node is the first lymph node that fluid from the breast drains to."
    assert short_sentences(whole, "en") == [whole] and count_words(whole) == 16
    assert count_words("About 1 in 1,000 women take 2.5 mg at 2:30") == 10


@pytest.mark.fast
def test_rows_keep_every_piece_a_reader_meets_and_the_step_numbers() -> None:
    """From the plain rendition: a callout's label joins its first sentence, a numbered step keeps its
    number, a table's columns and rows and a picture's description are rows too."""
    wound = parse(WOUND)
    clean = [row.text for row in wound.section("clean").easy_rows]
    assert "1. Wash your hands for 20 seconds." in clean
    assert any(text.startswith("Tip: Get the new cover ready") for text in clean)
    clinic = parse(CLINIC)
    texts = " ".join(row.text for section in clinic.sections for row in section.easy_rows)
    assert "Medicine, Day, How" in texts and "Tamoxifen. Day: every day." in texts and "A drawing of the armpit" in texts


@pytest.mark.fast
def test_the_author_chooses_pictures_and_words(tmp_path: Path) -> None:
    """`::: easyread` replaces the derived rows; `[words]{icon=name}` and `easyread-icons:` choose the
    picture over the table; a sentence nothing fits gets none (a marker), never a guess."""
    source = write(tmp_path, "---\ntitle: T\nlang: en-US\neasyread-icons:\n  tamoxifen: pill-1\n---\n\n"
                             "## Q? {#q}\n\nFull text here.\n\n::: plain\nTake tamoxifen every day. The sky is wide.\n:::\n\n"
                             "## R? {#r}\n\nFull.\n\n::: plain\nPlain words.\n:::\n\n"
                             "::: easyread\n- [Call us at night.]{icon=ambulance}\n- The weather is nice.\n:::\n")
    doc = parse(source)
    q, r = doc.section("q"), doc.section("r")
    assert [(row.text, row.icon, row.chosen) for row in q.easy_rows] == [
        ("Take tamoxifen every day.", "pill-1", True), ("The sky is wide.", "", False)]
    assert r.easy_written and [(row.text, row.icon) for row in r.easy_rows] == [
        ("Call us at night.", "ambulance"), ("The weather is nice.", "")]
    assert all(row.alt for row in (*q.easy_rows, *r.easy_rows) if row.icon)


@pytest.mark.fast
@pytest.mark.parametrize(("body", "line", "words"), [
    ("## Q? {#q}\n\nFull.\n\n::: plain\n[Take it.]{icon=no-such-picture}\n:::\n", 11, "no-such-picture"),
    ("## Q? {#q}\n\nFull.\n\n::: plain\nPlain.\n:::\n\n::: easyread\nOne.\n:::\n\n::: easyread\nTwo.\n:::\n", 6, "two ::: easyread"),
    ("## Q? {#q}\n\nFull.\n\n- item\n\n  ::: easyread\n  Inside.\n  :::\n\n::: plain\nPlain.\n:::\n", 12, "top level"),
    ("## Q? {#q}\n\nFull.\n\n::: plain\nPlain.\n:::\n\n::: easyread\nOne.\n:::\n\nMore full text.\n", 6, "put it before"),
])
def test_a_wrong_easy_read_source_is_one_error_at_its_line(tmp_path: Path, body: str, line: int, words: str) -> None:
    source = write(tmp_path, HEAD + body)
    with pytest.raises(SourceError) as caught:
        parse(source)
    assert caught.value.line == line and words in caught.value.problem
    result = run("build", str(source), "--out", str(tmp_path / "out"), "--formats", "easyread")
    assert result.returncode == 2 and "Traceback" not in result.stderr and not (tmp_path / "out" / "doc").exists()


@pytest.mark.fast
def test_an_unknown_picture_in_the_metadata_map_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path, "---\ntitle: T\nlang: en-US\neasyread-icons:\n  pill: pilll\n---\n\n"
                             "## Q? {#q}\n\nFull.\n\n::: plain\nPlain.\n:::\n")
    with pytest.raises(SourceError, match="'pilll'"):
        parse(source)


@pytest.mark.fast
def test_lint_names_long_easy_read_sentences_and_rows_without_a_picture(tmp_path: Path) -> None:
    """A warning at the long sentence's line suggesting the div; a note for a row no picture fits.
    Control: the FAQ, whose divs say it shorter with a picture on every row, has neither."""
    from pipeline.language.lint import lint

    source = write(tmp_path, HEAD + "## What is a sentinel node? {#q}\n\nFull text.\n\n::: plain\n"
                                    "The sentinel lymph node is the first lymph node that fluid from the breast drains to.\n"
                                    "The sky is wide.\n:::\n")
    found = {(f.rule, f.level, f.line) for f in lint(source)}
    assert ("easyread-length", "warning", 11) in found and ("easyread-picture", "note", 12) in found
    assert not [f for f in lint(FAQ) if f.rule.startswith("easyread")]


# --- the built guide ----------------------------------------------------------------------------

def test_the_faq_guide_has_a_picture_and_a_short_sentence_on_every_row(faq_guide: Path) -> None:
    """Must show: every row of the FAQ's PDF (read from its tags) has a described picture and at most
    15 words; text 16 pt or more; all eight sections present; no rule fails; at most 20 pages."""
    doc = parse(FAQ)
    report = easyread_check.check(doc, faq_guide)
    rows, sizes = easyread_check.pdf_rows(faq_guide / f"{doc.name}-easy-read.pdf")
    assert rows and all(row.picture and row.alt for row in rows)
    assert max(count_words(row.text) for row in rows) <= 15 and min(sizes) >= 15.99
    assert report.ok and all(rule.ok for rule in report.rules), checks.table(doc, [report])
    assert report.figures["rows_without_picture"] == 0 and report.figures["pages"] <= 20
    assert rows[0].text == "This guide uses easy words and pictures."
    assert rows[-1].text.startswith("Please ask them any question")  # the care-team line closes it
    print(f"\nFAQ Easy Read: {report.figures['pages']} pages, {len(rows)} rows, "
          f"longest {report.figures['longest_row_words']} words, smallest {report.figures['smallest_pt']} pt")


def test_every_picture_used_is_in_the_installed_set_and_its_licence_ships(faq_guide: Path) -> None:
    """Each picture on the page is one the installed Health Icons set has (drawn from it), and the
    MIT licence lies beside the guide. Control: a picture name the set lacks is not drawn."""
    found = icons.icon_set()
    page = lxml.html.fromstring((faq_guide / easyread.PAGE).read_bytes())
    doc = parse(FAQ)
    used = {row.icon for section in doc.sections for row in section.easy_rows} | set(easyread.HOW_PICTURES)
    assert used and all(found.has(name) for name in used)
    drawn = {img.get("src") for img in page.xpath("//li[@class='row']//img")}
    assert {found.data_uri(name) for name in used} <= drawn
    licence = (faq_guide / easyread.LICENCE).read_text(encoding="utf-8")
    assert "Permission is hereby granted" in licence and "Resolve to Save Lives" in licence
    assert easyread.picture(EasyRow("x", "no-such-picture", "alt")).startswith('<span class="marker"')


def test_a_row_taken_out_of_the_guide_fails_its_section(faq_guide: Path, tmp_path: Path) -> None:
    """Negative control: the guide written without one row of 'how-likely' fails that section (the
    PDF's words in a row missing), and the check table shows an easyread column."""
    doc = parse(FAQ)
    section = doc.section("how-likely")
    cut = dataclasses.replace(section, easy_rows=section.easy_rows[:1] + section.easy_rows[2:])
    wrong = dataclasses.replace(doc, sections=tuple(cut if s.id == section.id else s for s in doc.sections))
    report = easyread_check.check(doc, rebuilt(faq_guide, wrong, tmp_path))
    assert not report.sections["how-likely"].present and report.sections["how-likely"].detail.startswith("PDF: ")
    assert all(report.sections[s.id].present for s in doc.sections if s.id != "how-likely")
    table = checks.table(doc, [report])
    assert table.splitlines()[0].split()[-1] == "easyread" and "MISSING" in table


def test_a_long_row_and_a_picture_without_alt_text_are_named(faq_guide: Path, tmp_path: Path) -> None:
    """Negative controls: a 19-word row is named by 'sentences short' (a warning: the check still
    passes, the limit is a writing guideline); a picture with empty alt text fails 'pictures described'."""
    doc = parse(FAQ)
    section = doc.section("where")
    long = EasyRow("It may come back in your breast or your chest wall or your lymph nodes or your bones too.",
                   "breasts", "")
    changed = dataclasses.replace(section, easy_rows=(long, *section.easy_rows[1:]))
    wrong = dataclasses.replace(doc, sections=tuple(changed if s.id == "where" else s for s in doc.sections))
    report = easyread_check.check(doc, rebuilt(faq_guide, wrong, tmp_path))
    rules = {rule.name: rule for rule in report.rules}
    assert not rules["sentences short"].ok and rules["sentences short"].advisory and "(19 words)" in rules["sentences short"].detail
    assert not rules["pictures described"].ok
    assert "WARN easyread: sentences short" in checks.table(doc, [report])


def test_a_question_printed_apart_from_its_rows_fails(faq_guide: Path, tmp_path: Path) -> None:
    """Negative control: the guide's style sheet with a page break after every question fails
    "questions kept with their rows", naming one; the guide as built keeps every question with its
    first row (checked in the FAQ test above)."""
    doc = parse(FAQ)
    apart = easyread.STYLESHEET.read_text(encoding="utf-8") + "\nh2 { break-after: page; page-break-after: always; }\n"
    report = easyread_check.check(doc, rebuilt(faq_guide, doc, tmp_path, css=apart))
    rule = next(rule for rule in report.rules if rule.name == "questions kept with their rows")
    assert not rule.ok and "Is it hopeless" in rule.detail


def test_without_the_picture_set_the_guide_is_refused_in_one_line(tmp_path: Path, monkeypatch) -> None:
    """No picture set installed: the Easy Read edition is not made (one line says why), the others are."""
    monkeypatch.setattr(icons, "ICON_SET_DIR", tmp_path / "nowhere")
    icons.icon_set.cache_clear()
    try:
        folder = build(WOUND, BuildOptions(out_root=tmp_path / "out", formats=("pdf", "easyread"), quiet=True))
        assert (folder / "wound-care.pdf").is_file() and not (folder / "wound-care-easy-read.pdf").exists()
        reports = checks.run(parse(WOUND), folder, ("pdf", "easyread"))
        guide = next(r for r in reports if r.format == "easyread")
        assert "not installed" in guide.unavailable and not checks.failures(parse(WOUND), reports)
    finally:
        icons.icon_set.cache_clear()


def test_the_easy_read_page_passes_axe_at_320_px(faq_guide: Path) -> None:
    """The page of the same rows: WCAG 2.2 AA by axe-core in Chromium at 320 px, nothing wider than the phone."""
    from axe_playwright_python.sync_playwright import Axe

    from pipeline.screenshots import chromium, served

    with served(faq_guide) as root, chromium() as browser:
        context = browser.new_context(viewport={"width": 320, "height": 640})
        page = context.new_page()
        page.goto(root + easyread.PAGE, wait_until="load")
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
            "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})
        width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        context.close()
    assert results.violations_count == 0, results.generate_snapshot()
    assert width <= client
