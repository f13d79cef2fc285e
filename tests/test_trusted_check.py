"""The check can be trusted both ways: it passes every correct handout of a corpus written like real
ones, and fails every negative control, in the rule that should catch it.

- Every handout in `tests/corpus/` (chemotherapy tables, device care with numbered steps, drug
  names and doses, units, phone numbers, a one-line answer, 100 sections, words in another script,
  a Spanish handout) is built in every format and passes its check.
- Audio controls, for every section of both narrations: another section's recording, the first
  half only, silence, a voice saying "words in another script", another handout's recording.
  Each makes every section absent, by speech recognition.
- Text controls: one paragraph or one table row left out of a section's full text (PDF, EPUB, BRF)
  or of its plain words (page, EPUB) makes that section absent there.

The lowest score of a correct section and the highest of a control, per rule, are printed at the
end of the run (README "The check", margins).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import controls
from pipeline import checks
from pipeline.engine.build import BuildOptions, build
from pipeline.checks import audio as audio_check
from pipeline.config import setting
from pipeline.model import Document
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "tests" / "corpus").glob("*.md"))
FAQ = ROOT / "source" / "breast-cancer-recurrence.md"
CONTROLLED = ("breast-cancer-recurrence", "one-line-answers")
TEXT_FORMATS = ("html", "pdf", "epub", "braille")


@pytest.fixture(scope="session")
def corpus_built(build_root: Path, request: pytest.FixtureRequest) -> dict[str, tuple[Document, Path]]:
    """Every corpus handout and the FAQ, parsed and built in every format (read-only), with the
    project's own build cache, as `make all` builds them; the 100-section one only when a test
    that needs it runs (`make test-all`)."""
    wanted = [FAQ, *CORPUS] if "not slow" not in (request.config.getoption("markexpr") or "") else [
        s for s in [FAQ, *CORPUS] if s.stem != LONG]
    return {source.stem: (parse(source), build(source, BuildOptions(out_root=build_root / "corpus", quiet=True)))
            for source in wanted}


# The 100-section handout takes a quarter of an hour to build and check on two cores: `make test-all`.
LONG = "long-handout"


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == LONG else n
                                  for n in [FAQ.stem, *(p.stem for p in CORPUS)]])
def test_every_corpus_handout_passes_its_check(corpus_built, name: str, margins) -> None:
    doc, folder = corpus_built[name]
    reports = checks.run(doc, folder)
    assert checks.failures(doc, reports) == []
    for report in reports:
        for section_id, presence in report.sections.items():
            if presence.gap is not None:
                margins.correct(f"{report.format}: words missing in a row", presence.gap, f"{name} {section_id}")
    audio = next(r for r in reports if r.format == "audio")
    for figure, rule in (("recall", "audio: words heard"), ("ending", "audio: last third heard")):
        for label, value in audio.figures.get(figure, {}).items():
            margins.correct(rule, value, f"{name} {label}")


@pytest.mark.parametrize("kind", controls.AUDIO_CONTROLS)
@pytest.mark.parametrize("name", CONTROLLED)
def test_every_audio_control_fails_every_section_in_speech_recognition(corpus_built, name: str, kind: str,
                                                                       tmp_path: Path, margins) -> None:
    doc, built = corpus_built[name]
    other = corpus_built["lymphedema" if name != "lymphedema" else "blood-thinner"]
    damaged = controls.audio_control(kind, doc, built, tmp_path / name, other)
    report = audio_check.check(doc, damaged)
    heard = re.compile(r"speech recognition heard|it sounds like section")
    for section in doc.sections:
        presence = report.sections[section.id]
        assert not presence.present, (kind, section.id)
        for part in presence.detail.split("; plain: "):
            assert heard.search(part), (kind, section.id, part)
    for label, value in report.figures["recall"].items():
        margins.control("audio: words heard", value, f"{name} {label}: {kind}")
    for label, value in report.figures["ending"].items():
        margins.control("audio: last third heard", value, f"{name} {label}: {kind}")


def _without(source: Path, target: Path, section_id: str, plain: bool, starts: str) -> Path:
    """A copy of the source with one block of one section's full text (or plain words) cut out: the
    first line there that starts with `starts`, and the blank line after a paragraph."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    heading = next(i for i, line in enumerate(lines) if line.startswith("## ") and f"{{#{section_id}}}" in line)
    plain_at = next(i for i in range(heading, len(lines)) if lines[i].startswith("::: plain"))
    first, last = (plain_at, len(lines)) if plain else (heading, plain_at)
    at = next(i for i in range(first, last) if lines[i].startswith(starts))
    del lines[at: at + (2 if at + 1 < len(lines) and not lines[at + 1].strip() else 1)]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(lines), encoding="utf-8")
    return target


TEXT_CONTROLS = {
    # handout, section, plain words or full text, how the cut line starts, formats that must lose the section
    "a paragraph of the full text": ("breast-cancer-recurrence", "not-hopeless", False, "Keep in mind that",
                                     ("pdf", "epub", "braille")),
    "a table row of the full text": ("chemotherapy-schedule", "medicines", False, "| Cyclophosphamide",
                                     ("pdf", "epub", "braille")),
    "a paragraph of the plain words": ("breast-cancer-recurrence", "not-hopeless", True, "Cancer that comes back is",
                                       ("html", "epub")),
    "a table row of the plain words": ("chemotherapy-schedule", "medicines", True, "| Cyclophosphamide",
                                       ("html", "epub")),
}


