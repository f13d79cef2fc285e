"""The audio narration: one MP3 per section, the whole narration as MP3 and M4B with chapters,
a playlist, WebVTT transcripts and `timings.json` (the clip times EPUB Media Overlays read).

Each narration introduces itself and closes: an opening chapter (`00-opening.mp3`: which version
this is, the title, the publisher, how many questions), the sections, the glossary as its own
chapter ("Words to know", when the source has one) and a closing chapter (the care-team sentence
and where to call). Files are numbered with as many digits as the count needs, so they sort in order.

Each section is spoken utterance by utterance (heading, then sentence by sentence) with the
script's pauses between, so every utterance's begin and end in the final file is known exactly.
A section's raw speech is cached under the hash of its script, engine, voice and rate, and its
mastered encodings under the hash of that speech and the output settings: a section that did not
change is never synthesised, mastered or encoded again. Utterances are synthesised one per lane
(`pipeline.engine.lanes`: `--jobs`, every core, or a share of make's jobs). Every section is mastered to
the loudness target with a delay-compensated limiter, so timings survive mastering; the whole MP3
and M4B join the sections' encodings without re-encoding. Everything is written bit-exact so
builds are reproducible.
"""

from __future__ import annotations

import hashlib
import html
import json
import shutil
import tempfile
import time
import wave
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

from .. import __version__, formats
from ..audio import ffmpeg as audio_ffmpeg, speech, tags as audio_tags
from ..language import narration
from ..engine.cache import Cache, fingerprint, write_atomic
from ..config import setting
from ..errors import EngineError, PipelineError
from ..engine.lanes import Lanes
from ..manifest import Clip as ManifestClip, Manifest, Recording
from ..language.pronunciation import lexicon_for
from ..language.words import N_, words_for
from ..model import Document, Section, Utterance
from ..audio.speech.narrator import Narrator

NAME = "audio"
LABEL = N_("audio recording")
ARTICLED = N_("an audio recording")
RANK = 20
NEEDS: tuple[str, ...] = ()
SETTINGS = (
    formats.Setting("engine", "speech engine: auto (the voice [tool.pipeline.voices] names for the language: piper "
                              "for English, espeak-ng otherwise), piper (offline neural voice, English), gtts "
                              "(Google, needs internet), espeak (espeak-ng, many languages)",
                    choices=("auto", *speech.ENGINES), flag="--engine",
                    resolve=lambda value, doc, options: speech.chosen(value, doc.meta.lang)),
    formats.Setting("voices", "the engine that reads each language when the engine is auto",
                    resolve=lambda value, doc, options: speech.chosen(options.value("engine"), doc.meta.lang)),
    formats.Setting("rate_wpm", "speaking rate in words per minute", int, flag="--rate", metavar="WPM"),
    formats.Setting("voice_words_max", "a longer sentence is voiced in pieces", int),
    formats.Setting("sample_rate", "sample rate of every audio file, Hz", int),
    formats.Setting("bitrate", "MP3 and M4B bitrate"),
    formats.Setting("loudness_lufs", "integrated loudness of every file (EBU R128)", float),
    formats.Setting("true_peak_db", "highest true peak of every file, dBTP", float),
)
KIND = "narration"
UTTERANCE = "utterance"
ENCODED = "encoded"
PRODUCED_SUFFIXES = (".mp3", ".m4b", ".m3u8", ".vtt", ".json")
TIMINGS = "timings.json"


@dataclass(frozen=True)
class Rendition:
    """One narration of the handout: the full original answers, or the plain-language ones the web
    page shows (each read beside the words it says). Each has its own folder of files."""

    name: str
    folder: str
    album: str  # how players name the whole recording, after the title

    @property
    def plain(self) -> bool:
        """The plain-language narration (what the page shows), not the full original text."""
        return self.name == PLAIN_NAME

    def script(self, part: Part | Section) -> tuple[Utterance, ...]:
        """What this narration says of a chapter."""
        return part.plain_narration if self.plain else part.narration

    def directory(self, out_dir: Path) -> Path:
        """Where its files go in the document's folder."""
        return out_dir / self.folder


PLAIN_NAME = "plain"
FULL = Rendition("full", "audio", "")
PLAIN = Rendition(PLAIN_NAME, "audio/plain", N_(" (in plain words)"))
RENDITIONS = (FULL, PLAIN)
OPENING, GLOSSARY, CLOSING = "opening", "glossary", "closing"
CLOSING_TITLE = N_("Where to get help")


