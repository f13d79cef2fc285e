"""The audio narration: one MP3 per section, the whole narration as MP3 and M4B with chapters,
a playlist, WebVTT transcripts and `timings.json` (the clip times EPUB Media Overlays read).

Each section is spoken utterance by utterance (heading, then sentence by sentence) with the
script's pauses between, so every utterance's begin and end in the final file is known exactly.
A section's raw speech is cached under the hash of its script, engine, voice and rate: a section
that did not change is never synthesised again. Sections are synthesised and encoded in parallel
up to `--jobs`. Every file is mastered to the loudness target with a delay-compensated limiter,
so timings survive mastering, and written bit-exact so builds are reproducible.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import tempfile
import time
import wave
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__, audio_ffmpeg, audio_tags, speech
from ..cache import Cache, fingerprint, write_atomic
from ..config import setting
from ..model import Document, Section
from ..speech import Engine

NAME = "audio"
NEEDS: tuple[str, ...] = ()
OPTIONS = ("engine", "rate_wpm")
KIND = "narration"
PRODUCED_SUFFIXES = (".mp3", ".m4b", ".m3u8", ".vtt", ".json")
TIMINGS = "timings.json"


@dataclass(frozen=True)
class Clip:
    """One utterance's place in its section's audio, in seconds."""

    target: str
    begin: float
    end: float
    text: str


@dataclass(frozen=True)
class Narration:
    """A section's raw speech (before mastering) with its utterance clips; what the cache keeps."""

    section: Section
    wav: Path
    clips: tuple[Clip, ...]
    seconds: float
    synthesised: bool


@dataclass(frozen=True)
class Track:
    """A finished section: its mastered WAV (for the whole narration) and its length in samples."""

    narration: Narration
    mastered: Path
    samples: int


def read_timings(audio_dir: Path) -> dict:
    """The built `timings.json` (every section's file, duration and clips), for the formats and checks that read it.

    Raises OSError or ValueError when it is missing or not JSON; each reader decides what that means.
    """
    return json.loads((audio_dir / TIMINGS).read_text(encoding="utf-8"))


def section_file(section: Section, suffix: str = ".mp3") -> str:
    """`NN-ID.mp3`: sorts in reading order and names the section."""
    return f"{section.number:02d}-{section.id}{suffix}"


def build(doc: Document, out_dir: Path, options) -> Path:
    """Synthesise (or reuse) every section, master and encode them, and write the narration's files."""
    engine = speech.get(options.engine, doc.meta.lang, options.rate_wpm, options.jobs)
    audio_dir = out_dir / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="narration-") as scratch:
        tracks = _in_parallel(doc, options.jobs, lambda s: _track(doc, s, engine, options, Path(scratch)))
        synthesised = [t for t in tracks if t.narration.synthesised]
        options.progress(doc.name, f"audio: {len(synthesised)} of {len(tracks)} sections synthesised "
                                   f"({engine.name}, {_total_seconds(tracks):.0f} s of speech, "
                                   f"{time.perf_counter() - started:.1f} s)")
        written = [section_file(t.narration.section) for t in tracks]
        written += _whole_narration(doc, tracks, engine, audio_dir, Path(scratch))
    written += _transcripts(tracks, audio_dir)
    written.append(_playlist(doc, tracks, audio_dir))
    written.append(_timings(engine, options.rate_wpm, tracks, audio_dir))
    _remove_stale(audio_dir, set(written))
    return audio_dir / f"{doc.name}.mp3"


def _in_parallel(doc: Document, jobs: int, work) -> list[Track]:
    """Run `work` on every section with up to `jobs` threads; the first failure stops the rest."""
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="narrate") as pool:
        futures: list[Future[Track]] = [pool.submit(work, section) for section in doc.sections]
        try:
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _track(doc: Document, section: Section, engine: Engine, options, scratch: Path) -> Track:
    """One section from script to tagged MP3 in the audio folder (via a fresh file and a rename)."""
    narration = _narration(doc, section, engine, options)
    drive = _mastering(narration.wav, options.cache)
    mastered = audio_ffmpeg.master(narration.wav, drive, scratch / f"{section.number:02d}.wav")
    mp3 = audio_ffmpeg.encode_mp3(mastered, scratch / section_file(section))
    audio_tags.tag_section(mp3, doc, section, engine.voice)
    with wave.open(str(mastered)) as sound:
        samples = sound.getnframes()
    return Track(narration, mastered, samples)