@pytest.mark.parametrize("control", TEXT_CONTROLS)
def test_a_missing_paragraph_or_row_fails_the_section_in_every_text_format(corpus_built, control: str,
                                                                            tmp_path: Path, margins) -> None:
    name, section_id, plain, starts, losing = TEXT_CONTROLS[control]
    doc, _built = corpus_built[name]
    source = FAQ if name == FAQ.stem else ROOT / "tests" / "corpus" / f"{name}.md"
    damaged = _without(source, tmp_path / "source" / source.name, section_id, plain, starts)
    folder = build(damaged, BuildOptions(out_root=tmp_path / "out", quiet=True, formats=TEXT_FORMATS))
    for fmt in TEXT_FORMATS:
        report = checks.check_format(fmt, doc, folder)
        others = [s.id for s in doc.sections if s.id != section_id and not report.sections[s.id].present]
        assert others == [], (fmt, others)
        if fmt in losing:
            assert not report.sections[section_id].present, (control, fmt)
            assert re.search(r"words in a row are missing|of the words in order", report.sections[section_id].detail)
            margins.control(f"{fmt}: words missing in a row", report.sections[section_id].gap,
                            f"{name} {section_id}: {control}")


def test_a_narration_no_recogniser_can_hear_is_said_not_verified_everywhere(corpus_built, tmp_path: Path) -> None:
    """Spanish: no recogniser runs here, so the rule says "not verified" in the table, report.json
    and the library page, while the narration's other rules still ran and passed."""
    from pipeline import library

    doc, built = corpus_built["colonoscopia"]
    folder = shutil.copytree(built, tmp_path / built.name)
    reports = checks.run(doc, folder, formats=("audio",))
    rule = next(r for r in reports[0].rules if r.name == "speech recognition")
    assert rule.ok and rule.detail.startswith("not verified by recognition: no speech recogniser for es-US")
    assert "not verified by recognition" in checks.table(doc, reports)
    assert reports[0].figures["words_per_minute"] and all(p.present for p in reports[0].sections.values())
    handout = library.read_handout(folder)
    assert handout is not None and handout.unverified == ("audio",)
    library.build_index(tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "not verified by speech recognition" in page


def test_a_russian_handout_is_narrated_in_russian_brailled_and_passes(tmp_path: Path) -> None:
    """Cyrillic is a Russian handout's own script: the narration says its words (it said "words in
    another script" for every one), the braille table's cells reach the BRF and PEF (a KeyError
    before), readability counts its sentences, and the check passes; the same narration said with
    the placeholder fails the transcript rule."""
    source = ROOT / "tests" / "fixtures" / "gripp.md"
    doc = parse(source)
    folder = build(source, BuildOptions(out_root=tmp_path / "out", quiet=True))
    assert checks.failures(doc, checks.run(doc, folder)) == []
    vtt = folder / "audio" / "01-zachem.vtt"
    assert "Прививка" in vtt.read_text(encoding="utf-8")
    vtt.write_text(re.sub(r"[А-Яа-яёЁ]+(?:\s+[А-Яа-яёЁ]+)*", "(words in another script)",
                          vtt.read_text(encoding="utf-8")), encoding="utf-8")
    report = audio_check.check(doc, folder)
    assert not report.sections["zachem"].present and "transcript" in report.sections["zachem"].detail


def test_a_piece_of_speech_is_heard_the_same_whatever_its_worker_heard_before(tmp_path: Path) -> None:
    """Pieces go to whichever worker is free, so each is heard by a decoder of its own, as one whole
    utterance: every piece of a handout's narration is heard the same forwards and backwards.
    Negative control: a decoder kept from piece to piece and fed as a stream (its cepstral mean
    carried over) hears a piece differently after a burst of noise than alone, which is how a
    worker's history could change what the check heard (the cluster build's report once differed
    from the local one's)."""
    import os

    import numpy as np
    from pocketsphinx import Decoder

    from bench.generate import write_library
    from pipeline.audio import ffmpeg as audio_ffmpeg
    from pipeline.checks import hearing

    source = write_library(tmp_path / "source", 1, seed=8, sections=2)[0]
    folder = build(source, BuildOptions(out_root=tmp_path / "out", quiet=True))
    dictionary, language_model = (str(p) for p in hearing.model_for(parse(source)).files())
    pieces = [piece for path in sorted((folder / "audio").rglob("0*.mp3"))
              for piece in audio_check._pieces(audio_ffmpeg.decode(path, audio_check.ASR_RATE))]
    audio_check._start_decoder(dictionary, language_model)
    forwards = [audio_check._listen(piece) for piece in pieces]
    assert forwards == [audio_check._listen(piece) for piece in reversed(pieces)][::-1]

    def streamed(heard_before: list[bytes], piece: bytes) -> str:
        decoder = Decoder(logfn=os.devnull, dict=dictionary, lm=language_model, **audio_check.DECODER_SETTINGS)
        for utterance in (*heard_before, piece):
            decoder.start_utt()
            decoder.process_raw(utterance, full_utt=False)
            decoder.end_utt()
        return decoder.hyp().hypstr if decoder.hyp() else ""

    noise = np.random.default_rng(0).normal(0, 8000, audio_check.ASR_RATE * 3).clip(-32768, 32767).astype("<i2").tobytes()
    assert any(streamed([noise], piece) != streamed([], piece) for piece in pieces[:4])
