"""Writing systems: the script a word is written in, which scripts set no spaces between words, and
what a language's text is counted in.

Chinese, Japanese, Korean and Vietnamese are written a syllable at a time (a character, a Hangul
block, or a word-piece between spaces), so counting what stands between spaces or each character
counts syllables, not words (Korean's spaces fall between phrases of several syllables, and where a
PDF or a reader breaks them differs, so its blocks are counted and compared one by one). Rather than guess their words, their sentence length and speaking rate are counted in
syllables and held to limits in syllables (`sentence_syllables_max`, `syllables_per_minute`), and
every report names the unit.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Scripts written without spaces between words: each character is counted on its own.
UNSPACED = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR")
# Languages whose written units are syllables (BCP 47 primary subtags).
SYLLABIC = frozenset({"zh", "yue", "ja", "ko", "vi"})
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


# ISO 15924 script codes (as Babel's likely subtags give them) → the first word of Unicode's letter names.
SCRIPT_NAMES = {"Latn": ("LATIN",), "Cyrl": ("CYRILLIC",), "Arab": ("ARABIC",), "Hebr": ("HEBREW",),
                "Grek": ("GREEK",), "Hans": ("CJK",), "Hant": ("CJK",), "Jpan": ("CJK", "HIRAGANA", "KATAKANA"),
                "Kore": ("HANGUL", "CJK"), "Deva": ("DEVANAGARI",), "Thai": ("THAI",), "Ethi": ("ETHIOPIC",),
                "Armn": ("ARMENIAN",), "Geor": ("GEORGIAN",), "Beng": ("BENGALI",), "Khmr": ("KHMER",)}
# The language a word in another script is most likely in, when the source does not say
# (`[كلمة]{lang=fa}` does): what the page marks it as, and which voice says it.
SCRIPT_LANGUAGES = {"ARABIC": "ar", "HEBREW": "he", "CYRILLIC": "ru", "GREEK": "el", "CJK": "zh", "HIRAGANA": "ja",
                    "KATAKANA": "ja", "HANGUL": "ko", "DEVANAGARI": "hi", "THAI": "th", "ARMENIAN": "hy",
                    "GEORGIAN": "ka", "BENGALI": "bn", "ETHIOPIC": "am", "TAMIL": "ta", "GUJARATI": "gu",
                    "GURMUKHI": "pa", "KHMER": "km", "SINHALA": "si", "MYANMAR": "my", "TELUGU": "te", "KANNADA": "kn",
                    "MALAYALAM": "ml", "LAO": "lo"}
RIGHT_TO_LEFT_SCRIPTS = frozenset({"ARABIC", "HEBREW", "SYRIAC", "THAANA", "NKO"})
# Languages written right to left (BCP 47 primary subtags): their pages, books and PDFs run right to left.
RIGHT_TO_LEFT_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb", "syr"})


def direction(lang: str) -> str:
    """"rtl" for a language written right to left (Arabic, Farsi, Urdu, Hebrew), else "ltr"."""
    return "rtl" if lang.split("-")[0].lower() in RIGHT_TO_LEFT_LANGUAGES else "ltr"


@functools.cache
def native_scripts(lang: str) -> frozenset[str]:
    """The scripts a language is written in (Latin always counts: names, units, brands), by its likely script."""
    from babel.core import get_global

    likely = get_global("likely_subtags").get(lang.replace("-", "_").split("_")[0].lower(), "")
    parts = likely.split("_")
    return frozenset({"LATIN", *(SCRIPT_NAMES.get(parts[1], ()) if len(parts) > 1 else ())})


def foreign_script(char: str, lang: str = "en") -> str:
    """The script of a letter written in a script the handout's language is not written in (ARABIC
    in an English handout; Cyrillic is a Russian handout's own), else ""."""
    if not unicodedata.category(char).startswith("L"):
        return ""
    script = unicodedata.name(char, "LATIN").split()[0]
    return "" if script in native_scripts(lang) else script


def other_script_runs(text: str, lang: str) -> list[tuple[str, str]]:
    """The text cut into runs: (script, words) for words in another script (spaces and marks between
    them kept in the run), ("", words) for the handout's own."""
    runs: list[tuple[str, str]] = []
    for char in text:
        script = foreign_script(char, lang)
        if not script and runs and runs[-1][0] and (char.isspace() or unicodedata.category(char).startswith("M")):
            script = runs[-1][0]  # a space or mark inside a run of another script belongs to it
        if runs and runs[-1][0] == script:
            runs[-1] = (script, runs[-1][1] + char)
        else:
            runs.append((script, char))
    return [(script, words) for script, words in _trailing_spaces_out(runs)]


def _trailing_spaces_out(runs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Runs of another script without the spaces they swallowed at their end (those belong between)."""
    out: list[tuple[str, str]] = []
    for script, words in runs:
        tail = words[len(words.rstrip()):] if script else ""
        for piece in ((script, words[: len(words) - len(tail)]), ("", tail)):
            if not piece[1]:
                continue
            if out and out[-1][0] == piece[0]:
                out[-1] = (piece[0], out[-1][1] + piece[1])
            else:
                out.append(piece)
    return out
