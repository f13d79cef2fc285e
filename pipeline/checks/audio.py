"""Is every section in the narration? Read from the built files alone: listen, measure, read the tags.

A section is present when its file exists, its length fits its word count, speech recognition
(pocketsphinx, offline) hears enough of its content words in order (a word counts when the
recogniser heard something that sounds the same, within one phoneme in four, by the CMU
Pronouncing Dictionary), its file is tagged as that section, and
the whole narration has its chapter in the right place. The chapters the narration adds (the
opening that says which version is playing, the title and the number of questions; the glossary;
the closing with the care-team sentence) are judged the same way, from what the source says they
must say. Format rules: loudness and true peak of every file, mono 44.1 kHz constant bit rate,
chapters of the MP3 and the M4B in order, and timings.json, transcripts and playlist agreeing with
the files.
"""

from __future__ import annotations

import functools
import html
import json
import multiprocessing
import os
import subprocess
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mutagen.id3 import ID3, ID3NoHeaderError
from mutagen.mp3 import MP3, BitrateMode

from importlib.metadata import version

from ..audio import ffmpeg as audio_ffmpeg
from ..engine.cache import check_memo, file_digest, fingerprint
from ..config import setting
from ..errors import EngineError
from ..formats.audio import FULL, OPENING, RENDITIONS, Part, Rendition, parts, read_timings, section_file
from ..engine.lanes import lanes
from ..model import Document, Section, Utterance
from ..language.readability import pronunciations
from ..language.scripts import counting_unit
from ..language.narration import spoken
from ..language.words import Words, words_for
from . import FormatReport, hearing, interface_words
from .presence import Presence, in_order, in_order_ratio, judge, scripts_of, words

FORMAT = "audio"
ASR_RATE = 16000
ENDING_WORDS_MIN = 3  # fewer words are judged with what is around them: one misheard word ("médico" as "maybe co") is no missing ending or title
# A heard word matches a said word when their phonemes differ by at most one in PHONEMES_PER_SLIP
# (so words of under four phonemes must match exactly): "skin"/"scan", "used"/"use",
# "come back"/"combat" count, "lung"/"lawn" does not. Matching in order keeps the check deaf to
# another section's words: on the same FAQ transcripts it raised the weakest section's recall from
# 62.9 to 74.3 % and lowered the highest cross-section recall (A's words against B's file) from 50
# to 45.5 %.
PHONEMES_PER_SLIP = 4
# A long section is cut at its pauses (a heading, paragraph or list-item break; a sentence break
# is 250 ms) into pieces of at least PIECE_S seconds, recognised in parallel processes.
PAUSE_S = 0.3
PIECE_S = 6.0
QUIET_DB = 40.0  # a 10 ms frame this far under the section's loud speech (95th percentile) is silence
SILENT_DB = 30.0  # and so is one this quiet whatever the rest is (speech at -16 LUFS frames at about 70 dB)
TOLERANCE_S = 0.05
# The whole MP3 joins the section files' packets, so each chapter also holds its file's encoder
# delay and padding: under two MP3 frames (1152 samples each).
MP3_FRAME = 1152
# Words that carry no content of their own; recall counts only the rest, as a listener would.
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each either few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself just
may me might more most must my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves section
""".split())


@dataclass(frozen=True)
class Heard:
    """What one section file sounds like: its length, how much of it is speech (not pauses), and
    what speech recognition made of it."""

    seconds: float
    transcript: str
    speaking_seconds: float = 0.0


def _voiceless(doc: Document) -> str:
    """Why no voice on this machine speaks the handout's language (seen here, not taken from the
    build), or "" when one does and a missing narration is a missing narration."""
    from ..audio import speech

    try:
        speech.get(str(setting("engine")), doc.meta.lang, int(setting("rate_wpm")))
    except EngineError as why:
        return f"no narration: {why}"
    return ""


def check(doc: Document, out_dir: Path) -> FormatReport:
    """Judge every section in both narrations (the full text, and the plain words the page shows)
    and the narrations' format rules, from the files in `out_dir/audio/` and `out_dir/audio/plain/`."""
    started = time.perf_counter()
    report = FormatReport(FORMAT)
    if not FULL.directory(out_dir).is_dir():
        report.unavailable = _voiceless(doc)
        return report if report.unavailable else report.missing(doc, f"no {FULL.folder}/ folder")
    chapters_heard = parts(doc)
    files = {_key(r, p): r.directory(out_dir) / section_file(p, ".mp3", len(doc.sections))
             for r in RENDITIONS for p in chapters_heard}
    existing = {key: path for key, path in files.items() if path.is_file()}
    wholes = {r.name: r.directory(out_dir) / f"{doc.name}.mp3" for r in RENDITIONS}
    books = {r.name: r.directory(out_dir) / f"{doc.name}.m4b" for r in RENDITIONS}
    english = doc.meta.lang.lower().startswith("en")
    model = hearing.model_for(doc) if english else None
    heard = _listen_all(existing, model)
    expected = {r.name: {s.id: hearing.expected_words(doc, s, r is not FULL) for s in doc.sections} for r in RENDITIONS}
    loudness = _measure_all([*existing.values(), *wholes.values(), *books.values()])
    chapters = {name: _book_chapters(path) for name, path in wholes.items()}
    position = {part.id: n for n, part in enumerate(chapters_heard) if part.section is not None}
    for section in doc.sections:
        verdicts = []
        for rendition in RENDITIONS:
            try:
                verdicts.append((rendition, _judge(doc, section, position[section.id], rendition,
                                                   existing.get(f"{rendition.name}:{section.id}"),
                                                   heard, chapters[rendition.name], expected[rendition.name] if english
                                                   else None, report)))
            except Exception as exc:  # noqa: BLE001  (one section that cannot be judged is absent, with the reason)
                verdicts.append((rendition, Presence(False, f"could not be checked: {type(exc).__name__}: {exc}")))
        report.sections[section.id] = Presence(all(v.present for _, v in verdicts),
                                               "; ".join(f"{r.name}: {v.detail}" for r, v in verdicts))
    report.rule("speech recognition", True,
                "pocketsphinx listened to every section of both narrations, knowing the handout's words" if english else
                f"not verified by recognition: no speech recogniser for {doc.meta.lang} runs here "
                "(its length, transcript, tags and chapters were checked)")
    with report.guard("loudness"):
        _loudness_rules(report, loudness)
    with report.guard("mp3 format"):
        _format_rule(report, [path for path in [*existing.values(), *wholes.values()] if path.suffix == ".mp3"])
    for rendition in RENDITIONS:
        folder = rendition.directory(out_dir)
        with report.guard(_named(rendition, "opening, glossary and closing")):
            _added_chapters_rule(report, doc, rendition, chapters_heard, files, heard, chapters[rendition.name], english)
        with report.guard(_named(rendition, "chapters")):
            _chapter_rules(report, doc, rendition, wholes[rendition.name], chapters[rendition.name],
                           books[rendition.name], heard, chapters_heard)
        with report.guard(_named(rendition, "timings")):
            _timings_rule(report, doc, rendition, folder, heard)
        with report.guard(_named(rendition, "playlist")):
            _playlist_rule(report, doc, rendition, folder)
    with report.guard("no English interface words"):  # the transcripts: what the narration says
        interface_words.check(report, doc, [vtt.read_text(encoding="utf-8") for rendition in RENDITIONS
                                            for vtt in sorted(rendition.directory(out_dir).glob("*.vtt"))])
    report.figures["check_seconds"] = round(time.perf_counter() - started, 1)
    return report


