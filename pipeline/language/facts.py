"""The facts a section states, so its plain rendition can be held to the same facts as its full text.

A plain rendition may drop detail, but it must never change a fact: "30% to 60%" must not become
"most", "every 3 months" not "every month", a phone number must not go missing and "tamoxifen" must
not become "letrozole". This module finds, in one text, the facts a reader acts on:

- percentages (`30%`, `30 to 60 percent`, `40 por ciento`),
- doses (`20 mg`, `2 tablets`),
- frequencies (`every 3 months`, `twice a day`, `daily`, `cada 3 meses`),
- durations (`5 years`, `6 to 8 weeks`),
- phone numbers (`1-800-227-2345`, `(555) 123-4567`, `1-800-4-CANCER`),
- medicines (generic names by their USAN/INN stems in `lexicon/drug-stems.tsv`, brands by ® or ™),
- other numbers written in digits (`1 in 8`, `2019`).

Each is normalised (`three months` and `3 months` are one fact, `every day` and `daily` too) so
two renditions can be compared as sets of facts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from .words import primary

LEXICON = Path(__file__).with_name("lexicon")

NUMBER_WORDS = {
    "en": {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
           "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
           "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
           "a": 1, "an": 1},
    "es": {"cero": 0, "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
           "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14,
           "quince": 15, "dieciséis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20,
           "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
           "noventa": 90, "cien": 100},
}
# Time units (singular forms, as the normalised value shows them) and how each language writes them.
TIME_UNITS = {
    "en": {"minute": "minutes?", "hour": "hours?", "day": "days?", "week": "weeks?", "month": "months?",
           "year": "years?"},
    "es": {"minute": "minutos?", "hour": "horas?", "day": "días?", "week": "semanas?", "month": "mes(?:es)?",
           "year": "años?"},
}
EVERY_UNIT = {  # daily, weekly ... as one per unit
    "en": {"daily": "day", "nightly": "day", "weekly": "week", "monthly": "month", "yearly": "year",
           "annually": "year", "hourly": "hour"},
    "es": {"diario": "day", "diaria": "day", "diariamente": "day", "semanal": "week", "semanalmente": "week",
           "mensual": "month", "mensualmente": "month", "anual": "year", "anualmente": "year"},
}
PERCENT = {"en": r"%|\s?per\s?cent\b", "es": r"%|\s?por\s?ciento\b"}
DOSE_UNITS = {
    "en": r"mg|mcg|µg|g|ml|mL|cc|IU|units?|tablets?|pills?|capsules?|drops?|puffs?|teaspoons?|tablespoons?|doses?",
    "es": r"mg|mcg|µg|g|ml|mL|cc|UI|unidades?|comprimidos?|pastillas?|cápsulas?|gotas?|inhalaciones?|cucharadas?|"
          r"cucharaditas?|dosis",
}
RANGE = {"en": r"to|or|and|-|–|—", "es": r"a|o|y|-|–|—"}
EVERY = {"en": r"every", "es": r"cada"}
OTHER = {"en": r"other", "es": r"otro|otra"}
TIMES = {"en": r"(?P<k>{num}|once|twice)\s+(?:times?\s+)?(?:a|an|per|each)\s+(?P<u2>{unit})",
         "es": r"(?P<k>{num})\s+(?:veces|vez)\s+(?:al|a la|por|cada)\s+(?P<u2>{unit})"}
PHONE = re.compile(r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])(?:\d{3}[\s.-]\d{4}|\d[\s.-]?[A-Z]{6})(?![\w-])"
                   r"|(?<![\w-])1-8\d\d-[0-9A-Z-]{7,12}(?![\w-])")
DIGITS = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.,])\d+(?:\.\d+)?(?![\w])")
BRAND = re.compile(r"\b([A-Z][A-Za-z-]{2,})\s?[®™]")
KEYPAD = {letter: str(digit) for digit, letters in
          {2: "ABC", 3: "DEF", 4: "GHI", 5: "JKL", 6: "MNO", 7: "PQRS", 8: "TUV", 9: "WXYZ"}.items() for letter in letters}
KINDS = ("percentage", "dose", "frequency", "duration", "phone", "medicine", "number")


@dataclass(frozen=True)
class Fact:
    """One fact as written (`text`, at `start` in the text searched) and as compared (`value`)."""

    kind: str
    value: str
    text: str
    start: int


def facts(text: str, lang: str = "en") -> list[Fact]:
    """Every fact a text states, in order; a span is one fact of the first kind that claims it."""
    language = primary(lang) if primary(lang) in NUMBER_WORDS else "en"
    found: list[Fact] = []
    taken: list[tuple[int, int]] = []

    def claim(kind: str, value: str, start: int, end: int) -> None:
        if any(start < stop and end > begin for begin, stop in taken):
            return
        found.append(Fact(kind, value, text[start:end], start))

    for match in PHONE.finditer(text):
        claim("phone", "".join(KEYPAD.get(c, c) for c in match.group() if c.isalnum()).removeprefix("1"),
              match.start(), match.end())
        taken.append(match.span())
    for match in _frequency(language).finditer(text):
        claim("frequency", _frequency_value(match, language), match.start(), match.end())
    taken.extend((f.start, f.start + len(f.text)) for f in found if f.kind == "frequency")
    for match in _quantity(language).finditer(text):
        kind, unit = _quantity_kind(match.group("unit"), language)
        for group in ("n", "m"):  # a range is two facts, each written as the whole range
            if match.group(group):
                value = _number(match.group(group), language)
                found.append(Fact(kind, f"{value:g}%" if unit == "%" else f"{value:g} {unit}", match.group(),
                                  match.start()))
    taken.extend((f.start, f.start + len(f.text)) for f in found if f.kind in ("percentage", "dose", "duration"))
    for match in re.finditer(r"[^\W\d_][\w-]*", text):
        if is_medicine(match.group()):
            claim("medicine", match.group().lower(), match.start(), match.end())
    for match in BRAND.finditer(text):
        claim("medicine", match.group(1).lower(), match.start(), match.end())
    taken.extend((f.start, f.start + len(f.text)) for f in found)
    for match in DIGITS.finditer(text):
        claim("number", f"{_number(match.group(), language):g}", match.start(), match.end())
    return sorted(found, key=lambda f: f.start)


def as_natural_frequency(value: str, theirs: set[tuple[str, str]]) -> bool:
    """Whether a percentage or a number is said the other way in the other rendition, as health
    writing advises ("30% of women" as "30 of 100 women", a natural frequency): a percentage P
    matches the number P beside a 100, the number P beside a 100 matches P%, and the 100 itself
    matches any percentage."""
    if value.endswith("%"):
        return ("number", value[:-1]) in theirs and ("number", "100") in theirs
    if value == "100":
        return any(kind == "percentage" for kind, _ in theirs)
    return ("percentage", f"{value}%") in theirs


def number_words(value: str, lang: str) -> set[str]:
    """How a language writes a number in words ("8" -> {"eight"}), to find a digit written as a word."""
    language = primary(lang) if primary(lang) in NUMBER_WORDS else "en"
    try:
        number = float(value)
    except ValueError:
        return set()
    return {word for word, n in NUMBER_WORDS[language].items() if n == number and " " not in word and len(word) > 2}


@functools.cache
def _number_pattern(language: str) -> str:
    """A number in digits or words ("3", "3.5", "1,000", "three", "twenty-five")."""
    words = sorted(NUMBER_WORDS[language], key=len, reverse=True)
    spelled = "|".join(re.escape(w) for w in words)
    return rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?|(?:{spelled})(?:-(?:{spelled}))?)"


def _number(written: str, language: str) -> float:
    """The value of a number in digits or words."""
    written = written.lower().replace(",", "")
    try:
        return float(written)
    except ValueError:
        return float(sum(NUMBER_WORDS[language].get(part, 0) for part in written.split("-")))


@functools.cache
def _time_unit(language: str) -> str:
    """Any time unit of a language, as one group-free pattern."""
    return "|".join(TIME_UNITS[language].values())


@functools.cache
def _frequency(language: str) -> re.Pattern[str]:
    """Every N units, N times a unit, once a unit, and daily/weekly words."""
    num, unit = _number_pattern(language), _time_unit(language)
    every = (rf"\b(?:{EVERY[language]})\s+(?:(?P<n>{num})\s+|(?P<other>{OTHER[language]})\s+)?(?P<u>{unit})\b")
    times = r"\b" + TIMES[language].format(num=num, unit=unit) + r"\b"
    single = r"\b(?P<w>" + "|".join(EVERY_UNIT[language]) + r")\b"
    return re.compile(f"{every}|{times}|{single}", re.I)


def _unit_name(written: str, language: str) -> str:
    """The singular English name of a written time unit ("months", "meses" -> "month")."""
    for name, pattern in TIME_UNITS[language].items():
        if re.fullmatch(pattern, written, re.I):
            return name
    return written.lower()


def _frequency_value(match: re.Match[str], language: str) -> str:
    """A frequency as "times per N unit": every 3 months -> "1 per 3 month", twice a day -> "2 per 1 day"."""
    if match.group("w"):
        return f"1 per 1 {EVERY_UNIT[language][match.group('w').lower()]}"
    if match.group("u"):
        every = 2 if match.group("other") else _number(match.group("n"), language) if match.group("n") else 1
        return f"1 per {every:g} {_unit_name(match.group('u'), language)}"
    times = {"once": 1, "twice": 2}.get(match.group("k").lower()) or _number(match.group("k"), language)
    return f"{times:g} per 1 {_unit_name(match.group('u2'), language)}"


@functools.cache
def _quantity(language: str) -> re.Pattern[str]:
    """A number (or a range of two) followed by a percent sign, a dose unit or a time unit."""
    num = _number_pattern(language)
    units = rf"{PERCENT[language]}|\s?(?:{DOSE_UNITS[language]})\b|\s(?:{_time_unit(language)})\b"
    return re.compile(rf"(?<![\w.])(?P<n>{num})(?:\s?(?:%|{PERCENT[language]}))?"
                      rf"(?:\s*(?:{RANGE[language]})\s*(?P<m>{num}))?(?P<unit>{units})", re.I)


def _quantity_kind(unit: str, language: str) -> tuple[str, str]:
    """(kind, normalised unit) of a quantity's unit."""
    unit = unit.strip()
    if re.fullmatch(PERCENT[language], unit, re.I) or re.fullmatch(PERCENT[language], " " + unit, re.I):
        return "percentage", "%"
    for name, pattern in TIME_UNITS[language].items():
        if re.fullmatch(pattern, unit, re.I):
            return "duration", name
    return "dose", unit.lower().rstrip("s") if len(unit) > 3 else unit.lower()


@functools.cache
def drug_stems() -> tuple[str, ...]:
    """The word endings of medicine names (`lexicon/drug-stems.tsv`), longest first."""
    stems = []
    for line in (LEXICON / "drug-stems.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            stems.append(line.split("\t")[0].strip().lower())
    return tuple(sorted(stems, key=len, reverse=True))


def is_medicine(word: str) -> bool:
    """Whether a word is a generic medicine name by its stem (7 letters or more)."""
    word = word.lower()
    return len(word) >= 7 and word.isalpha() and word.endswith(drug_stems())
