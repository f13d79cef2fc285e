"""Every script a clinic serves (issue 27): two-section handouts in Chinese, Arabic, Russian,
Vietnamese, Korean, Tagalog, Haitian Creole and Farsi are built in every format this machine can make for
them and checked like the English one: no English word the pipeline added in any format, Arabic laid
out right to left, the PDF's text read in order, every font embedded and every character drawn, bold
headings drawn from bold faces. Tagalog has no voice and Haitian Creole and Tagalog no braille table
here: a one-line warning, the rest published, and the check says so instead of failing.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import lxml.html
import pdfplumber
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from pipeline import checks, fonts
from pipeline.checks import interface_words, pdf as pdf_check
from pipeline.engine.build import BuildOptions, build
from pipeline.language.words import words_for
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
HANDOUTS = {"zh-CN": FIXTURES / "languages" / "zh-CN.md", "ar": FIXTURES / "languages" / "ar.md",
            "ru": FIXTURES / "gripp.md", "vi": FIXTURES / "cham-soc-da.md", "ko": FIXTURES / "languages" / "ko.md",
            "tl": FIXTURES / "languages" / "tl.md", "ht": FIXTURES / "languages" / "ht.md",
            "fa": FIXTURES / "languages" / "fa.md"}
NOT_HERE = {"tl": {"audio", "braille"}, "ht": {"braille"}}  # no espeak-ng voice, no liblouis table


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each handout built once (read-only)."""
    root = tmp_path_factory.mktemp("languages")
    return {lang: build(source, BuildOptions(out_root=root / "out", cache_dir=root / "cache", quiet=True))
            for lang, source in HANDOUTS.items()}


@pytest.mark.parametrize("lang", list(HANDOUTS))
def test_each_language_builds_and_passes_its_check(built: dict[str, Path], lang: str) -> None:
    doc = parse(HANDOUTS[lang])
    assert doc.meta.lang == lang
    reports = checks.run(doc, built[lang])
    assert checks.failures(doc, reports) == []
    assert {r.format for r in reports if r.unavailable} == NOT_HERE.get(lang, set())
    for report in reports:
        if not report.unavailable and report.format != "braille":
            rule = next(r for r in report.rules if r.name == "no English interface words")
            assert rule.ok and "none of the" in rule.detail, (report.format, rule)
    assert not words_for(lang).fallback


def test_persian_braille_keeps_its_letters(built: dict[str, Path]) -> None:
    """The Persian table writes no Latin "a": the probe of what a table can write wrapped each letter
    in "a"s, found every Persian letter unwritable and dropped it (the braille held only full stops),
    and the zero-width non-joiner in "می‌کند" reached the PEF writer as an escape (an internal error)."""
    from pipeline.formats import braille

    brf = " ".join((built["fa"] / "fa.brf").read_text(encoding="ascii").split())
    for word in ("واکسن", "آنفولانزا", "درمانگاه", "میکند"):
        assert braille.louis([word], "en-us-brf.dis,fa-ir-g1.utb")[0] in brf, word


def test_arabic_runs_right_to_left(built: dict[str, Path]) -> None:
    page = lxml.html.parse(str(built["ar"] / "index.html")).getroot()
    assert (page.get("lang"), page.get("dir")) == ("ar", "rtl")
    with zipfile.ZipFile(built["ar"] / "ar.epub") as book:
        assert 'page-progression-direction="rtl"' in book.read("EPUB/content.opf").decode("utf-8")
        assert 'dir="rtl"' in book.read("EPUB/text/why.xhtml").decode("utf-8")
    phone = [span for span in page.xpath("//span[@dir='ltr']") if span.text_content() == "555-0199"]
    assert phone, "the phone number is held left to right"
    with pdfplumber.open(built["ar"] / "ar.pdf") as pdf:
        text = pdf_check.read_page(pdf.pages[-1], "rtl").body_text
    assert "اتصل بالعيادة" in text and "555-0199" in text
    assert text.index("اتصل") < text.index("555-0199") < text.index("درجة")  # read from the right