def _key(rendition: Rendition, part: Part) -> str:
    """How a chapter's file is known while checking: "plain:ID" for a section, "plain:#opening" for
    a chapter the narration adds ("#" is in no section id, so the two never meet)."""
    return f"{rendition.name}:{part.id}" if part.section is not None else f"{rendition.name}:#{part.id}"


def _judge(doc: Document, section: Section, index: int, rendition: Rendition, path: Path | None, heard: dict[str, Heard],
           chapters: list[tuple[str, float, float]], expected: dict[str, list[str]] | None,
           report: FormatReport) -> Presence:
    """Present when file, transcript, length, recognition, tags and chapter all agree with what the
    source says the section's narration in this rendition must say. `expected` holds every section's
    words in this rendition, from the source, where a recogniser of the handout's language runs."""
    if path is None:
        return Presence(False, f"{rendition.folder}/{section_file(section)} missing")
    problems: list[str] = []
    label = section.id if rendition is FULL else f"{section.id} ({rendition.name})"
    passages = section.full_passages if rendition is FULL else section.plain_passages
    said = _transcript_words(path.with_suffix(".vtt"), section, passages, label, report, scripts_of(doc.text),
                             words_for(doc.meta.lang))
    if said:
        problems.append(said)
    listened = heard[f"{rendition.name}:{section.id}"]
    rate = _speaking_rate(doc, rendition.script(section), listened, label, report)
    if rate:
        problems.append(rate)
    if expected is not None:
        problems.extend(_recognised(section, expected, listened, label, report))
    title = _tagged_title(path)
    if title != section.title:
        problems.append(f"{path.name} is tagged {title!r}")
    if index >= len(chapters) or chapters[index][0] != section.title:
        problems.append(f"no chapter {index + 1} titled {section.title!r} in the whole narration")
    if problems:
        return Presence(False, "; ".join(problems))
    unit = counting_unit(doc.meta.lang)
    rate = report.figures[f"{unit}s_per_minute"][label]
    heard_share = report.figures.get("recall", {}).get(label)
    return Presence(True, f"{rate:.0f} {_per_minute(unit)}" + (f", {heard_share:.0%} of content words heard" if heard_share is not None else ""))


