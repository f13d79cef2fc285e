"""The print editions (issue 28): the large-print PDF and the braille edition with the plain answers,
the full ones or both ("More detail"), "Words to know" and the care-team line at the end; QR codes
from paper to the web page, decoded from the rendered page by zbar; page breaks that never split a
sentence of an answer that fits on one page; note links tagged as links. Each check has a control:
a wrong file the check must fail."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import checks, formats
from pipeline.checks import braille as braille_check
from pipeline.checks import pdf as pdf_check
from pipeline.checks import presence
from pipeline.engine.build import BuildOptions, build
from pipeline.formats import braille
from pipeline.formats import pdf as pdf_format
from pipeline.source.reader import parse

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
FAQ = ROOT / "source" / "breast-cancer-recurrence.md"
CLINIC = ROOT / "tests" / "fixtures" / "clinic-handout.md"
ARABIC = ROOT / "tests" / "fixtures" / "languages" / "ar.md"
EPOCH = 1_764_000_000
BASE = "https://clinic.example/handouts/"
needs_zbar = pytest.mark.skipif(shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None,
                                reason="zbar-tools or poppler-utils not installed")


def built(source: Path, root: Path, formats_: tuple[str, ...] = ("pdf",), **settings: object) -> Path:
    """Build a source's print formats with these settings into root/out; returns the built folder."""
    return build(source, BuildOptions(out_root=root / "out", cache_dir=root / "cache", formats=formats_, quiet=True,
                                      source_date_epoch=EPOCH, settings=dict(settings)))


def text_of(pdf: Path) -> str:
    """What poppler's pdftotext reads from the PDF, spaces made single."""
    return " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())


def written(doc, pdf: bytes, root: Path) -> Path:
    """A PDF written where the check looks for it; returns its folder."""
    folder = root / doc.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{doc.name}.pdf").write_bytes(pdf)
    return folder


def decoded(pdf: Path, page: int) -> list[str]:
    """Every QR code zbar decodes on one page rendered at 150 dpi (what a phone's camera sees, roughly)."""
    image = pdf.parent / f"page-{page}"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", "-f", str(page), "-l", str(page), str(pdf), str(image)],
                   check=True)
    found = subprocess.run(["zbarimg", "--quiet", "--raw", f"{image}.png"], capture_output=True, text=True)
    return found.stdout.split()


