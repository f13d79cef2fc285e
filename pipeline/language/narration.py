"""The spoken script of a section: what a blind listener hears, made from the model, not raw Markdown."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from ..model import Utterance
from ..source.reading import Piece
from .words import N_, NP_, Words, words_for

HEADING_PAUSE_MS = 900
SENTENCE_PAUSE_MS = 250
PARAGRAPH_PAUSE_MS = 700
ITEM_PAUSE_MS = 450
BREATH_PAUSE_MS = 350  # between the pieces of a long sentence: long enough for the check to cut there
LISTED = ("item", "row", "line")
CLAUSE_MARKS = (";:—–", ",")

# Units after a number, as a nurse says them ("10 mL": "10 milliliters"); a second unit after "/"
# is said "per ..." ("60 mg/m²": "60 milligrams per square meter").
UNITS = {
    "mcg": NP_("{number} microgram", "{number} micrograms"), "µg": NP_("{number} microgram", "{number} micrograms"),
    "mg": NP_("{number} milligram", "{number} milligrams"), "g": NP_("{number} gram", "{number} grams"),
    "kg": NP_("{number} kilogram", "{number} kilograms"), "mL": NP_("{number} milliliter", "{number} milliliters"),
    "ml": NP_("{number} milliliter", "{number} milliliters"), "L": NP_("{number} liter", "{number} liters"),
    "lb": NP_("{number} pound", "{number} pounds"), "lbs": NP_("{number} pound", "{number} pounds"),
    "cm": NP_("{number} centimeter", "{number} centimeters"), "mm": NP_("{number} millimeter", "{number} millimeters"),
    "°F": NP_("{number} degree Fahrenheit", "{number} degrees Fahrenheit"),
    "°C": NP_("{number} degree Celsius", "{number} degrees Celsius"),
}
PER = {"m²": N_("per square meter"), "m2": N_("per square meter"), "kg": N_("per kilogram"), "day": N_("per day"),
       "d": N_("per day"), "h": N_("per hour"), "hr": N_("per hour"), "hour": N_("per hour"), "dose": N_("per dose")}
FRACTIONS = {"1/2": N_("one half"), "1/3": N_("one third"), "1/4": N_("one quarter"), "3/4": N_("three quarters"),
             "2/3": N_("two thirds")}
# Abbreviations a voice would misread ("IV" as "four", "PICC" as "P I C C"): said as letters or as said.
SAID_AS = {"IV": "I V", "CT": "C T", "MRI": "M R I", "ICU": "I C U", "ER": "E R", "PICC": "pick", "PET": "pet",
           "BSA": "B S A", "EKG": "E K G", "ECG": "E C G", "CBC": "C B C"}
EMERGENCY_NUMBERS = ("911", "988", "999", "112")
NUMBER = r"(\d+(?:[.,]\d+)?)"


@functools.cache
def spoken_forms(say: Words) -> list[tuple[re.Pattern[str], Any]]:
    """How symbols and abbreviations are said in the narration's language (its words from the catalog)."""
    to, percent, conjunction, alternative = say("to"), say("percent"), say("and"), say("or")
    units = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
    pers = "|".join(re.escape(p) for p in sorted(PER, key=len, reverse=True))
    return [
        # a phone number is said digit by digit, its groups apart: "5 5 5, 0 1 0 0"
        (re.compile(r"(?<![\w-])(?:\(?(\d{3})\)?[-. ])?(\d{3})[-. ](\d{4})(?![\w-])"),
         lambda m: ", ".join(" ".join(group) for group in m.groups() if group)),
        # an emergency number digit by digit: "9 1 1", never "nine hundred eleven"
        (re.compile(r"(?<![\w.,-])(" + "|".join(EMERGENCY_NUMBERS) + r")(?![\w-]|[.,]\d)"), lambda m: " ".join(m.group(1))),
        # a time: "8:00 a.m." as "8 a m", "2:30 p.m." as "2 30 p m" (Spanish: "2 y 30 de la tarde")
        (re.compile(r"\b(\d{1,2}):(\d{2})\s*([ap])\.?\s?m\b\.?", re.I), lambda m: _time(m, say)),
        # a range of a unit: "20-30 mg" as "20 to 30 milligrams"
        (re.compile(NUMBER + r"\s*[-–]\s*" + NUMBER + r"\s*(" + units + r")(?:/(" + pers + r"))?(?![\w²])"),
         lambda m: f"{m.group(1)} {to} " + _amount(m.group(2), m.group(3), m.group(4), say)),
        (re.compile(NUMBER + r"\s*(" + units + r")(?:/(" + pers + r"))?(?![\w²])"),
         lambda m: _amount(m.group(1), m.group(2), m.group(3), say)),
        # how often: "q8h" as "every 8 hours", "x2" as "2 times", "PRN" as "as needed"
        (re.compile(r"\bq(\d+)h\b"), lambda m: say.plural("every hour", "every {count} hours", int(m.group(1)))),
        (re.compile(r"(?<![\w])[x×](\d+)\b"), lambda m: say.plural("once", "{count} times", int(m.group(1)))),
        (re.compile(r"\bPRN\b"), say("as needed")),
        (re.compile(r"(?<![\d/])(" + "|".join(re.escape(f) for f in FRACTIONS) + r")(?![\d/])"),
         lambda m: say(FRACTIONS[m.group(1)])),
        (re.compile(r"\b(" + "|".join(SAID_AS) + r")\b"), lambda m: SAID_AS[m.group(1)]),
        (re.compile(r"(\d+)\s*%\s*(?:to|a|-|–)\s*(\d+)\s*%"), rf"\1 {to} \2 {percent}"),
        (re.compile(r"(\d+)\s*(?:-|–)\s*(\d+)\s*%"), rf"\1 {to} \2 {percent}"),
        (re.compile(r"(\d+)\s*%"), rf"\1 {percent}"),
        (re.compile(r"(\d+)\s*–\s*(\d+)"), rf"\1 {to} \2"),
        (re.compile(r"(?<![\w-])(\d+)-(\d+)(?=\s+[^\W\d_])"), rf"\1 {to} \2"),  # "3-5 minutes"
        (re.compile(r"\band/or\b"), f"{conjunction} {alternative}"),
        (re.compile(r"\be\.g\.", re.I), say("for example")),
        (re.compile(r"\bi\.e\.", re.I), say("that is")),
        (re.compile(r"\bvs\.", re.I), say("versus")),
        (re.compile(r"\bDr\.(?=\s|\u00a0)"), say("Doctor")),
        (re.compile(r"\s*&\s*"), f" {conjunction} "),
        (re.compile(r"(?<=\w)/(?=\w)"), f" {alternative} "),
        (re.compile(r"\s*[—―]\s*"), ", "),
        (re.compile(r"\s+–\s+"), ", "),
        (re.compile(r"[“”\"‘«»]|(?<!\w)’|’(?!\w)"), ""),
        (re.compile(r"\b([A-Z]{2,})\b"), lambda m: m.group(1).capitalize() if len(m.group(1)) > 3 else m.group(1)),
        (re.compile(r"[\u00a0\s]+"), " "),
    ]