def _speaking_rate(doc: Document, script: tuple[Utterance, ...], listened: Heard, label: str,
                   report: FormatReport) -> str:
    """The words the source says the narration says (the model's script: "Section 1 of 12.", each
    sentence in its spoken forms, a table's "1 row, 4 columns:" and its column names; syllables in
    Chinese, Japanese, Korean, Vietnamese) over the time the voice is speaking (pauses between
    sentences left out, so a one-word answer is not "too slow"): within `words_per_minute`
    (`syllables_per_minute`). Counting the source's words alone called a table's narration slow."""
    unit = counting_unit(doc.meta.lang)
    count = len(words(" ".join(u.text for u in script), counted=True))
    minutes = (listened.speaking_seconds or listened.seconds) / 60
    rate = count / minutes if minutes else 0.0
    low, high = setting(f"{unit}s_per_minute")
    report.figures.setdefault(f"{unit}s_per_minute", {})[label] = round(rate)
    report.figures.setdefault("seconds", {})[label] = round(listened.seconds, 2)
    if low <= rate <= high:
        return ""
    return f"{listened.speaking_seconds:.1f} s of speech for {count} {unit}s is {rate:.0f} {_per_minute(unit)} (need {low}-{high})"


def _per_minute(unit: str) -> str:
    """How a speaking rate is written: "wpm", or "syllables a minute"."""
    return "wpm" if unit == "word" else f"{unit}s a minute"


def _recognised(section: Section, expected: dict[str, list[str]], listened: Heard, label: str,
                report: FormatReport) -> list[str]:
    """What speech recognition says of the file: enough of the section's own words heard in order, and
    no other section's words heard more (a file filed under the wrong section)."""
    heard_words = hearing.said_words(listened.transcript)
    found = match_passages(expected[section.id], heard_words)
    report.figures.setdefault("recall", {})[label] = round(found.recall, 3)
    report.figures.setdefault("precision", {})[label] = round(found.precision, 3)
    report.figures.setdefault("ending", {})[label] = round(found.ending, 3)
    problems = []
    need, ending = float(setting("asr_recall_min")), float(setting("asr_ending_min"))
    if found.recall < need:
        problems.append(f"speech recognition heard {found.recall:.0%} of its content words (need {need:.0%})")
    if found.ending < ending:
        problems.append(f"speech recognition heard {found.ending:.0%} of the last third's content words "
                        f"(need {ending:.0%}): it stops early")
    like = hearing.likeliest(heard_words, expected, _carries_meaning)
    if like != section.id:
        problems.append(f"it sounds like section '{like}', not '{section.id}'")
    return problems


def _transcript_words(vtt: Path, section: Section, passages: tuple[str, ...], label: str, report: FormatReport,
                      scripts: frozenset[str] | None = None, say: Words | None = None) -> str:
    """What the narration says, from its built WebVTT transcript: the heading first, then at least
    `presence_ratio` of the words it must say (table cells, notes and picture descriptions included),
    in their spoken forms ("10 mL" is said "10 milliliters": the table the narration uses).
    Returns the problem, or "" when the transcript holds them."""
    if not vtt.is_file():
        return f"{vtt.name} missing"
    cues = [block.split("\n", 2)[2] for block in vtt.read_text(encoding="utf-8").split("\n\n")
            if block.count("\n") >= 2 and " --> " in block.split("\n")[1]]
    title = spoken(section.title, say) if say else section.title
    said = tuple(spoken(p, say) for p in passages) if say else passages
    verdict = judge(title, said, bool(cues) and in_order_ratio(title, cues[0]) >= 0.99,
                    html.unescape(" ".join(cues)), scripts)
    report.figures.setdefault("transcript", {})[label] = verdict.detail
    return "" if verdict.present else f"transcript {vtt.name}: {verdict.detail}"


def content_words(text: str) -> list[str]:
    """The words that carry meaning: no stop words, no digits (recognisers spell numbers out)."""
    return [w for w in words(text) if _carries_meaning(w)]


def _carries_meaning(word: str) -> bool:
    """A listener would miss this word: not a stop word, not a number."""
    return word not in STOP_WORDS and not any(ch.isdigit() for ch in word)


def recall(expected: str, transcript: str) -> float:
    """Share of the expected content words (with repeats) heard in order, allowing near-homophones."""
    return match(words(expected), words(transcript)).recall


@dataclass(frozen=True)
class Match:
    """How well what was heard matches what must be said: the share of the expected content words
    heard in order (recall) and the share of the heard content words that were expected (precision)."""

    recall: float
    precision: float
    ending: float = 1.0  # the share of the last third's content words that were heard (a file cut short hears none)


