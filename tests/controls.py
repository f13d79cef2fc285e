"""Negative controls: copies of a built handout with one kind of damage done to every section, so a
test can show the check fails each one in the rule that should catch it.

Audio controls replace every section file of both narrations at once (each file is still judged on
its own): with another section's recording, its own first half, silence, the placeholder a voice
says for words it cannot read, or another handout's recording. Text controls remove one paragraph
or one table row from a PDF, page, EPUB or BRF.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from mutagen.mp3 import MP3

from pipeline.audio import ffmpeg as audio_ffmpeg
from pipeline.formats.audio import RENDITIONS, section_file
from pipeline.model import Document

AUDIO_CONTROLS = ("another section", "first half", "silence", "placeholder", "another handout")
PLACEHOLDER = "words in another script"


def audio_control(kind: str, doc: Document, built: Path, target: Path, other: tuple[Document, Path] | None = None) -> Path:
    """A copy of the built folder `built` at `target` with every section file of both narrations
    replaced as `kind` says (its transcripts, tags and timings left as they were)."""
    shutil.copytree(built, target)
    for rendition in RENDITIONS:
        folder = rendition.directory(target)
        files = [folder / section_file(s, ".mp3", len(doc.sections)) for s in doc.sections]
        originals = [rendition.directory(built) / section_file(s, ".mp3", len(doc.sections)) for s in doc.sections]
        for index, (path, original) in enumerate(zip(files, originals)):
            replace = _REPLACERS[kind]
            if kind == "another section":
                replace(originals[(index + 1) % len(originals)], path)
            elif kind == "another handout":
                assert other is not None, "another handout's build is needed"
                theirs = [rendition.directory(other[1]) / section_file(s, ".mp3", len(other[0].sections)) for s in other[0].sections]
                replace(theirs[index % len(theirs)], path)
            else:
                replace(original, path)
    return target


def _copy(source: Path, path: Path) -> None:
    """Another recording in this file's place."""
    shutil.copyfile(source, path)


def _first_half(original: Path, path: Path) -> None:
    """The file's own first half only."""
    half = MP3(original).info.length / 2
    _encode(["-i", str(original), "-t", f"{half:.3f}"], path)


def _silence(original: Path, path: Path) -> None:
    """Silence as long as the file."""
    length = MP3(original).info.length
    _encode(["-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", f"{length:.3f}"], path)


def _placeholder(original: Path, path: Path) -> None:
    """A voice saying "words in another script" over and over, as long as the file or 15 s."""
    length = min(MP3(original).info.length, 15.0)
    times = max(1, round(length / 1.6))
    with tempfile.TemporaryDirectory() as scratch:
        wav = Path(scratch) / "said.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), ". ".join([PLACEHOLDER] * times)],
                       check=True, capture_output=True)
        _encode(["-i", str(wav)], path)


def _encode(inputs: list[str], path: Path) -> None:
    """Encode as the narration's files are: MP3, mono, 44.1 kHz, 64 kbps CBR."""
    audio_ffmpeg.run("-y", *inputs, "-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "64k", str(path))


_REPLACERS: dict[str, Callable[[Path, Path], None]] = {
    "another section": _copy, "first half": _first_half, "silence": _silence, "placeholder": _placeholder,
    "another handout": _copy,
}