@pytest.fixture(scope="module")
def faq_both(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FAQ's PDF in the default edition (both), with the clinic's base_url."""
    return built(FAQ, tmp_path_factory.mktemp("both"), base_url=BASE)


def test_the_default_edition_has_both_renditions_words_to_know_and_the_care_team_line(faq_both, faq_doc) -> None:
    report = pdf_check.check(faq_doc, faq_both)
    assert report.ok, checks.failures(faq_doc, [report])
    assert report.figures["print_edition"] == "both"
    text = text_of(faq_both / f"{faq_doc.name}.pdf")
    for section in faq_doc.sections:
        plain, full = " ".join(section.plain_text.split()[:8]), " ".join(section.full_text.split()[:8])
        assert plain in text and full in text, section.id
        assert text.index(plain) < text.index(full), f"{section.id}: the plain answer comes first"
    assert text.count("More detail") == len(faq_doc.sections)
    glossary = text.index("Words to know")
    assert all(term in text[glossary:] for term in faq_doc.meta.glossary)
    assert text.rstrip().endswith(formats.care_team_line(faq_doc)[-40:]) or formats.care_team_line(faq_doc)[:40] in text[glossary:]
    rules = {rule.name: rule for rule in report.rules}
    assert rules["words to know"].ok and rules["care-team line"].ok and rules["sentences kept on one page"].ok


@pytest.mark.parametrize("edition, shown, left_out", [("plain", "plain_text", "full_text"), ("full", "full_text", "plain_text")])
def test_plain_and_full_editions_hold_one_rendition_and_pass(tmp_path, faq_doc, edition, shown, left_out) -> None:
    folder = built(FAQ, tmp_path, print=edition)
    report = pdf_check.check(faq_doc, folder)
    assert report.ok, checks.failures(faq_doc, [report])
    assert report.figures["print_edition"] == edition
    text = text_of(folder / f"{faq_doc.name}.pdf")
    section = faq_doc.section("where")
    assert " ".join(getattr(section, shown).split()[:10]) in text
    assert " ".join(getattr(section, left_out).split()[:10]) not in text
    assert "More detail" not in text and "Words to know" in text


def test_a_both_pdf_missing_one_full_answer_fails_naming_it(tmp_path, faq_doc) -> None:
    """Control: the full answer of one section replaced by its plain one; the check must miss it."""
    cut = faq_doc.section("invasive")
    sections = tuple(dataclasses.replace(s, full_blocks=s.plain_blocks) if s is cut else s for s in faq_doc.sections)
    wrong = pdf_format.handout_pdf(dataclasses.replace(faq_doc, sections=sections), "letter", EPOCH)
    report = pdf_check.check(faq_doc, written(faq_doc, wrong, tmp_path))
    assert report.figures["print_edition"] == "both"
    assert not report.sections["invasive"].present
    assert all(p.present for sid, p in report.sections.items() if sid != "invasive")


def test_words_to_know_and_the_care_team_line_are_checked(tmp_path, faq_doc) -> None:
    """Controls: a PDF without the glossary, and one ending with another line, each fail their rule."""
    no_glossary = dataclasses.replace(faq_doc, meta=dataclasses.replace(faq_doc.meta, glossary={}))
    report = pdf_check.check(faq_doc, written(faq_doc, pdf_format.handout_pdf(no_glossary, "letter", EPOCH, edition="plain"),
                                              tmp_path / "a"))
    assert [r.ok for r in report.rules if r.name == "words to know"] == [False]
    other = dataclasses.replace(faq_doc, meta=dataclasses.replace(faq_doc.meta, disclaimer="Printed for the waiting room only."))
    report = pdf_check.check(faq_doc, written(faq_doc, pdf_format.handout_pdf(other, "letter", EPOCH, edition="plain"),
                                              tmp_path / "b"))
    assert [r.ok for r in report.rules if r.name == "care-team line"] == [False]


@needs_zbar
def test_page_one_code_decodes_to_the_web_page_with_its_address_beside_it(faq_both, faq_doc) -> None:
    pdf = faq_both / f"{faq_doc.name}.pdf"
    url = f"{BASE}{faq_doc.name}/index.html"
    assert decoded(pdf, 1) == [url]
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert url in "".join(first.split()), "the address in text beside the code, wrapped only after a slash"
    answers = decoded(pdf, 2)
    assert f"{url}#{faq_doc.sections[0].id}" in answers, answers
    figures = [tag for tag in pdf_check.structure(__import__("pypdf").PdfReader(pdf)) if tag.kind == "Figure"]
    assert any(tag.alt == f"QR code to {url}" for tag in figures)


@needs_zbar
def test_another_base_url_decodes_to_another_address_and_none_gives_no_code(tmp_path, faq_doc) -> None:
    """Controls: the code follows the setting, and without it there is none and page 1 says whom to ask."""
    elsewhere = built(FAQ, tmp_path / "b", base_url="https://other.example/p/")
    assert decoded(elsewhere / f"{faq_doc.name}.pdf", 1) == [f"https://other.example/p/{faq_doc.name}/index.html"]
    contact = dataclasses.replace(faq_doc, meta=dataclasses.replace(faq_doc.meta, contact="the Breast Clinic, 555-0100"))
    folder = written(faq_doc, pdf_format.handout_pdf(contact, "letter", EPOCH), tmp_path / "none")
    pdf = folder / f"{faq_doc.name}.pdf"
    assert decoded(pdf, 1) == [] and decoded(pdf, 2) == []
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    said = " ".join(first.split())
    assert "Ask your care team for the one that suits you. Call the Breast Clinic, 555-0100." in said


def _without_break_rules(css: str) -> str:
    """The large-print style sheet without its page-break rules (the style sheet before issue 28)."""
    css = re.sub(r"/\* Page breaks a reader can follow.*?\.section-qr \{ break-before: avoid; \}", "", css, flags=re.S)
    return css.replace("p, li { orphans: 3; widows: 3;", "p, li { orphans: 1; widows: 1;")


@pytest.mark.parametrize("edition", ["full", "both"])
def test_no_page_ends_mid_sentence_and_the_rule_catches_a_style_sheet_that_does(tmp_path, faq_doc, edition) -> None:
    kept = pdf_check.check(faq_doc, written(faq_doc, pdf_format.handout_pdf(faq_doc, "letter", EPOCH, edition=edition),
                                            tmp_path / "kept"))
    assert [r.ok for r in kept.rules if r.name == "sentences kept on one page"] == [True]
    css = _without_break_rules(pdf_format.STYLESHEET.read_text(encoding="utf-8"))
    assert css != pdf_format.STYLESHEET.read_text(encoding="utf-8")
    loose = pdf_format.handout_pdf(faq_doc, "letter", EPOCH, css=css, edition=edition)
    report = pdf_check.check(faq_doc, written(faq_doc, loose, tmp_path / "loose"))
    rule = next(r for r in report.rules if r.name == "sentences kept on one page")
    assert not rule.ok and "ends '…" in rule.detail


def test_pages_end_at_a_sentence_read_with_pdfplumber(faq_both, faq_doc) -> None:
    """The rule's own reading, independently: every page's last line of an answer ends a sentence."""
    import pdfplumber

    with pdfplumber.open(faq_both / f"{faq_doc.name}.pdf") as pdf:
        for number, page in enumerate(pdf.pages[1:-1], start=2):
            lines = [line["text"] for line in page.extract_text_lines() if 72 < line["top"] < float(page.height) - 72]
            if lines and not re.search(r"(Listen to this answer|More detail|[.?!:])$", lines[-1]):
                assert lines[-1] in {s.title for s in faq_doc.sections}, f"page {number} ends {lines[-1]!r}"


def test_note_calls_are_tagged_as_links_and_the_check_notices_when_not(tmp_path, clinic_doc, monkeypatch) -> None:
    folder = built(CLINIC, tmp_path / "ok", base_url=BASE)
    report = pdf_check.check(clinic_doc, folder)
    assert report.ok, checks.failures(clinic_doc, [report])
    text = text_of(folder / f"{clinic_doc.name}.pdf")
    assert "(note 1)" in text and "Back to the text" not in text
    monkeypatch.setattr(pdf_format, "note_calls_as_text", lambda html, say: html)  # the call written by CSS around <sup>
    old = pdf_check.check(clinic_doc, written(clinic_doc, pdf_format.handout_pdf(clinic_doc, "letter", EPOCH), tmp_path / "old"))
    rule = next(r for r in old.rules if r.name == "links tagged")
    assert not rule.ok and "NonStruct" in rule.detail


def test_definition_terms_are_bold(faq_both, faq_doc) -> None:
    import pdfplumber

    with pdfplumber.open(faq_both / f"{faq_doc.name}.pdf") as pdf:
        words = [w for page in pdf.pages for w in page.extract_words(extra_attrs=["fontname"])]
    term = sorted(faq_doc.meta.glossary, key=str.lower)[0].split()[0]
    after = next(i for i, w in enumerate(words) if w["text"] == "know")  # "Words to know"
    first = next(w for w in words[after + 1:] if w["text"].lower() == term.lower())
    assert "Bold" in first["fontname"]


def test_an_arabic_handout_says_more_detail_in_arabic_and_passes(tmp_path) -> None:
    doc = parse(ARABIC)
    folder = built(ARABIC, tmp_path, ("pdf", "braille"), base_url=BASE)
    for check in (pdf_check, braille_check):
        report = check.check(doc, folder)
        assert report.ok, checks.failures(doc, [report])
        assert report.figures["print_edition"] == "both"
    assert "مزيد من التفاصيل" in text_of(folder / f"{doc.name}.pdf")


@pytest.mark.parametrize("edition", ["plain", "full", "both"])
def test_braille_offers_the_same_choice(tmp_path, faq_doc, edition) -> None:
    folder = built(FAQ, tmp_path, ("braille",), print=edition)
    report = braille_check.check(faq_doc, folder)
    assert report.ok, checks.failures(faq_doc, [report])
    assert report.figures["print_edition"] == edition
    blocks = braille.body_blocks(faq_doc, edition)
    assert sum(kind == "subheading" for kind, _ in blocks) == (len(faq_doc.sections) if edition == "both" else 0)
    assert blocks[-1] == ("closing", formats.care_team_line(faq_doc))


def test_a_braille_both_edition_missing_a_full_answer_fails_naming_it(tmp_path, faq_doc) -> None:
    """Control: one section's full pieces replaced by its plain ones, checked against the true source."""
    cut = faq_doc.section("how-likely")
    sections = tuple(dataclasses.replace(s, pieces=s.plain_pieces) if s is cut else s for s in faq_doc.sections)
    wrong = dataclasses.replace(faq_doc, sections=sections)
    table = braille.table_for(faq_doc, 2)
    pages = braille.edition(wrong, table, "both")
    folder = tmp_path / faq_doc.name
    folder.mkdir()
    (folder / f"{faq_doc.name}.brf").write_bytes(braille.brf(pages))
    (folder / f"{faq_doc.name}.pef").write_bytes(braille.pef(faq_doc, table, pages, EPOCH))
    report = braille_check.check(faq_doc, folder)
    assert report.figures["print_edition"] == "both"
    assert not report.sections["how-likely"].present
    assert all(p.present for sid, p in report.sections.items() if sid != "how-likely")


def test_the_print_setting_is_one_flag_for_pdf_and_braille() -> None:
    assert [s.flag for s in formats.flags() if s.name == "print"] == ["--print"]
    assert {s.name for s in formats.settings_of("braille")} >= {"print"}
    assert formats.declared("print").value({}) == "both" and formats.declared("base_url").value({}) == ""
    assert presence.words("More detail") == ["more", "detail"]


def test_a_base_url_a_phone_cannot_open_is_a_usage_error(tmp_path) -> None:
    run = subprocess.run([sys.executable, "-m", "pipeline", "build", str(FAQ), "--out", str(tmp_path), "--formats", "pdf",
                          "--base-url", "clinic/handouts"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "--base-url" in run.stderr and "Traceback" not in run.stderr
    assert pdf_format.web_base(" https://clinic.example/h/ ") == "https://clinic.example/h/" and pdf_format.web_base("") == ""
