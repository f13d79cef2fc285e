"""Every language a clinic serves: a Spanish handout in every format with no English word the
pipeline added, an English handout with Arabic words and an emoji drawn and extracted, editions that
name each other, and the clear refusals (no font, no voice)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import lxml.html
import pytest
from pypdf import PdfReader

from pipeline import checks
from pipeline.language import words
from pipeline.engine.build import BuildOptions, build
from pipeline.library import build_index
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SPANISH = FIXTURES / "mamografia.md"
ARABIC = FIXTURES / "interpreter.md"
SAMPLE = FIXTURES / "sample-faq.md"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Spanish handout, its English edition and the Arabic-and-emoji handout, built into one output."""
    root = tmp_path_factory.mktemp("languages")
    options = BuildOptions(out_root=root / "out", cache_dir=root / "cache", quiet=True)
    for source in (SPANISH, SAMPLE, ARABIC):
        build(source, options)
    build_index(root / "out")
    return root / "out"


def english_phrases() -> list[str]:
    """What the English catalog says that Spanish says otherwise: every message's literal parts of
    at least two words (placeholders cut out), which must not appear in a Spanish handout."""
    say = words.words_for("es")
    phrases = set()
    for message in words.template():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if isinstance(message.id, str) and say(message.id) == message.id:
            continue  # the same in both languages ("Braille (BRF)")
        for text in ids:
            for part in re.split(r"\{\w+\}", text):
                part = part.strip(" .,:;()")
                if len(part.split()) >= 2:
                    phrases.add(part)
    return sorted(phrases)


def spanish_outputs(folder: Path) -> dict[str, str]:
    """The text of every Spanish output a reader meets: page, PDF, EPUB documents, both narrations' transcripts."""
    page = lxml.html.parse(str(folder / "index.html")).getroot()
    for other in page.xpath("//style | //*[@lang and not(starts-with(@lang, 'es'))]"):  # CSS, and links in English
        other.drop_tree()
    found = {"page": " ".join(page.itertext())}
    found["pdf"] = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(folder / "mamografia.pdf").pages)
    with zipfile.ZipFile(folder / "mamografia.epub") as book:
        found["epub"] = " ".join(re.sub(r"<[^>]+>", " ", book.read(n).decode()) for n in book.namelist()
                                 if n.endswith((".xhtml", ".opf", ".ncx")))
    found["narration"] = " ".join(p.read_text(encoding="utf-8") for p in (folder / "audio").rglob("*.vtt"))
    return found


def test_the_spanish_handout_passes_its_check_in_every_format(built):
    doc = parse(SPANISH)
    reports = checks.run(doc, built / "mamografia")
    assert checks.failures(doc, reports) == []
    html = next(r for r in reports if r.format == "html")
    assert html.figures["readability_formula"] == "szigriszt-pazos"
    audio = next(r for r in reports if r.format == "audio")
    recognition = next(r for r in audio.rules if r.name == "speech recognition")
    assert "not verified by recognition" in recognition.detail