@pytest.mark.fast
def test_a_right_to_left_line_is_read_from_its_right_end() -> None:
    """pdfplumber gives a line as drawn, left to right; an Arabic line is read from the right, a
    phone number in it in its own order. Negative control: read as a left-to-right line, the
    number comes first."""
    said = "اتصل على الرقم 555-0199 من 38 درجة"
    drawn = " ".join(word if word[0].isdigit() else word[::-1] for word in reversed(said.split()))
    assert pdf_check.logical_order(drawn, "rtl") == said
    assert pdf_check.logical_order(drawn, "ltr").startswith("درجة 38")


def _heading_weights(pdf_path: Path) -> list[tuple[str, int]]:
    """Each character of the PDF's headings (drawn 24 pt) with the weight of the font it is drawn from."""
    weights: dict[str, int] = {}
    for page in PdfReader(pdf_path).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            program = descriptor.get("/FontFile2")  # TrueType: Atkinson and Noto Sans (not CJK's CFF)
            if program is not None:
                weights[str(font["/BaseFont"]).lstrip("/")] = TTFont(io.BytesIO(program.get_object().get_data()))["OS/2"].usWeightClass
    with pdfplumber.open(pdf_path) as pdf:
        return [(c["text"], weights[c["fontname"]]) for page in pdf.pages for c in page.chars
                if round(float(c["size"])) == 24 and c["text"].strip()]


@pytest.mark.parametrize("lang", ["vi", "ru"])
def test_bold_headings_are_drawn_from_bold_faces(built: dict[str, Path], lang: str) -> None:
    thin = [char for char, weight in _heading_weights(built[lang] / f"{built[lang].name}.pdf") if weight < 600]
    assert not thin, f"heading letters drawn from a regular face: {''.join(thin)}"


def test_without_the_bold_face_the_heading_rule_sees_thin_letters(tmp_path: Path, monkeypatch) -> None:
    """Negative control: the fallback font's regular face alone (as before) draws the Vietnamese
    heading letters thin, and the test above would say so."""
    monkeypatch.setattr(fonts, "bold_of", lambda path: None)
    folder = build(HANDOUTS["vi"], BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache",
                                                formats=("pdf",), quiet=True))
    thin = [char for char, weight in _heading_weights(folder / "cham-soc-da.pdf") if weight < 600]
    assert thin


def test_a_character_drawn_as_a_box_fails_the_fonts_rule(tmp_path: Path, monkeypatch) -> None:
    """The Korean date ("2026년 12월 3일") was drawn in Atkinson, which has no Hangul: boxes, and text
    no reader could extract. Negative control: leave the date out of the fallback fonts' characters
    again and the fonts rule fails."""
    doc = parse(HANDOUTS["ko"])
    monkeypatch.setattr(fonts, "handout_characters", lambda doc: doc.text + words_for(doc.meta.lang).every_word)
    folder = build(HANDOUTS["ko"], BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache",
                                                formats=("pdf",), quiet=True))
    report = pdf_check.check(doc, folder)
    rule = next(r for r in report.rules if r.name == "fonts embedded")
    assert not rule.ok and "boxes" in rule.detail


@pytest.mark.fast
def test_english_the_pipeline_added_is_found() -> None:
    """The rule's negative control: interface words left in English in a Vietnamese text are named;
    English the source itself says is not."""
    doc = parse(HANDOUTS["vi"])
    say = words_for("vi")
    found = interface_words.english_in(say, doc, "Những từ cần biết. Page 1 of 2. Words to know. Section 2 of 2.")
    assert found == ["Page 1 of 2", "Section 2 of 2.", "Words to know"]
    assert interface_words.english_in(say, doc, "Những từ cần biết. Phần 1 trong 2 phần.") == []