def match_passages(passages: list[list[str]], heard: list[str]) -> Match:
    """The running text matched in order (its last third too), and each note and picture description
    on its own wherever it was heard; recall and precision over all of them."""
    if not passages:
        return Match(1.0, 1.0)
    main = match(passages[0], heard)
    counted = [sum(1 for w in passage if _carries_meaning(w)) for passage in passages]
    found = main.recall * counted[0] + sum(match(p, heard).recall * n for p, n in zip(passages[1:], counted[1:]))
    heard_counted = sum(1 for w in heard if _carries_meaning(w))
    total = sum(counted)
    if not total:
        return Match(1.0, 1.0 if not heard_counted else 0.0)
    return Match(found / total, min(1.0, found / heard_counted) if heard_counted else 0.0, main.ending)


def match(said: list[str], heard: list[str]) -> Match:
    """Align the words that must be said with the words heard (longest in-order match, like a diff):
    a said word matches one heard word, two adjacent heard words ("uses" / "use of") or, with its
    neighbour, one heard word ("come back" / "combat") when they sound alike. Stop words are aligned
    but not counted."""
    counted = [_carries_meaning(w) for w in said]
    heard_counted = sum(1 for w in heard if _carries_meaning(w))
    if not any(counted):
        return Match(1.0, 1.0 if not heard_counted else 0.0)
    best = [[0] * (len(heard) + 1) for _ in range(len(said) + 1)]
    for i in range(1, len(said) + 1):
        for j in range(1, len(heard) + 1):
            score = max(best[i - 1][j], best[i][j - 1])
            if counted[i - 1] and _sound_alike((said[i - 1],), (heard[j - 1],)):
                score = max(score, best[i - 1][j - 1] + 1)
            elif counted[i - 1] and j > 1 and _sound_alike((said[i - 1],), (heard[j - 2], heard[j - 1])):
                score = max(score, best[i - 1][j - 2] + 1)
            if i > 1 and (counted[i - 2] or counted[i - 1]) and _sound_alike((said[i - 2], said[i - 1]), (heard[j - 1],)):
                score = max(score, best[i - 2][j - 1] + counted[i - 2] + counted[i - 1])
            best[i][j] = score
    found = best[-1][-1]
    # The words of the last third (at least ENDING_WORDS_MIN of them: one misheard word is no
    # ending) heard in order: what the alignment found beyond the best it can do with the words
    # before them alone (a lower bound, so a recording that stops early scores 0).
    tail_needed = max(sum(counted) / 3, min(ENDING_WORDS_MIN, sum(counted)))
    head = max(i for i in range(len(said) + 1) if sum(counted[i:]) >= tail_needed)
    tail_words = sum(counted[head:])
    ending = (found - best[head][-1]) / tail_words if tail_words else 1.0
    return Match(found / sum(counted), min(1.0, found / heard_counted) if heard_counted else 0.0, ending)