def narration_key(section: Section, engine: Engine, rate_wpm: int) -> str:
    """What decides a section's raw speech: its script, the engine, voice, rate and pipeline version."""
    script = [[u.target, u.text, u.pause_ms] for u in section.narration]
    return fingerprint(KIND, script, engine.name, engine.voice, engine.settings, rate_wpm, __version__)


def _narration(doc: Document, section: Section, engine: Engine, options) -> Narration:
    """The section's raw speech from the cache, or synthesised now and stored there."""
    cache: Cache = options.cache
    key = narration_key(section, engine, options.rate_wpm)
    wav, meta = cache.get(KIND, key, ".wav"), cache.get(KIND, key, ".json")
    if wav and meta:
        cache.log("reused", document=doc.name, section=section.id, engine=engine.name, key=key)
        return _from_cache(section, wav, json.loads(meta.read_text(encoding="utf-8")), synthesised=False)
    started = time.perf_counter()
    samples, rate, clips = _speak(section, engine)
    wav = cache.put(KIND, key, ".wav", _wav_bytes(samples, rate))
    record = {"sample_rate": rate, "samples": len(samples), "clips": [c.__dict__ for c in clips]}
    meta = cache.put(KIND, key, ".json", json.dumps(record, indent=1).encode("utf-8"))
    took = time.perf_counter() - started
    cache.log("synthesised", document=doc.name, section=section.id, engine=engine.name, key=key,
              seconds=round(took, 3), audio_seconds=round(len(samples) / rate, 3))
    return _from_cache(section, wav, record, synthesised=True)


def _from_cache(section: Section, wav: Path, record: dict, synthesised: bool) -> Narration:
    """A Narration from the cached WAV and its clip record."""
    clips = tuple(Clip(**c) for c in record["clips"])
    return Narration(section, wav, clips, record["samples"] / record["sample_rate"], synthesised)


def _speak(section: Section, engine: Engine) -> tuple[np.ndarray, int, list[Clip]]:
    """Speak the script utterance by utterance with its pauses; note where each utterance lies."""
    pieces: list[np.ndarray] = []
    clips: list[Clip] = []
    position, rate = 0, 0
    for utterance in section.narration:
        spoken = engine.synthesize(utterance.text)
        rate = rate or spoken.sample_rate
        begin, end = position, position + len(spoken.samples)
        clips.append(Clip(utterance.target, round(begin / rate, 3), round(end / rate, 3), utterance.text))
        pause = np.zeros(int(round(rate * utterance.pause_ms / 1000)), dtype=np.float32)
        pieces += [spoken.samples, pause]
        position = end + len(pause)
    return np.concatenate(pieces), rate, clips


def _wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """16-bit mono WAV of float samples."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        sound.writeframes(pcm)
    return buffer.getvalue()


def _mastering(wav: Path, cache: Cache) -> float:
    """The section's drive into the limiter (a few measuring passes), cached beside its speech."""
    method = hashlib.sha256(Path(audio_ffmpeg.__file__).read_bytes()).hexdigest()
    key = fingerprint("mastering", wav.name, setting("loudness_lufs"), setting("sample_rate"), method, __version__)
    found = cache.get("mastering", key, ".json")
    if found:
        return float(json.loads(found.read_text(encoding="utf-8"))["drive_db"])
    drive = audio_ffmpeg.mastering_gain(wav)
    cache.put("mastering", key, ".json", json.dumps({"drive_db": drive}).encode("utf-8"))
    return drive


def _chapters(tracks: list[Track]) -> list[audio_tags.Chapter]:
    """Each section's start and end in the whole narration, from exact sample counts."""
    rate = int(setting("sample_rate"))
    chapters, position = [], 0
    for track in tracks:
        start, position = position, position + track.samples
        chapters.append(audio_tags.Chapter(track.narration.section, round(start * 1000 / rate), round(position * 1000 / rate)))
    return chapters