def _amount(number: str, unit: str, per: str | None, say: Words) -> str:
    """A number and its unit as said: "60 milligrams per square meter"."""
    singular, plural = UNITS[unit]
    said = say.plural(singular, plural, 1 if number == "1" else 2, number=number)
    return f"{said} {say(PER[per])}" if per else said


def _time(match: re.Match[str], say: Words) -> str:
    """A clock time as said: "8 a m", "2 30 p m"."""
    hour, minutes, half = match.group(1), match.group(2), match.group(3).lower()
    time = hour if minutes == "00" else say("{hour} {minutes}", hour=hour, minutes=minutes)
    return say("{time} a m", time=time) if half == "a" else say("{time} p m", time=time)


def spoken(text: str, say: Words | None = None) -> str:
    """Text rewritten for the ear: numbers, symbols and dashes said as words, quotes dropped, an
    emoji named (in English; a handout in another language leaves it unsaid, rather than say an
    English name inside it). Words in another script stay as written: the narrator gives them to a
    voice that reads that script."""
    say = say or words_for("en")
    text = "".join(_heard(char, say) for char in text)
    for pattern, replacement in spoken_forms(say):
        text = pattern.sub(replacement, text)
    text = text.strip().rstrip(",;:")
    if text and text[-1] not in ".?!":
        text += "."
    return text


def _heard(char: str, say: Words) -> str:
    """One character as the narration says it: an emoji by its name or not at all, a joiner or
    variation selector not at all, anything else as it is."""
    point = ord(char)
    if 0xFE00 <= point <= 0xFE0F or point in (0x200C, 0x200D):
        return ""
    if unicodedata.category(char) == "So" and (point >= 0x1F000 or 0x2600 <= point <= 0x27BF):
        named = unicodedata.name(char, "").lower()
        return f" ({named}) " if named and say.language == "en" and not say.fallback else " "
    return char


def heading(title: str, number: int, total: int, say: Words | None = None) -> str:
    """The spoken heading that tells a listener where they are."""
    say = say or words_for("en")
    return spoken(say("Section {number} of {total}.", number=number, total=total) + f" {title}", say)


def script(heading_id: str, title: str, number: int, total: int, pieces: tuple[Piece, ...],
           say: Words | None = None) -> tuple[Utterance, ...]:
    """Utterances of a section in reading order, opening with where the listener is; each targets
    the element that shows its words (the heading `heading_id`, a sentence, a table row, a
    picture, a note), so read-aloud can highlight it."""
    lines = [Utterance(heading_id, heading(title, number, total, say), HEADING_PAUSE_MS)]
    for index, piece in enumerate(pieces):
        following = pieces[index + 1] if index + 1 < len(pieces) else None
        if following and following.group == piece.group:
            pause = SENTENCE_PAUSE_MS
        elif following and piece.kind in LISTED and following.kind in LISTED:
            pause = ITEM_PAUSE_MS
        else:
            pause = PARAGRAPH_PAUSE_MS
        lines.append(Utterance(piece.target, _labelled(piece, say) + spoken(piece.text, say), pause))
    return tuple(lines)