@functools.lru_cache(maxsize=65536)
def _sound_alike(said: tuple[str, ...], heard: tuple[str, ...]) -> bool:
    """Same words, or pronunciations within one phoneme in PHONEMES_PER_SLIP (CMU dictionary).

    Two said words heard as one may slip by fewer than half the phonemes of the shorter, so a
    dropped word ("use mammograms" heard as "mammograms") is not counted as heard.
    """
    if said == heard:
        return True
    ways = _sounds(said)
    if not ways:
        return False
    slips = len(min(ways, key=len)) // PHONEMES_PER_SLIP
    if len(said) > 1:
        slips = min(slips, (min(len(min(_sounds((word,)), key=len)) for word in said) - 1) // 2)
    return any(abs(len(a) - len(b)) <= slips and _phoneme_edits(a, b) <= slips  # the length gap alone may rule it out
               for a in ways for b in _sounds(heard))


@functools.lru_cache(maxsize=16384)
def _sounds(spoken: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Every way to pronounce a run of words (phonemes without stress); none if a word is unknown."""
    ways: list[tuple[str, ...]] = [()]
    for word in spoken:
        own = [tuple(phone.rstrip("012") for phone in way) for way in pronunciations().get(word, [])]
        ways = [start + rest for start in ways for rest in own]
    return tuple(ways)


def _phoneme_edits(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """Levenshtein distance between two phoneme sequences."""
    previous = list(range(len(b) + 1))
    for i, phone in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (phone != other)))
        previous = current
    return previous[-1]


# --- listening (in worker processes: pocketsphinx holds the GIL) ---------------------------------

_MODEL: tuple[str, str] = ("", "")
# How the recogniser searches (measured on the FAQ's 690 s of speech, docs/check.md): the two best
# Gaussians per frame, one search pass and a best-path rescoring, the handout's language model
# weighed 9. Every frame is read (`ds` 1): reading every other frame was a third cheaper, but which
# frame came first depended on what the worker heard before, so the same file could be heard
# differently from run to run.
DECODER_SETTINGS = {"ds": 1, "topn": 2, "fwdflat": False, "bestpath": True, "lw": 9.0}


def _start_decoder(dictionary: str, language_model: str) -> None:
    """Remember the handout's dictionary and language model, once per worker process."""
    global _MODEL
    _MODEL = (dictionary, language_model)


def _listen(pcm: bytes) -> str:
    """Transcribe one piece of 16 kHz mono speech with a decoder of its own: pieces go to whichever
    worker is free, and a decoder that had heard another piece first (its cepstral mean, its search)
    sometimes heard this one differently. A decoder loads in about 20 ms."""
    from pocketsphinx import Decoder

    dictionary, language_model = _MODEL
    decoder = Decoder(logfn=os.devnull, dict=dictionary, lm=language_model, **DECODER_SETTINGS)
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis else ""


def _levels(pcm: bytes) -> np.ndarray:
    """The loudness of each 10 ms frame, in dB."""
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    frame = ASR_RATE // 100
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    return 10 * np.log10(np.mean(frames ** 2, axis=1) + 1.0) if len(frames) else np.zeros(0)


def _pauses(level: np.ndarray) -> list[tuple[int, int]]:
    """(first frame, frame after) of every quiet stretch of PAUSE_S or more (a heading, paragraph or
    list-item break; a sentence break is 250 ms)."""
    floor = max(np.percentile(level, 95) - QUIET_DB, SILENT_DB)
    quiet = np.concatenate(([0], (level < floor).astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(quiet))
    return [(int(begin), int(end)) for begin, end in zip(edges[::2], edges[1::2]) if end - begin >= PAUSE_S * 100]


def _speaking_seconds(pcm: bytes) -> float:
    """How long the voice speaks: the file's length less every pause."""
    level = _levels(pcm)
    return (len(level) - sum(end - begin for begin, end in _pauses(level))) / 100 if len(level) else 0.0


def _pieces(pcm: bytes) -> list[bytes]:
    """Cut a section's speech in the middle of its pauses, so several cores can listen to one section."""
    samples = len(pcm) // 2
    frame = ASR_RATE // 100
    level = _levels(pcm)
    if not len(level):
        return [pcm]
    cuts = [(begin + end) // 2 * frame for begin, end in _pauses(level) if begin > 0 and end < len(level)]
    shortest = int(PIECE_S * ASR_RATE)
    bounds = [0]
    for cut in cuts:
        if cut - bounds[-1] >= shortest and samples - cut >= shortest:
            bounds.append(cut)
    bounds.append(samples)
    return [pcm[2 * begin:2 * end] for begin, end in zip(bounds, bounds[1:])]


def _listen_all(files: dict[str, Path], model: hearing.Model | None) -> dict[str, Heard]:
    """Listen to every section file, in pieces on every core, with the handout's own model (none: its
    language has no recogniser here, so only its length is measured); a file heard before with the
    same model (same bytes, same handout words) is recalled."""
    memo = check_memo()
    keys = {sid: fingerprint("heard", 4, file_digest(path), model.digest if model else None, ASR_RATE, DECODER_SETTINGS,
                             PAUSE_S, PIECE_S, QUIET_DB, SILENT_DB, version("pocketsphinx")) for sid, path in files.items()}
    known = {sid: memo.get("heard", key, ".json") for sid, key in keys.items()}
    heard = {sid: Heard(**json.loads(path.read_text(encoding="utf-8"))) for sid, path in known.items() if path}
    todo = [sid for sid in files if sid not in heard]
    if not todo:
        return {sid: heard[sid] for sid in files}
    with ThreadPoolExecutor(max_workers=lanes().width) as pool:
        pcm = dict(zip(todo, pool.map(lambda sid: lanes().run(audio_ffmpeg.decode, files[sid], ASR_RATE), todo)))
    transcripts = _transcribe({sid: _pieces(pcm[sid]) for sid in todo}, model) if model else {}
    for sid in todo:
        heard[sid] = Heard(len(pcm[sid]) / 2 / ASR_RATE, transcripts.get(sid, ""), _speaking_seconds(pcm[sid]))
        memo.put("heard", keys[sid], ".json", json.dumps(heard[sid].__dict__).encode("utf-8"))
    return {sid: heard[sid] for sid in files}


def _transcribe(pieces: dict[str, list[bytes]], model: hearing.Model) -> dict[str, str]:
    """Recognise every piece in worker processes (pocketsphinx holds the GIL), longest first, each
    handed out when a lane is free; join per section."""
    jobs = sorted(((sid, n) for sid, parts in pieces.items() for n in range(len(parts))),
                  key=lambda job: len(pieces[job[0]][job[1]]), reverse=True)
    workers = min(len(jobs), lanes().width)
    context = multiprocessing.get_context("spawn")
    files = tuple(str(path) for path in model.files())
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_decoder, initargs=files) as pool:
        futures = {job: _in_lane(pool, pieces[job[0]][job[1]]) for job in jobs}
        return {sid: " ".join(text for n in range(len(parts)) if (text := futures[sid, n].result()))
                for sid, parts in pieces.items()}


def _in_lane(pool: ProcessPoolExecutor, piece: bytes) -> Future[str]:
    """Queue one piece once a lane is free; the lane is freed when it has been heard."""
    token = lanes().acquire()
    try:
        future = pool.submit(_listen, piece)
    except BaseException:
        lanes().release(token)
        raise
    future.add_done_callback(lambda _: lanes().release(token))
    return future


def _measure_all(paths: list[Path]) -> dict[str, audio_ffmpeg.Loudness | None]:
    """EBU R128 loudness and true peak of every file that exists, by folder and name
    ("audio/01-where.mp3", "plain/01-where.mp3": the two narrations' files share names)."""
    present = [p for p in paths if p.is_file()]
    with ThreadPoolExecutor(max_workers=lanes().width) as pool:
        measured = dict(zip([_where(p) for p in present], pool.map(lambda p: lanes().run(_loudness, p), present)))
    return {_where(p): measured.get(_where(p)) for p in paths}


def _where(path: Path) -> str:
    """A built file's folder and name, as the rules name it."""
    return f"{path.parent.name}/{path.name}"


def _loudness(path: Path) -> audio_ffmpeg.Loudness:
    """One file's loudness, measured once per distinct file content."""
    key = fingerprint("loudness", file_digest(path))
    found = check_memo().remember("loudness", key, lambda: audio_ffmpeg.measure(path).__dict__)
    return audio_ffmpeg.Loudness(**found)


# --- tags and chapters ---------------------------------------------------------------------------

def _tagged_title(path: Path) -> str | None:
    """The ID3 title of a section file."""
    try:
        frame = ID3(path).get("TIT2")
    except ID3NoHeaderError:
        return None
    return str(frame.text[0]) if frame and frame.text else None


def _book_chapters(book: Path) -> list[tuple[str, float, float]]:
    """(title, start s, end s) of the CHAP frames of the whole narration, in CTOC order."""
    if not book.is_file():
        return []
    try:
        tags = ID3(book)
    except ID3NoHeaderError:
        return []
    by_id = {frame.element_id: frame for frame in tags.getall("CHAP")}
    tocs = tags.getall("CTOC")
    order = list(tocs[0].child_element_ids) if tocs else sorted(by_id, key=lambda e: by_id[e].start_time)
    chapters = []
    for element_id in order:
        frame = by_id.get(element_id)
        if frame is None:
            continue
        title = frame.sub_frames.get("TIT2")
        chapters.append((str(title.text[0]) if title else "", frame.start_time / 1000, frame.end_time / 1000))
    return chapters


def _m4b_chapters(m4b: Path) -> list[tuple[str, float, float]]:
    """(title, start s, end s) of the M4B's chapters as ffprobe reads them."""
    ffprobe = Path(audio_ffmpeg.ffmpeg()).with_name("ffprobe")
    if not ffprobe.exists():
        return []
    done = subprocess.run([str(ffprobe), "-v", "error", "-show_chapters", "-of", "json", str(m4b)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return []
    return [(c.get("tags", {}).get("title", ""), float(c["start_time"]), float(c["end_time"]))
            for c in json.loads(done.stdout).get("chapters", [])]


# --- format rules --------------------------------------------------------------------------------

def _loudness_rules(report: FormatReport, loudness: dict[str, audio_ffmpeg.Loudness | None]) -> None:
    """Every file at the loudness target (within 1 LU) and under the true-peak limit."""
    target, peak_limit = float(setting("loudness_lufs")), float(setting("true_peak_db"))
    report.figures["loudness_lufs"] = {n: m.integrated if m else None for n, m in loudness.items()}
    report.figures["true_peak_dbtp"] = {n: m.true_peak if m else None for n, m in loudness.items()}
    off = [f"{n} {m.integrated:+.1f} LUFS" if m else f"{n} missing" for n, m in loudness.items()
           if m is None or abs(m.integrated - target) > 1.0]
    report.rule("loudness", not off, "; ".join(off) or f"every file {target:.0f} LUFS ±1 LU")
    hot = [f"{n} {m.true_peak:+.1f} dBTP" for n, m in loudness.items() if m and m.true_peak > peak_limit]
    report.rule("true peak", not hot, "; ".join(hot) or f"every file at or under {peak_limit:.0f} dBTP")


def _format_rule(report: FormatReport, mp3s: list[Path]) -> None:
    """Mono, the output sample rate, constant bit rate of at least the configured kbps."""
    rate = int(setting("sample_rate"))
    kbps = int(str(setting("bitrate")).rstrip("k"))
    wrong = []
    for path in mp3s:
        if not path.is_file():
            wrong.append(f"{path.name} missing")
            continue
        info = MP3(path).info
        # mutagen derives the bit rate of a short file from its length, so a 64 kbps CBR file of a few
        # seconds reads as 63 999: within 1 % is the encoder's own rate.
        if info.channels != 1 or info.sample_rate != rate or info.bitrate < kbps * 1000 * 0.99 \
                or info.bitrate_mode not in (BitrateMode.CBR, BitrateMode.UNKNOWN):
            mode = getattr(info.bitrate_mode, "name", str(info.bitrate_mode))
            wrong.append(f"{path.name}: {info.channels} ch, {info.sample_rate} Hz, {info.bitrate / 1000:.1f} kbps {mode}")
    report.rule("mp3 format", not wrong, "; ".join(wrong) or f"mono {rate} Hz CBR {kbps} kbps")


def _named(rendition: Rendition, rule: str) -> str:
    """A rule's name for one narration: as it was for the full text, "plain ..." for the plain one."""
    return rule if rendition is FULL else f"{rendition.name} {rule}"


def _chapter_rules(report: FormatReport, doc: Document, rendition: Rendition, book: Path,
                   chapters: list[tuple[str, float, float]], m4b: Path, heard: dict[str, Heard],
                   chapters_heard: tuple[Part, ...]) -> None:
    """The whole narration and its audiobook have one chapter per chapter file (the opening, each
    section, the glossary, the closing), in order, each as long as its file."""
    titles = [p.title for p in chapters_heard]
    got = [c[0] for c in chapters]
    starts = [c[1] for c in chapters]
    in_order = got == titles and starts == sorted(starts)
    report.rule(_named(rendition, f"{book.name} chapters"), in_order,
                f"{len(got)} CHAP frames in chapter order" if in_order else f"chapters {got} at {starts} but files {titles}")
    report.figures[_named(rendition, "chapters")] = [{"title": t, "start": round(s, 3), "end": round(e, 3)}
                                                     for t, s, e in chapters]
    files = {p.id: heard.get(_key(rendition, p)) for p in chapters_heard}
    lengths = [f"{p.id}: chapter {e - b:.2f} s, file {files[p.id].seconds:.2f} s"
               for p, (_, b, e) in zip(chapters_heard, chapters)
               if files[p.id] and abs((e - b) - files[p.id].seconds) > 2 * MP3_FRAME / int(setting("sample_rate"))]
    report.rule(_named(rendition, "chapter lengths"), not lengths, "; ".join(lengths) or "every chapter as long as its file")
    in_m4b = [c[0] for c in _m4b_chapters(m4b)] if m4b.is_file() else []
    report.rule(_named(rendition, f"{m4b.name} chapters"), in_m4b == titles,
                f"{len(in_m4b)} chapters in order" if in_m4b == titles
                else f"{m4b.name} missing" if not m4b.is_file() else f"chapters {in_m4b} but files {titles}")


def _timings_rule(report: FormatReport, doc: Document, rendition: Rendition, folder: Path, heard: dict[str, Heard]) -> None:
    """timings.json (read by EPUB overlays) and each WebVTT transcript agree with the files."""
    name = _named(rendition, "timings")
    try:
        timings = read_timings(folder)
        listed = {entry["id"]: entry for entry in timings["sections"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.rule(name, False, f"timings.json unreadable: {exc}")
        return
    wrong = []
    for section in doc.sections:
        entry = listed.get(section.id)
        if entry is None:
            wrong.append(f"{section.id} not in timings.json")
            continue
        clips = entry.get("clips", [])
        ends = [c["end"] for c in clips]
        file = heard.get(f"{rendition.name}:{section.id}")
        if file and abs(entry["duration"] - file.seconds) > TOLERANCE_S:
            wrong.append(f"{section.id}: duration {entry['duration']} s but file {file.seconds:.3f} s")
        opener = rendition.script(section)[0].target
        if not clips or clips[0]["target"] != opener or ends != sorted(ends) or ends[-1] > entry["duration"]:
            wrong.append(f"{section.id}: clips out of order or past the end")
        vtt = folder / section_file(section, ".vtt", len(doc.sections))
        cues = vtt.read_text(encoding="utf-8").count(" --> ") if vtt.is_file() else 0
        if cues != len(clips):
            wrong.append(f"{vtt.name}: {cues} cues for {len(clips)} clips")
    report.rule(name, not wrong, "; ".join(wrong) or "timings.json and every transcript match the files")


def _playlist_rule(report: FormatReport, doc: Document, rendition: Rendition, folder: Path) -> None:
    """The M3U8 playlist lists every chapter file in reading order, under the narration's own title
    ("... (in plain words)" for the plain one)."""
    playlist = folder / f"{doc.name}.m3u8"
    lines = playlist.read_text(encoding="utf-8").splitlines() if playlist.is_file() else []
    entries = [line for line in lines if line and not line.startswith("#")]
    expected = [section_file(p, ".mp3", len(doc.sections)) for p in parts(doc)]
    title = f"#PLAYLIST:{doc.meta.title}" + (words_for(doc.meta.lang)(rendition.album) if rendition.album else "")
    ok = entries == expected and title in lines
    report.rule(_named(rendition, "playlist"), ok, "every chapter in order, titled by version" if ok
                else f"lists {entries}" if entries != expected else f"not titled {title[10:]!r}")


# --- the chapters the narration adds --------------------------------------------------------------

def _added_chapters_rule(report: FormatReport, doc: Document, rendition: Rendition, chapters_heard: tuple[Part, ...],
                         files: dict[str, Path], heard: dict[str, Heard], chapters: list[tuple[str, float, float]],
                         english: bool) -> None:
    """The opening, glossary and closing of one narration: each file there, tagged and in the whole
    narration's chapters at its place, its transcript saying what the source says it must, spoken
    at a listener's pace and, where a recogniser runs, heard (the opening's title and its version
    sentence too, so a listener is told the truth about which narration plays)."""
    problems, figures = [], {}
    for index, part in enumerate(chapters_heard):
        if part.section is not None:
            continue
        path = files[_key(rendition, part)]
        label = part.id if rendition is FULL else f"{part.id} ({rendition.name})"
        if not path.is_file():
            problems.append(f"{rendition.folder}/{path.name} missing")
            continue
        figures[label], found = _added_chapter(doc, rendition, part, path, heard[_key(rendition, part)], english)
        if _tagged_title(path) != part.title:
            found.append(f"{path.name} is tagged {_tagged_title(path)!r}")
        if index >= len(chapters) or chapters[index][0] != part.title:
            found.append(f"no chapter {index + 1} titled {part.title!r} in the whole narration")
        problems += [f"{label}: {problem}" for problem in found]
    report.figures.setdefault("added_chapters", {}).update(figures)
    report.rule(_named(rendition, "opening, glossary and closing"), not problems,
                "; ".join(problems) or ", ".join(f"{label}: {_summary(f)}" for label, f in figures.items()))


def _added_chapter(doc: Document, rendition: Rendition, part: Part, path: Path, listened: Heard,
                   english: bool) -> tuple[dict, list[str]]:
    """One added chapter's figures (speaking rate; share of its words, its title's and its version
    sentence's heard) and what is wrong with it."""
    script = rendition.script(part)
    said = " ".join(u.text for u in script)
    problems = []
    vtt = path.with_suffix(".vtt")
    cues = " ".join(block.split("\n", 2)[2] for block in vtt.read_text(encoding="utf-8").split("\n\n")
                    if block.count("\n") >= 2 and " --> " in block.split("\n")[1]) if vtt.is_file() else ""
    written = in_order(said, html.unescape(cues), scripts_of(doc.text)).ratio
    if written < float(setting("presence_ratio")):
        problems.append(f"transcript {vtt.name} holds {written:.0%} of its words")
    unit = counting_unit(doc.meta.lang)
    count = len(words(said, counted=True))
    minutes = (listened.speaking_seconds or listened.seconds) / 60
    rate = round(count / minutes) if minutes else 0
    low, high = setting(f"{unit}s_per_minute")
    if not listened.speaking_seconds:
        problems.append("no speech in it")
    elif not low <= rate <= high:
        problems.append(f"{listened.speaking_seconds:.1f} s of speech for {count} {unit}s is {rate} {_per_minute(unit)} "
                        f"(need {low}-{high})")
    figures = {f"{unit}s_per_minute": rate, "seconds": round(listened.seconds, 2), "transcript": round(written, 3)}
    if english:
        heard_words = hearing.said_words(listened.transcript)
        need = float(setting("asr_recall_min"))
        wanted = {"recall": said}
        if part.id == OPENING:
            title = spoken(doc.meta.title, words_for(doc.meta.lang))
            # A title of one or two words is judged with the chapter: one misheard word is no missing title
            # (a handout titled "Fuzz" was heard at 0 %).
            if sum(1 for w in hearing.said_words(title) if _carries_meaning(w)) >= ENDING_WORDS_MIN:
                wanted["title"] = title
            wanted["version"] = script[0].text
        for name, text in wanted.items():
            figures[name] = round(match(hearing.said_words(text), heard_words).recall, 3)
            if figures[name] < need:
                problems.append(f"speech recognition heard {figures[name]:.0%} of {_WANTED[name]} (need {need:.0%})")
    return figures, problems


_WANTED = {"recall": "its content words", "title": "the title's words", "version": "the words that say which version it is"}


def _summary(figures: dict) -> str:
    """An added chapter's figures as the rule's detail says them."""
    rate = next(f"{v} {_per_minute(k.removesuffix('s_per_minute'))}" for k, v in figures.items() if k.endswith("_per_minute"))
    heard = f", {figures['recall']:.0%} heard" if "recall" in figures else ""
    return rate + heard
