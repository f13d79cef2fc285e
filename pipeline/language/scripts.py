"""Writing systems: the script a word is written in, which scripts set no spaces between words, and
what a language's text is counted in.

Chinese, Japanese and Vietnamese are written a syllable at a time (a character, or a word-piece
between spaces), so counting what stands between spaces or each character counts syllables, not
words. Rather than guess their words, their sentence length and speaking rate are counted in
syllables and held to limits in syllables (`sentence_syllables_max`, `syllables_per_minute`), and
every report names the unit.
"""

from __future__ import annotations

import re
import unicodedata

# Scripts written without spaces between words: each character is counted on its own.
UNSPACED = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR")
# Languages whose written units are syllables (BCP 47 primary subtags).
SYLLABIC = frozenset({"zh", "yue", "ja", "vi"})
UNIT = re.compile(r"[^\W_]+(?:['’][^\W_]+)*(?:-[^\W_]+(?:['’][^\W_]+)*)*")


def script_of(word: str) -> str:
    """The script of a word's first letter, as Unicode names it (LATIN, CYRILLIC, ARABIC, CJK...)."""
    letter = next((c for c in word if c.isalpha()), "")
    return unicodedata.name(letter, "LATIN").split()[0] if letter else "LATIN"


def counting_unit(lang: str) -> str:
    """What a language's text is counted in: "syllable" where it is written a syllable at a time, else "word"."""
    return "syllable" if lang.split("-")[0].lower() in SYLLABIC else "word"


def units(text: str) -> list[str]:
    """A text's words in any script (hyphenated words and contractions once), each character of a
    script written without spaces on its own: counted, they are the text's words, or its syllables
    in a language `counting_unit` calls syllabic."""
    found: list[str] = []
    for match in UNIT.finditer(text):
        token = match.group(0)
        if script_of(token) in UNSPACED:
            found.extend(c for c in token if c.isalnum())
        else:
            found.append(token)
    return found