@dataclass(frozen=True)
class Part:
    """One chapter of a narration: a section of the source, or the opening, glossary or closing the
    narration adds around them (`section` None), with what each rendition says of it."""

    id: str
    title: str
    number: int
    narration: tuple[Utterance, ...]
    plain_narration: tuple[Utterance, ...]
    section: Section | None = None


def parts(doc: Document) -> tuple[Part, ...]:
    """Every chapter of the narration in the order a listener hears it: the opening, each section,
    the glossary (when the source has one) and the closing."""
    say = words_for(doc.meta.lang)
    count = len(doc.sections)
    introduced = [narration.opening(doc.meta.title, doc.meta.publisher, count, plain, say) for plain in (False, True)]
    chapters = [Part(OPENING, say("Introduction"), 0, *introduced)]
    chapters += [Part(s.id, s.title, s.number, s.narration, s.plain_narration, s) for s in doc.sections]
    if doc.meta.glossary:
        words = narration.glossary(say("Words to know"), doc.meta.glossary, say)
        chapters.append(Part(GLOSSARY, say("Words to know"), len(chapters), words, words))
    ending = narration.closing(formats.care_team_line(doc, say), doc.meta.contact, say)
    chapters.append(Part(CLOSING, say(CLOSING_TITLE), len(chapters), ending, ending))
    return tuple(chapters)


@dataclass(frozen=True)
class Clip:
    """One utterance's place in its section's audio, in seconds."""

    target: str
    begin: float
    end: float
    text: str


@dataclass(frozen=True)
class Narration:
    """A section's raw speech (before mastering) in one rendition, with its utterance clips; what the cache keeps."""

    part: Part
    rendition: Rendition
    key: str
    wav: Path
    clips: tuple[Clip, ...]
    synthesised: bool


@dataclass(frozen=True)
class Encoded:
    """A section mastered and encoded, untagged: MP3, AAC for the M4B, and how many packets each holds."""

    mp3: Path
    m4a: Path
    samples: int
    mp3_packets: int
    aac_packets: int


@dataclass(frozen=True)
class Track:
    """A finished section: its speech and its encodings."""

    narration: Narration
    encoded: Encoded

    @property
    def samples(self) -> int:
        """Its length at the output rate, in samples (what timings and the playlist report)."""
        return self.encoded.samples


def read_timings(audio_dir: Path) -> dict:
    """The built `timings.json` (every section's file, duration and clips), for the formats and checks that read it.

    Raises OSError or ValueError when it is missing or not JSON; each reader decides what that means.
    """
    return json.loads((audio_dir / TIMINGS).read_text(encoding="utf-8"))


def published(name: str) -> tuple[formats.Publication, ...]:
    """The whole guide a listener plays, in plain words (what the page shows) and in full (the
    original answers), each also as an audiobook with chapters."""
    return (
        formats.Publication(f"{PLAIN.folder}/{name}.mp3", N_("Listen to the whole guide in plain words"), "MP3",
                            N_("MP3 audio of the answers on this page"), seconds=audio_tags.audio_seconds),
        formats.Publication(f"{PLAIN.folder}/{name}.m4b", N_("Audiobook with chapters, in plain words"), "M4B",
                            seconds=audio_tags.audio_seconds),
        formats.Publication(f"{FULL.folder}/{name}.mp3", N_("Listen to the whole guide, full answers"), "MP3",
                            N_("MP3 audio of the full, detailed answers"), seconds=audio_tags.audio_seconds),
        formats.Publication(f"{FULL.folder}/{name}.m4b", N_("Audiobook with chapters, full answers"), "M4B",
                            seconds=audio_tags.audio_seconds),
    )


def section_file(part: Part | Section, suffix: str = ".mp3", sections: int = 0) -> str:
    """`NN-ID.mp3`: sorts in reading order and names the chapter. The number has as many digits as
    the last chapter's needs (a handout of `sections` sections ends with its glossary and closing):
    `01-` under 98 sections, `001-` from there, so `100-` never sorts before `11-`."""
    return f"{part.number:0{number_width(sections)}d}-{part.id}{suffix}"


def number_width(sections: int) -> int:
    """Digits of the file numbers of a handout of `sections` sections (the last file is sections + 2)."""
    return max(2, len(str(sections + 2)))