def _labelled(piece: Piece, say: Words | None) -> str:
    """What is said before a list item's first words: "Step 2. " for a step, "b. " for a sub-step."""
    if not piece.marker:
        return ""
    if piece.step:
        say = say or words_for("en")
        return say("Step {number}.", number=piece.marker.rstrip(".")) + " "
    return piece.marker + " "


def breath_groups(text: str, most: int) -> list[str]:
    """An utterance as a voice is given it. Up to `most` words it is one piece, as written; a longer
    one (a 2,000-word sentence took Piper 19.6 GB at once) is cut into breath groups of at most half
    that, at semicolons, colons and dashes first, then commas, then evenly by length, and
    neighbouring clauses joined while they fit. Short groups keep the voice's memory flat: a
    2,000-word sentence needs no more than the longest whole sentence of an ordinary handout."""
    if len(text.split()) <= most:
        return [text]
    return _breaths(text, max(most // 2, 1))


def _breaths(text: str, most: int) -> list[str]:
    """Cut text into pieces of at most `most` words, at the strongest punctuation there is."""
    words = text.split()
    if len(words) <= most:
        return [text]
    for marks in CLAUSE_MARKS:
        clauses = _clauses(words, marks)
        if len(clauses) > 1:
            return [piece for clause in _merged(clauses, most) for piece in _breaths(clause, most)]
    count = -(-len(words) // most)
    size = -(-len(words) // count)
    return [" ".join(words[i:i + size]) for i in range(0, len(words), size)]


def _clauses(words: list[str], marks: str) -> list[str]:
    """The words cut after every word ending in one of the marks."""
    clauses, current = [], []
    for word in words:
        current.append(word)
        if word[-1] in marks or word in ("—", "–"):
            clauses.append(" ".join(current))
            current = []
    if current:
        clauses.append(" ".join(current))
    return clauses


def _merged(clauses: list[str], most: int) -> list[str]:
    """Neighbouring clauses joined while they fit in `most` words, so pieces are not needlessly short."""
    merged: list[str] = []
    for clause in clauses:
        if merged and len(merged[-1].split()) + len(clause.split()) <= most:
            merged[-1] += " " + clause
        else:
            merged.append(clause)
    return merged


# What a narration says around the sections, so a listener knows what is playing and where to turn.
FULL_VERSION = N_("This is the full version.")
PLAIN_VERSION = N_("This is the version in plain words.")
QUESTIONS = NP_("This guide answers {count} question.", "This guide answers {count} questions.")
CALL = N_("Call {contact}.")
ASK = N_("Ask your care team.")


def version_line(plain: bool, say: Words) -> str:
    """The sentence that tells a listener which narration is playing (the plain one's first words)."""
    return spoken(say(PLAIN_VERSION if plain else FULL_VERSION), say)


def opening(title: str, publisher: str, questions: int, plain: bool, say: Words) -> tuple[Utterance, ...]:
    """The narration's first chapter: which version this is, the title, who publishes it and how
    many questions it answers, each a short sentence of its own."""
    lines = [version_line(plain, say), spoken(title, say)]
    if publisher:
        lines.append(spoken(say("From {publisher}", publisher=publisher), say))
    singular, many = QUESTIONS
    lines.append(spoken(say.plural(singular, many, questions), say))
    return tuple(Utterance(f"opening-{n + 1}", line, HEADING_PAUSE_MS if n == 1 else PARAGRAPH_PAUSE_MS)
                 for n, line in enumerate(lines))


def glossary(title: str, terms: dict[str, str], say: Words) -> tuple[Utterance, ...]:
    """The glossary as a chapter: its heading, then each term and its meaning, a pause between terms."""
    lines = [Utterance("glossary", spoken(title, say), HEADING_PAUSE_MS)]
    for n, (term, meaning) in enumerate(terms.items(), 1):
        lines += [Utterance(f"glossary-{n}", spoken(term, say), SENTENCE_PAUSE_MS),
                  Utterance(f"glossary-{n}-meaning", spoken(meaning, say), ITEM_PAUSE_MS)]
    return tuple(lines)


def closing(care_team: str, contact: str, say: Words) -> tuple[Utterance, ...]:
    """The narration's last chapter: the care-team sentence, and where to call (or whom to ask)."""
    where = say(CALL, contact=contact) if contact else say(ASK)
    return (Utterance("closing-1", spoken(care_team, say), PARAGRAPH_PAUSE_MS),
            Utterance("closing-2", spoken(where, say), PARAGRAPH_PAUSE_MS))