def _whole_narration(doc: Document, tracks: list[Track], engine: Engine, audio_dir: Path, scratch: Path) -> list[str]:
    """NAME.mp3 (ID3 chapters) and NAME.m4b (MP4 chapters) from the mastered sections end to end."""
    book = scratch / "book.wav"
    _join_wavs([t.mastered for t in tracks], book)
    chapters = _chapters(tracks)
    metadata = scratch / "chapters.txt"
    metadata.write_text(audio_tags.ffmetadata(doc, chapters, engine.voice), encoding="utf-8")
    mp3, m4b = scratch / f"{doc.name}.mp3", scratch / f"{doc.name}.m4b"
    with ThreadPoolExecutor(max_workers=2) as pool:
        encoding = [pool.submit(audio_ffmpeg.encode_mp3, book, mp3, metadata),
                    pool.submit(audio_ffmpeg.encode_m4b, book, metadata, m4b, audio_tags.language(doc.meta.lang))]
        for future in encoding:
            future.result()
    names = [section_file(t.narration.section) for t in tracks] + [mp3.name, m4b.name]
    for name in names:
        write_atomic(audio_dir / name, (scratch / name).read_bytes())
    return [mp3.name, m4b.name]


def _join_wavs(parts: list[Path], out: Path) -> None:
    """Concatenate same-format WAVs (the mastered sections) into one."""
    with wave.open(str(out), "wb") as joined:
        for index, part in enumerate(parts):
            with wave.open(str(part)) as sound:
                if index == 0:
                    joined.setparams(sound.getparams())
                joined.writeframes(sound.readframes(sound.getnframes()))


def _timestamp(seconds: float) -> str:
    """WebVTT time: hh:mm:ss.ttt."""
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _transcripts(tracks: list[Track], audio_dir: Path) -> list[str]:
    """A WebVTT transcript per section: one cue per utterance, at its exact time in the MP3."""
    names = []
    for track in tracks:
        section = track.narration.section
        lines = [f"WEBVTT - {section.title}", ""]
        for clip in track.narration.clips:
            lines += [clip.target, f"{_timestamp(clip.begin)} --> {_timestamp(clip.end)}",
                      html.escape(clip.text, quote=False), ""]
        name = section_file(section, ".vtt")
        write_atomic(audio_dir / name, "\n".join(lines).encode("utf-8"))
        names.append(name)
    return names


def _playlist(doc: Document, tracks: list[Track], audio_dir: Path) -> str:
    """NAME.m3u8: the section files in order, with titles and lengths, for any MP3 player."""
    rate = int(setting("sample_rate"))
    lines = ["#EXTM3U", f"#PLAYLIST:{doc.meta.title}"]
    for track in tracks:
        section = track.narration.section
        lines += [f"#EXTINF:{round(track.samples / rate)},{section.title}", section_file(section)]
    name = f"{doc.name}.m3u8"
    write_atomic(audio_dir / name, ("\n".join(lines) + "\n").encode("utf-8"))
    return name


def _timings(engine: Engine, rate_wpm: int, tracks: list[Track], audio_dir: Path) -> str:
    """timings.json: per section its file, duration and utterance clips (read by EPUB Media Overlays)."""
    rate = int(setting("sample_rate"))
    sections = [
        {
            "id": t.narration.section.id,
            "title": t.narration.section.title,
            "file": section_file(t.narration.section),
            "duration": round(t.samples / rate, 3),
            "clips": [{"target": c.target, "begin": c.begin, "end": c.end} for c in t.narration.clips],
        }
        for t in tracks
    ]
    record = {"engine": engine.name, "voice": engine.voice, "rate_wpm": rate_wpm, "sections": sections}
    write_atomic(audio_dir / TIMINGS, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return TIMINGS


def _remove_stale(audio_dir: Path, written: set[str]) -> None:
    """Drop files a previous build made for sections that are gone (staging starts as a copy)."""
    for path in audio_dir.iterdir():
        if path.is_file() and path.suffix in PRODUCED_SUFFIXES and path.name not in written:
            path.unlink()


def _total_seconds(tracks: list[Track]) -> float:
    """Length of the whole narration."""
    return sum(t.samples for t in tracks) / int(setting("sample_rate"))
