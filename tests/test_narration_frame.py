"""A narration that introduces itself and closes: the opening chapter (which version, the title, the
publisher, how many questions), the glossary read as its own chapter, the closing (the care-team
sentence and where to call), an M4B for both narrations, playlists titled by version and file
numbers that sort. Built for real with Piper, heard by the check's own recogniser, and damaged to
prove the check hears what is wrong.
"""

from __future__ import annotations

import shutil
import subprocess
import json
from pathlib import Path

import pytest

from pipeline import formats
from pipeline.audio import ffmpeg as audio_ffmpeg
from pipeline.checks import audio as audio_check
from pipeline.checks import hearing
from pipeline.engine.build import BuildOptions, build
from pipeline.formats.audio import FULL, PLAIN, number_width, parts, section_file
from pipeline.language import narration
from pipeline.language.words import words_for

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"
EPOCH = 1764028800


@pytest.fixture(scope="module")
def sample_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture FAQ's narration (audio only, the project's speech cache), built once for this module."""
    root = tmp_path_factory.mktemp("frame")
    return build(SAMPLE, BuildOptions(out_root=root / "out", formats=("audio",), quiet=True, source_date_epoch=EPOCH))


@pytest.fixture(scope="module")
def sample_report(sample_audio: Path, sample_doc):
    """The audio check of the untouched build."""
    return audio_check.check(sample_doc, sample_audio)


def _cue_text(vtt: Path) -> str:
    """The words of a WebVTT transcript."""
    return " ".join(block.split("\n", 2)[2].strip() for block in vtt.read_text(encoding="utf-8").split("\n\n")
                    if block.count("\n") >= 2 and " --> " in block.split("\n")[1])


def _chapter_titles(path: Path) -> list[str]:
    """The chapter titles ffprobe reads from a whole narration."""
    ffprobe = Path(audio_ffmpeg.ffmpeg()).with_name("ffprobe")
    done = subprocess.run([str(ffprobe), "-v", "error", "-show_chapters", "-of", "json", str(path)],
                          capture_output=True, text=True, check=True)
    return [c["tags"]["title"] for c in json.loads(done.stdout)["chapters"]]


def _heard_first(path: Path, seconds: float, doc) -> list[str]:
    """What the check's recogniser, knowing the handout, hears in the first seconds of a file."""
    pcm = audio_ffmpeg.decode(path, audio_check.ASR_RATE)[: int(seconds * audio_check.ASR_RATE) * 2]
    audio_check._start_decoder(*(str(p) for p in hearing.model_for(doc).files()))
    return hearing.said_words(audio_check._listen(pcm))


# --- what the narration says (no speech) ---------------------------------------------------------

@pytest.mark.fast
def test_the_opening_says_which_version_first_then_title_publisher_and_questions() -> None:
    """Short sentences, the version first so a listener knows at once which narration plays."""
    say = words_for("en-US")
    plain = [u.text for u in narration.opening("Caring for Your Wound", "Riverside Clinic", 8, True, say)]
    assert plain == ["This is the version in plain words.", "Caring for Your Wound.", "From Riverside Clinic.",
                     "This guide answers 8 questions."]
    full = [u.text for u in narration.opening("Caring for Your Wound", "", 1, False, say)]
    assert full == ["This is the full version.", "Caring for Your Wound.", "This guide answers 1 question."]


@pytest.mark.fast
def test_the_closing_says_the_care_team_line_and_where_to_call() -> None:
    """The contact when the source gives one (its phone number said digit by digit), else the care team."""
    say = words_for("en-US")
    called = [u.text for u in narration.closing("Ask us anything.", "the Riverside Clinic at 555-0100", say)]
    assert called == ["Ask us anything.", "Call the Riverside Clinic at 5 5 5, 0 1 0 0."]
    assert [u.text for u in narration.closing("Ask us anything.", "", say)][-1] == "Ask your care team."


@pytest.mark.fast
def test_the_frame_is_said_in_the_handouts_language() -> None:
    """Spanish and Russian openings and closings are the catalogs' words, not English."""
    for lang, version, questions, ask in (("es", "Esta es la versión en palabras sencillas.", "Esta guía responde a 3 preguntas.",
                                           "Pregunte a su equipo de atención médica."),
                                          ("ru", "Это версия простыми словами.", "Это руководство отвечает на 3 вопроса.",
                                           "Спросите своих врачей и медсестёр.")):
        say = words_for(lang)
        said = [u.text for u in narration.opening("T", "", 3, True, say)]
        assert said[0] == version and said[-1] == questions
        assert narration.closing("x.", "", say)[-1].text == ask


@pytest.mark.fast
def test_chapters_in_order_and_file_numbers_that_sort(sample_doc) -> None:
    """Opening, sections, glossary, closing; numbers as wide as the last one needs, so a plain sort
    is the reading order past 99 sections too."""
    chapters = parts(sample_doc)
    assert [p.id for p in chapters] == ["opening", *(s.id for s in sample_doc.sections), "glossary", "closing"]
    assert [section_file(p, ".mp3", len(sample_doc.sections)) for p in chapters][::4] == ["00-opening.mp3", "04-glossary.mp3"]
    assert (number_width(9), number_width(97), number_width(98), number_width(120)) == (2, 2, 3, 3)
    for sections in (9, 97, 98, 99, 120, 998):
        numbered = [section_file(type("P", (), {"number": n, "id": "x"})(), ".mp3", sections) for n in range(sections + 3)]
        assert sorted(numbered) == numbered, sections


@pytest.mark.fast
def test_both_audiobooks_are_published() -> None:
    """The plain narration is an M4B too, offered beside the full one's."""
    paths = [p.path for p in formats.published("audio", "x")]
    assert paths[0] == "audio/plain/x.mp3" and {"audio/plain/x.m4b", "audio/x.m4b"} <= set(paths)