def build(doc: Document, out_dir: Path, options) -> Manifest:
    """Synthesise (or reuse) every section in both renditions, master and encode it (or reuse
    that), and write each narration's files in its folder."""
    engine = narrator_for(doc, options)
    options.progress(doc.name, f"audio: {doc.meta.lang} is read by {engine.name} ({engine.voice})"
                               + (" as [tool.pipeline.voices] says" if options.value("engine") == speech.AUTO else ""))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="narration-") as scratch:
        tracks = _tracks(doc, engine, options, Path(scratch))
        every = [track for rendition in RENDITIONS for track in tracks[rendition.name]]
        synthesised = [t for t in every if t.narration.synthesised]
        options.progress(doc.name, f"audio: {len(synthesised)} of {len(every)} chapters synthesised, full and plain "
                                   f"({engine.name}, {_total_seconds(every):.0f} s of speech, "
                                   f"{time.perf_counter() - started:.1f} s)")
        for rendition in RENDITIONS:
            folder = rendition.directory(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            written = _section_files(doc, tracks[rendition.name], engine, folder, Path(scratch))
            written += _whole_narration(doc, rendition, tracks[rendition.name], engine, folder, Path(scratch))
            written += _transcripts(doc, tracks[rendition.name], folder)
            written.append(_playlist(doc, rendition, tracks[rendition.name], folder))
            written.append(_timings(doc, engine, options.value("rate_wpm"), tracks[rendition.name], folder))
            _remove_stale(folder, set(written))
    return Manifest(NAME, formats.main_file(NAME, doc.name), tuple(
        _recording(doc, rendition, track) for rendition in RENDITIONS for track in tracks[rendition.name]
        if track.narration.part.section is not None))


def unavailable(doc: Document, options) -> str:
    """Why no voice here can narrate this handout (espeak-ng has no voice for its language), or "".
    An engine asked for by name that cannot speak the language is an error of the build instead."""
    if options.value("engine") != speech.AUTO:
        return ""
    try:
        speech.get(options.value("engine"), doc.meta.lang, options.value("rate_wpm"), options.lanes.width)
    except EngineError as why:
        return str(why)
    return ""


def narrator_for(doc: Document, options) -> Narrator:
    """The handout's narrator: the engine for its language, its lexicon (the project's and its own
    `pronounce:`), and voices for words in another script."""
    engine = speech.get(options.value("engine"), doc.meta.lang, options.value("rate_wpm"), options.lanes.width)
    lexicon = lexicon_for(doc.meta.lang, doc.meta.pronounce)
    unvoiced = words_for(doc.meta.lang)("(words in another script)")
    return Narrator(engine, doc.meta.lang, lexicon, options.value("rate_wpm"), unvoiced)


def _recording(doc: Document, rendition: Rendition, track: Track) -> Recording:
    """A section's recording as the page and the e-book are handed it (what timings.json records too)."""
    part = track.narration.part
    return Recording(rendition.name, part.id, f"{rendition.folder}/{section_file(part, '.mp3', len(doc.sections))}",
                     round(track.samples / int(setting("sample_rate")), 3),
                     tuple(ManifestClip(c.target, c.begin, c.end) for c in track.narration.clips))


def _tracks(doc: Document, engine: Narrator, options, scratch: Path) -> dict[str, list[Track]]:
    """Every chapter's track in every rendition. Utterances are spoken one per lane in reading order,
    the full text first (so even a single edited section uses every core it may), and each chapter
    is mastered as soon as its speech is in. The first failure stops the rest."""
    jobs = [(rendition, part) for rendition in RENDITIONS for part in parts(doc)]
    with ThreadPoolExecutor(max_workers=options.lanes.width, thread_name_prefix="voice") as pool, \
            ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="section") as sections:
        voices = Voices(pool, options.lanes)
        try:
            speaking = [_narration(doc, part, rendition, engine, options, voices) for rendition, part in jobs]
            mastering: dict[str, Future[Track]] = {}  # by speech key: the glossary and closing, said alike in both
            futures = [(rendition, mastering.get(key) or mastering.setdefault(
                key, sections.submit(_track, narration, options.cache, scratch)))
                for (rendition, _), (key, narration) in zip(jobs, speaking)]
            done = [_as_rendition(future.result(), rendition) for rendition, future in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return {rendition.name: [t for t in done if t.narration.rendition is rendition] for rendition in RENDITIONS}


def _as_rendition(track: Track, rendition: Rendition) -> Track:
    """A track mastered once for both narrations, as one of them has it."""
    return track if track.narration.rendition is rendition else replace(
        track, narration=replace(track.narration, rendition=rendition))


def _track(narration: Callable[[], Narration], cache: Cache, scratch: Path) -> Track:
    """One section once its speech is ready: its cached encodings, or new ones."""
    spoken = narration()
    return Track(spoken, _encoded(spoken, cache, scratch))


def narration_key(utterances: tuple[Utterance, ...], engine: Narrator, rate_wpm: int) -> str:
    """What decides a section's raw speech: its script, the engine, voice, rate and pipeline version."""
    script = [[u.target, engine.plan(u.text), u.pause_ms] for u in utterances]
    return fingerprint(KIND, script, engine.name, engine.voice, engine.settings, rate_wpm,
                       setting("voice_words_max"), narration.BREATH_PAUSE_MS, __version__)


def _narration(doc: Document, part: Part, rendition: Rendition, engine: Narrator, options,
               voices: Voices) -> tuple[str, Callable[[], Narration]]:
    """The chapter's raw speech in one rendition and what decides it: from the cache now, or a
    promise of its utterances (cached or queued on the voices)."""
    cache: Cache = options.cache
    script = rendition.script(part)
    key = narration_key(script, engine, options.value("rate_wpm"))
    wav, meta = cache.get(KIND, key, ".wav"), cache.get(KIND, key, ".json")
    if wav and meta:
        cache.log("reused", document=doc.name, section=part.id, rendition=rendition.name, engine=engine.name, key=key)
        found = _from_cache(part, rendition, key, wav, json.loads(meta.read_text(encoding="utf-8")), synthesised=False)
        return key, lambda: found
    utterances = [_utterance(u.text, engine, options.value("rate_wpm"), cache, voices) for u in script]
    return key, lambda: _store(doc, part, rendition, key, engine, [said() for said in utterances], cache)


@dataclass
class Voices:
    """The lanes utterances are spoken in, and what this build is speaking already (by utterance key),
    so a text both narrations say (each section's opener) is voiced once."""

    pool: ThreadPoolExecutor
    lanes: Lanes
    speaking: dict[str, Future[Spoken]] = field(default_factory=dict)


@dataclass(frozen=True)
class Spoken:
    """One utterance as 16-bit samples, and the engine seconds it took (0 when it came from the cache)."""

    pcm: np.ndarray
    rate: int
    seconds: float


def utterance_key(text: str, engine: Narrator, rate_wpm: int) -> str:
    """What decides one utterance's sound: its words, the engine, voice, rate and pipeline version."""
    return fingerprint(UTTERANCE, engine.plan(text), rate_wpm, __version__)


def _utterance(text: str, engine: Narrator, rate_wpm: int, cache: Cache, voices: Voices) -> Callable[[], Spoken]:
    """One utterance's speech, to be waited for: a long sentence is voiced in breath groups (each
    cached and spoken in a lane of its own) joined by short pauses, so no voice is ever handed more
    than `voice_words_max` words and memory stays flat whatever the source's sentences."""
    groups = narration.breath_groups(text, int(setting("voice_words_max")))
    parts = [_breath_group(group, engine, rate_wpm, cache, voices) for group in groups]
    if len(parts) == 1:
        return parts[0].result
    return lambda: _with_breaths([part.result() for part in parts])


def _breath_group(text: str, engine: Narrator, rate_wpm: int, cache: Cache, voices: Voices) -> Future[Spoken]:
    """Speech of one breath group: from the cache (so a fixed typo re-speaks only its words), being
    spoken already in this build, or queued on the voices, spoken in a lane."""
    key = utterance_key(text, engine, rate_wpm)
    if key in voices.speaking:
        return _shared(voices.speaking[key])
    found = cache.get(UTTERANCE, key, ".wav")
    if found is None:
        voices.speaking[key] = voices.pool.submit(voices.lanes.run, _speak, engine, text, key, cache)
        return voices.speaking[key]
    with wave.open(str(found)) as sound:
        kept = Spoken(np.frombuffer(sound.readframes(sound.getnframes()), "<i2"), sound.getframerate(), 0.0)
    ready: Future[Spoken] = Future()
    ready.set_result(kept)
    return ready


def _shared(speaking: Future[Spoken]) -> Future[Spoken]:
    """The same speech for a second use, which cost no engine time of its own."""
    shared: Future[Spoken] = Future()

    def copy(done: Future[Spoken]) -> None:
        if done.cancelled():
            shared.cancel()
        elif done.exception() is not None:
            shared.set_exception(done.exception())
        else:
            shared.set_result(replace(done.result(), seconds=0.0))

    speaking.add_done_callback(copy)
    return shared


def _with_breaths(parts: list[Spoken]) -> Spoken:
    """Breath groups end to end with a breath's pause between them: one utterance again."""
    rate = parts[0].rate
    pause = np.zeros(int(round(rate * narration.BREATH_PAUSE_MS / 1000)), dtype="<i2")
    pcm = np.concatenate([piece for part in parts for piece in (pause, part.pcm)][1:])
    return Spoken(pcm, rate, sum(part.seconds for part in parts))


def _speak(engine: Narrator, text: str, key: str, cache: Cache) -> Spoken:
    """Synthesise one utterance, keep it in the cache, and note the engine time it took."""
    started = time.perf_counter()
    speech_ = engine.synthesize(text)
    pcm = (np.clip(speech_.samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    spoken = Spoken(pcm, speech_.sample_rate, time.perf_counter() - started)
    cache.put(UTTERANCE, key, ".wav", _wav(pcm, spoken.rate))
    return spoken


def _store(doc: Document, part: Part, rendition: Rendition, key: str, engine: Narrator, spoken: list[Spoken],
           cache: Cache) -> Narration:
    """Join a chapter's utterances with the script's pauses, store them in the cache and log it."""
    pcm, rate, clips = _joined(rendition.script(part), spoken)
    wav = cache.put(KIND, key, ".wav", _wav(pcm, rate))
    record = {"sample_rate": rate, "samples": len(pcm), "clips": [c.__dict__ for c in clips]}
    cache.put(KIND, key, ".json", json.dumps(record, indent=1).encode("utf-8"))
    new = [s for s in spoken if s.seconds]
    cache.log("synthesised", document=doc.name, section=part.id, rendition=rendition.name, engine=engine.name,
              key=key, utterances=len(new), utterances_reused=len(spoken) - len(new),
              seconds=round(sum(s.seconds for s in new), 3), audio_seconds=round(sum(len(s.pcm) for s in new) / rate, 3))
    return _from_cache(part, rendition, key, wav, record, synthesised=True)


def _from_cache(part: Part, rendition: Rendition, key: str, wav: Path, record: dict, synthesised: bool) -> Narration:
    """A Narration from the cached WAV and its clip record."""
    clips = tuple(Clip(**c) for c in record["clips"])
    return Narration(part, rendition, key, wav, clips, synthesised)


def _joined(script: tuple[Utterance, ...], spoken: list[Spoken]) -> tuple[np.ndarray, int, list[Clip]]:
    """The utterances end to end with the script's pauses; note where each utterance lies."""
    pieces: list[np.ndarray] = []
    clips: list[Clip] = []
    position, rate = 0, spoken[0].rate
    for utterance, said in zip(script, spoken):
        begin, end = position, position + len(said.pcm)
        clips.append(Clip(utterance.target, round(begin / rate, 3), round(end / rate, 3), utterance.text))
        pause = np.zeros(int(round(rate * utterance.pause_ms / 1000)), dtype="<i2")
        pieces += [said.pcm, pause]
        position = end + len(pause)
    return np.concatenate(pieces), rate, clips


def _wav(pcm: np.ndarray, rate: int) -> Callable[[BinaryIO], None]:
    """A writer of 16-bit mono WAV for `write_atomic`: the samples go straight to the file, uncopied
    (a 2,000-word sentence is 40 MB of them; copying it four times was most of a build's memory)."""
    samples = np.ascontiguousarray(pcm, dtype="<i2")

    def write(handle: BinaryIO) -> None:
        with wave.open(handle, "wb") as sound:
            sound.setnchannels(1)
            sound.setsampwidth(2)
            sound.setframerate(rate)
            sound.writeframes(memoryview(samples).cast("B"))

    return write


def encoding_key(narration: Narration) -> str:
    """What decides a section's encodings: its speech, the loudness target, output format and the mastering code."""
    method = hashlib.sha256(Path(audio_ffmpeg.__file__).read_bytes()).hexdigest()
    return fingerprint(ENCODED, narration.key, setting("loudness_lufs"), setting("sample_rate"),
                       setting("bitrate"), method, __version__)


def _encoded(narration: Narration, cache: Cache, scratch: Path) -> Encoded:
    """The section mastered to the loudness target and encoded, from the cache or made now and kept there."""
    key = encoding_key(narration)
    found = [cache.get(ENCODED, key, suffix) for suffix in (".mp3", ".m4a", ".json")]
    if all(found):
        return _encoded_from(found[0], found[1], json.loads(found[2].read_text(encoding="utf-8")))
    stem = scratch / key
    mp3, m4a, mastered = stem.with_suffix(".mp3"), stem.with_suffix(".m4a"), stem.with_suffix(".wav")
    samples = audio_ffmpeg.master(narration.wav, audio_ffmpeg.mastering_gain(narration.wav), mp3, m4a, mastered)
    mp3_packets, aac_packets = audio_ffmpeg.packet_counts([mp3, m4a])
    record = {"samples": samples, "mp3_packets": mp3_packets, "aac_packets": aac_packets}
    kept = [cache.put(ENCODED, key, path.suffix, path.read_bytes()) for path in (mp3, m4a)]
    cache.put(ENCODED, key, ".json", json.dumps(record).encode("utf-8"))
    return _encoded_from(kept[0], kept[1], record)


def _encoded_from(mp3: Path, m4a: Path, record: dict) -> Encoded:
    """An Encoded from its cached files and record."""
    return Encoded(mp3, m4a, record["samples"], record["mp3_packets"], record["aac_packets"])


def _section_files(doc: Document, tracks: list[Track], engine: Narrator, audio_dir: Path, scratch: Path) -> list[str]:
    """NN-ID.mp3 per chapter: the cached encoding with the chapter's own tags (track n of every chapter)."""
    names = []
    for number, track in enumerate(tracks, 1):
        part, rendition = track.narration.part, track.narration.rendition
        name = section_file(part, ".mp3", len(doc.sections))
        tagged = scratch / name
        shutil.copyfile(track.encoded.mp3, tagged)
        audio_tags.tag_section(tagged, doc, part.title, f"{number}/{len(tracks)}", engine.voice, rendition.script(part),
                               rendition.album)
        write_atomic(audio_dir / name, tagged.read_bytes())
        names.append(name)
    return names


def _chapters(tracks: list[Track], counts: list[int], joined: list[audio_ffmpeg.Packet]) -> list[audio_tags.Chapter]:
    """Each chapter's start and end in the joined whole (ms): where its first packet plays there.

    Read from the joined file's own packet times, so whatever the container makes a player skip
    (the MP3's first encoder delay) is already counted. Each chapter holds its file's encoder delay
    and padding, under two frames (~50 ms).
    """
    if len(joined) != sum(counts):
        raise PipelineError(f"joining the narration kept {len(joined)} of {sum(counts)} packets")
    starts, first = [], 0
    for count in counts:
        starts.append(max(0.0, joined[first].start))
        first += count
    ends = starts[1:] + [joined[-1].start + joined[-1].length]
    return [audio_tags.Chapter(t.narration.part.title, round(b * 1000), round(e * 1000))
            for t, b, e in zip(tracks, starts, ends)]


def _whole_narration(doc: Document, rendition: Rendition, tracks: list[Track], engine: Narrator, audio_dir: Path,
                     scratch: Path) -> list[str]:
    """NAME.mp3 (ID3 chapters) and NAME.m4b (MP4 chapters, an audiobook): the encoded chapters
    joined, not re-encoded."""
    scratch = scratch / rendition.name
    scratch.mkdir(exist_ok=True)
    mp3, m4b = scratch / f"{doc.name}.mp3", scratch / f"{doc.name}.m4b"
    wholes = [(mp3, "mp3", [(t.encoded.mp3, t.encoded.mp3_packets) for t in tracks],
               ("-id3v2_version", "3", "-write_xing", "1", "-write_id3v1", "0")),
              (m4b, "ipod", [(t.encoded.m4a, t.encoded.aac_packets) for t in tracks],
               ("-metadata:s:a:0", f"language={audio_tags.language(doc.meta.lang)}", "-movflags", "+faststart"))]
    with ThreadPoolExecutor(max_workers=len(wholes), thread_name_prefix="whole") as pool:
        for made in [pool.submit(_join_whole, doc, rendition, tracks, engine, *whole) for whole in wholes]:
            write_atomic(audio_dir / made.result().name, made.result().read_bytes())
    return [whole[0].name for whole in wholes]


def _join_whole(doc: Document, rendition: Rendition, tracks: list[Track], engine: Narrator, out: Path, muxer: str,
                parts: list[tuple[Path, int]], options: tuple[str, ...]) -> Path:
    """One whole narration: the parts joined, its chapters read from the join, tags and chapters added."""
    joined = audio_ffmpeg.join([path for path, _ in parts], out.with_name("joined-" + out.name), muxer)
    chapters = _chapters(tracks, [count for _, count in parts], audio_ffmpeg.packets(joined))
    metadata = out.with_name(out.name + ".chapters.txt")  # one per whole: the two are joined side by side
    metadata.write_text(audio_tags.ffmetadata(doc, chapters, engine.voice, rendition.album), encoding="utf-8")
    return audio_ffmpeg.with_chapters(joined, metadata, out, muxer, *options)


def _timestamp(seconds: float) -> str:
    """WebVTT time: hh:mm:ss.ttt."""
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _transcripts(doc: Document, tracks: list[Track], audio_dir: Path) -> list[str]:
    """A WebVTT transcript per chapter: one cue per utterance, at its exact time in the MP3."""
    names = []
    for track in tracks:
        part = track.narration.part
        lines = [f"WEBVTT - {part.title}", ""]
        for clip in track.narration.clips:
            lines += [clip.target, f"{_timestamp(clip.begin)} --> {_timestamp(clip.end)}",
                      html.escape(clip.text, quote=False), ""]
        name = section_file(part, ".vtt", len(doc.sections))
        write_atomic(audio_dir / name, "\n".join(lines).encode("utf-8"))
        names.append(name)
    return names


def _playlist(doc: Document, rendition: Rendition, tracks: list[Track], audio_dir: Path) -> str:
    """NAME.m3u8: the chapter files in order, with titles and lengths, for any MP3 player; titled as
    the whole narration is ("... (in plain words)"), so the two narrations' playlists differ."""
    rate = int(setting("sample_rate"))
    lines = ["#EXTM3U", f"#PLAYLIST:{audio_tags.album_title(doc, rendition.album)}"]
    for track in tracks:
        part = track.narration.part
        lines += [f"#EXTINF:{round(track.samples / rate)},{part.title}", section_file(part, ".mp3", len(doc.sections))]
    name = f"{doc.name}.m3u8"
    write_atomic(audio_dir / name, ("\n".join(lines) + "\n").encode("utf-8"))
    return name


def _timings(doc: Document, engine: Narrator, rate_wpm: int, tracks: list[Track], audio_dir: Path) -> str:
    """timings.json: per section its file, duration and utterance clips (read by EPUB Media Overlays),
    and the same for the chapters the narration adds (opening, glossary, closing) apart."""
    rate = int(setting("sample_rate"))
    entries = [
        {
            "id": t.narration.part.id,
            "title": t.narration.part.title,
            "file": section_file(t.narration.part, ".mp3", len(doc.sections)),
            "duration": round(t.samples / rate, 3),
            "clips": [{"target": c.target, "begin": c.begin, "end": c.end} for c in t.narration.clips],
        }
        for t in tracks
    ]
    sections = [entry for entry, t in zip(entries, tracks) if t.narration.part.section is not None]
    added = [entry for entry, t in zip(entries, tracks) if t.narration.part.section is None]
    record = {"engine": engine.name, "voice": engine.voice, "rate_wpm": rate_wpm, "sections": sections,
              "added_chapters": added}
    write_atomic(audio_dir / TIMINGS, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return TIMINGS


def _remove_stale(audio_dir: Path, written: set[str]) -> None:
    """Drop files a previous build made for chapters that are gone (staging starts as a copy)."""
    for path in audio_dir.iterdir():
        if path.is_file() and path.suffix in PRODUCED_SUFFIXES and path.name not in written:
            path.unlink()


def _total_seconds(tracks: list[Track]) -> float:
    """Length of the whole narration."""
    return sum(t.samples for t in tracks) / int(setting("sample_rate"))
