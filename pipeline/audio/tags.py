"""Tags and chapters a listener's player shows: ID3 on the section MP3s, and ffmetadata from which
ffmpeg writes the whole narration's tags and chapters (ID3 CHAP/CTOC in the MP3, chapters in the M4B).

Only what the source says goes in (title, publisher, date, language), never a build time, so
tags stay byte-identical from build to build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mutagen
from mutagen.id3 import COMM, ID3, TALB, TCON, TDRC, TIT2, TLAN, TPE1, TRCK, USLT

from ..model import Document, Utterance
from ..language.words import words_for

# ID3 TLAN wants ISO 639-2; a source gives BCP 47. The languages a clinic is likely to publish in.
ISO_639_2 = {
    "en": "eng", "es": "spa", "fr": "fra", "de": "deu", "it": "ita", "pt": "por", "nl": "nld",
    "pl": "pol", "ru": "rus", "uk": "ukr", "ar": "ara", "zh": "zho", "ja": "jpn", "ko": "kor",
    "vi": "vie", "tl": "tgl", "hi": "hin", "bn": "ben", "ur": "urd", "fa": "fas", "tr": "tur",
    "el": "ell", "he": "heb", "so": "som", "sw": "swa", "ht": "hat",
}


@dataclass(frozen=True)
class Chapter:
    """Where one chapter (a section, or the opening, glossary or closing) lies in the whole narration, in milliseconds."""

    title: str
    start_ms: int
    end_ms: int


def language(lang: str) -> str:
    """The ISO 639-2 code of a BCP 47 tag ("en-US" -> "eng"), "und" when unknown."""
    return ISO_639_2.get(lang.split("-")[0].lower(), "und")


def artist(doc: Document) -> str:
    """Who a player names as the artist: the publisher, or the document when there is none."""
    return doc.meta.publisher or doc.meta.title


def album_title(doc: Document, album: str = "") -> str:
    """How players name a whole narration: the title, and after it `album` (" (in plain words)")."""
    return doc.meta.title + words_for(doc.meta.lang)(album) if album else doc.meta.title


def _common(doc: Document, voice: str, album: str) -> ID3:
    """The tags every file of the narration shares (`album` follows the title: " (in plain words)")."""
    tags = ID3()
    say = words_for(doc.meta.lang)
    tags.add(TALB(encoding=3, text=album_title(doc, album)))
    tags.add(TPE1(encoding=3, text=artist(doc)))
    tags.add(TCON(encoding=3, text="Speech"))
    tags.add(TLAN(encoding=3, text=language(doc.meta.lang)))
    if doc.meta.date:
        tags.add(TDRC(encoding=3, text=doc.meta.date))
    read_by = say("Read by a synthetic voice ({voice}).", voice=voice)
    tags.add(COMM(encoding=3, lang=language(doc.meta.lang), desc="", text=read_by))
    return tags


def tag_section(path: Path, doc: Document, title: str, track: str, voice: str, said: tuple[Utterance, ...],
                album: str = "") -> None:
    """Title, track n/N, album, artist, language, and the words it says as lyrics (for players that show them)."""
    tags = _common(doc, voice, album)
    tags.add(TIT2(encoding=3, text=title))
    tags.add(TRCK(encoding=3, text=track))
    tags.add(USLT(encoding=3, lang=language(doc.meta.lang), desc="", text="\n".join(u.text for u in said)))
    tags.save(path, v2_version=3, v1=0)


def _escape(value: str) -> str:
    """ffmetadata escaping: '=', ';', '#', backslash and newline are special."""
    for char in "\\=;#\n":
        value = value.replace(char, "\\" + char)
    return value


def ffmetadata(doc: Document, chapters: list[Chapter], voice: str, album: str = "") -> str:
    """Tags and chapters of the whole narration (MP3 and M4B) in ffmpeg's metadata format."""
    say = words_for(doc.meta.lang)
    whole = album_title(doc, album)
    lines = [
        ";FFMETADATA1",
        f"title={_escape(whole)}",
        f"album={_escape(whole)}",
        f"artist={_escape(artist(doc))}",
        "genre=Speech",
        f"language={language(doc.meta.lang)}",
        f"comment={_escape(say('Read by a synthetic voice ({voice}).', voice=voice))}",
    ]
    if doc.meta.date:
        lines.append(f"date={_escape(doc.meta.date)}")
    for chapter in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={chapter.start_ms}", f"END={chapter.end_ms}",
                  f"title={_escape(chapter.title)}"]
    return "\n".join(lines) + "\n"


def audio_seconds(path: Path) -> float | None:
    """A recording's length read from the file itself (None when mutagen cannot read it)."""
    try:
        audio = mutagen.File(path)
    except (mutagen.MutagenError, OSError):
        return None
    length = getattr(getattr(audio, "info", None), "length", None)
    return float(length) if length else None