# --- the built narration ----------------------------------------------------------------------------

def test_the_plain_narrations_first_words_say_it_is_plain(sample_audio: Path, sample_doc) -> None:
    """Heard, not read: the first seconds of the whole plain MP3 say "plain words", the full one's "full"."""
    plain = _heard_first(sample_audio / PLAIN.folder / "sample-faq.mp3", 3.0, sample_doc)
    full = _heard_first(sample_audio / FULL.folder / "sample-faq.mp3", 3.0, sample_doc)
    print("\nplain starts:", plain, "\nfull starts:", full)
    assert "plain" in plain and "full" not in plain
    assert "full" in full and "plain" not in full


def test_the_first_chapter_says_the_title_and_the_number_of_questions(sample_audio: Path, sample_doc, sample_report) -> None:
    """The opening's transcript and what the recogniser heard: the title, the publisher, "3 questions"."""
    for rendition in (FULL, PLAIN):
        said = _cue_text(sample_audio / rendition.folder / "00-opening.vtt")
        assert sample_doc.meta.title in said and sample_doc.meta.publisher in said
        assert "This guide answers 3 questions." in said
        assert _chapter_titles(sample_audio / rendition.folder / "sample-faq.mp3")[0] == "Introduction"
    figures = sample_report.figures["added_chapters"]
    print("\nadded chapters:", figures)
    for label in ("opening", "opening (plain)"):
        assert figures[label]["title"] >= 0.6 and figures[label]["version"] >= 0.6 and figures[label]["recall"] >= 0.6


def test_the_glossary_and_closing_are_chapters_and_the_plain_audiobook_exists(sample_audio: Path, sample_doc) -> None:
    """"Words to know" reads every term and its meaning; the closing says the care-team line; both
    narrations' MP3 and M4B list them last; the playlists are titled by version."""
    titles = ["Introduction", *(s.title for s in sample_doc.sections), "Words to know", "Where to get help"]
    for rendition in (FULL, PLAIN):
        folder = sample_audio / rendition.folder
        for whole in ("sample-faq.mp3", "sample-faq.m4b"):
            assert _chapter_titles(folder / whole) == titles, (rendition.name, whole)
        words = _cue_text(folder / "04-glossary.vtt")
        for term, meaning in sample_doc.meta.glossary.items():
            assert term in words and meaning in words
        closing = _cue_text(folder / "05-closing.vtt")
        assert formats.care_team_line(sample_doc) in closing and closing.endswith("Ask your care team.")
    assert (sample_audio / PLAIN.folder / "sample-faq.m3u8").read_text(encoding="utf-8").splitlines()[1] \
        == f"#PLAYLIST:{sample_doc.meta.title} (in plain words)"


def test_the_check_passes_the_frame(sample_report, sample_doc) -> None:
    """The untouched narration: the added chapters' rule holds in both narrations, and so does every other."""
    rules = {r.name: r for r in sample_report.rules}
    assert sample_report.ok, [(r.name, r.detail) for r in sample_report.rules if not r.ok]
    assert rules["opening, glossary and closing"].ok and rules["plain opening, glossary and closing"].ok
    assert rules["plain sample-faq.m4b chapters"].ok


def test_a_wrong_frame_fails_the_check(sample_audio: Path, sample_doc, copy_of) -> None:
    """Negative controls in one copy: the two openings exchanged (each says the other version), the
    full closing silenced, the plain glossary deleted, the plain playlist titled as the full one and
    the plain audiobook's chapters gone. Each fails, naming what is wrong; the sections still pass."""
    built = copy_of(sample_audio)
    full, plain = built / FULL.folder, built / PLAIN.folder
    parked = full / "parked.tmp"
    shutil.move(full / "00-opening.mp3", parked)
    shutil.move(plain / "00-opening.mp3", full / "00-opening.mp3")
    shutil.move(parked, plain / "00-opening.mp3")
    closing = full / "05-closing.mp3"
    length = audio_ffmpeg.packets(closing)[-1].start
    audio_ffmpeg.run("-y", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", f"{length:.3f}", "-ac", "1",
                     "-c:a", "libmp3lame", "-b:a", "64k", str(closing.with_name("silent.mp3")))
    closing.with_name("silent.mp3").replace(closing)
    (plain / "04-glossary.mp3").unlink()
    playlist = plain / "sample-faq.m3u8"
    playlist.write_text(playlist.read_text(encoding="utf-8").replace(" (in plain words)", ""), encoding="utf-8")
    book = plain / "sample-faq.m4b"
    audio_ffmpeg.run("-y", "-i", str(book), "-map", "0:a", "-map_chapters", "-1", "-c", "copy", "-f", "ipod",
                     str(book.with_name("bare.m4b")))
    book.with_name("bare.m4b").replace(book)
    report = audio_check.check(sample_doc, built)
    rules = {r.name: r for r in report.rules}
    full_rule, plain_rule = rules["opening, glossary and closing"], rules["plain opening, glossary and closing"]
    print("\n", full_rule.detail, "\n", plain_rule.detail, "\n", report.figures["added_chapters"])
    assert not full_rule.ok and "opening: speech recognition" in full_rule.detail and "which version" in full_rule.detail
    assert "closing: no speech in it" in full_rule.detail
    assert not plain_rule.ok and "opening (plain): speech recognition" in plain_rule.detail
    assert "04-glossary.mp3 missing" in plain_rule.detail
    assert not rules["plain playlist"].ok and "in plain words" in rules["plain playlist"].detail
    assert not rules["plain sample-faq.m4b chapters"].ok
    assert rules["sample-faq.m4b chapters"].ok and rules["playlist"].ok
    assert all(presence.present for presence in report.sections.values())