def test_no_english_word_the_pipeline_adds_is_left_in_spanish(built):
    phrases = english_phrases()
    assert "Words to know" in phrases and "Read the full, detailed answer" in phrases
    for where, text in spanish_outputs(built / "mamografia").items():
        flat = " ".join(text.split())
        left = [phrase for phrase in phrases if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", flat)]  # whole words
        assert left == [], (where, left)
    page = (built / "mamografia" / "index.html").read_text(encoding="utf-8")
    assert "Palabras que debe conocer" in page and "Escuchar esta respuesta" in page
    transcript = (built / "mamografia" / "audio" / "01-que-es.vtt").read_text(encoding="utf-8")
    assert "Sección 1 de 3." in transcript


def test_arabic_words_and_an_emoji_are_drawn_and_extract(built):
    doc = parse(ARABIC)
    assert checks.failures(doc, checks.run(doc, built / "interpreter")) == []
    fonts = subprocess.run(["pdffonts", str(built / "interpreter" / "interpreter.pdf")], capture_output=True,
                           text=True, check=True).stdout.splitlines()[2:]
    assert any("Handout-glyphs" in line for line in fonts) and any("Emoji" in line for line in fonts)  # Arabic, emoji
    assert all(line.split()[-5:-2] == ["yes", "yes", "yes"] for line in fonts), fonts  # embedded, subset, to Unicode
    text = " ".join((p.extract_text() or "") for p in PdfReader(built / "interpreter" / "interpreter.pdf").pages)
    assert "\ufffd" not in text and "🎗" in text
    for arabic in ("أحتاج", "مترجم"):  # each Arabic word extracts (in either direction of reading)
        assert arabic in text or arabic[::-1] in text
    page = (built / "interpreter" / "index.html").read_text(encoding="utf-8")
    assert "unicode-range" in page and "NotoSansArabic" in page and "NotoColorEmoji" in page
    said = (built / "interpreter" / "audio" / "01-interpreter.vtt").read_text(encoding="utf-8")
    assert "أحتاج" in said and "another script" not in said and "(reminder ribbon)" in said  # said by an Arabic voice


def test_editions_name_each_other_and_the_library_groups_them(built):
    spanish = lxml.html.parse(str(built / "mamografia" / "index.html")).getroot()
    english = lxml.html.parse(str(built / "sample-faq" / "index.html")).getroot()
    to_english = spanish.xpath("//a[@hreflang]")[0]
    assert (to_english.get("href"), to_english.get("lang"), to_english.text_content()) == (
        "../sample-faq/index.html", "en-US", "Read in English")
    to_spanish = english.xpath("//a[@hreflang]")[0]
    assert (to_spanish.get("href"), to_spanish.text_content()) == ("../mamografia/index.html", "Leer en español")
    with zipfile.ZipFile(built / "mamografia" / "mamografia.epub") as book:
        assert "English" in book.read("EPUB/cover.xhtml").decode() and "También en:" in book.read("EPUB/cover.xhtml").decode()
    library = lxml.html.parse(str(built / "index.html")).getroot()
    names = [a.get("id").removeprefix("handout-") for a in library.xpath("//article/h2")]
    assert abs(names.index("mamografia") - names.index("sample-faq")) == 1  # the editions stand together


@pytest.mark.fast
def test_a_language_without_a_catalog_marks_the_added_words_english(tmp_path):
    source = tmp_path / "kurz.md"
    source.write_text(SAMPLE.read_text(encoding="utf-8").replace("lang: en-US", "lang: de").replace(
        'identifier: "urn:uuid:7b018455-3e8f-4120-8a7b-5fdb44840878"\n', ""), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(source), "--out", str(tmp_path / "out"),
                           "--cache", str(tmp_path / "cache"), "--formats", "html"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sum("no catalog of interface words for de" in line for line in done.stderr.splitlines()) == 1
    page = lxml.html.parse(str(tmp_path / "out" / "kurz" / "index.html")).getroot()
    assert page.get("lang") == "de"
    glossary = page.xpath("//section[contains(@class, 'glossary')]/h2")[0]
    assert glossary.get("lang") == "en" and glossary.text_content() == "Words to know"


@pytest.mark.fast
@pytest.mark.parametrize("case, change, problem", [
    ("no font", lambda text: text.replace("A mammogram is an X-ray", "A mammogram \ue000 is an X-ray", 1),
     "no font on this machine draws '\ue000' (U+E000"),
])
def test_a_source_no_format_can_show_is_a_clear_error(tmp_path, case, change, problem):
    source = tmp_path / "handout.md"
    source.write_text(change(SAMPLE.read_text(encoding="utf-8")), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(source), "--out", str(tmp_path / "out"),
                           "--formats", "html"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2, case
    line, = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {source}:") and problem in line, line


def test_no_voice_for_the_language_still_builds_the_text_formats(tmp_path):
    """Piper asked to read Spanish: exit 3 naming an option that works, the other formats published."""
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(SPANISH), "--out", str(tmp_path / "out"),
                           "--cache", str(tmp_path / "cache"), "--engine", "piper", "--formats", "audio,html,pdf",
                           "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 3
    line, = done.stderr.strip().splitlines()
    assert "use --engine auto or espeak" in line and "the other formats were built" in line
    folder = tmp_path / "out" / "mamografia"
    assert (folder / "index.html").is_file() and (folder / "mamografia.pdf").is_file()
    assert not (folder / "audio").exists() and "<audio" not in (folder / "index.html").read_text(encoding="utf-8")
