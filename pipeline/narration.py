"""The spoken script of a section: what a blind listener hears, made from the model, not raw Markdown."""

from __future__ import annotations

import re

from .model import Utterance
from .reading import Piece

HEADING_PAUSE_MS = 900
SENTENCE_PAUSE_MS = 250
PARAGRAPH_PAUSE_MS = 700
ITEM_PAUSE_MS = 450
BREATH_PAUSE_MS = 350  # between the pieces of a long sentence: long enough for the check to cut there
LISTED = ("item", "row", "line")
CLAUSE_MARKS = (";:—–", ",")

SPOKEN_FORMS: list[tuple[re.Pattern[str], str]] = [
    # a phone number is said digit by digit, its groups apart: "5 5 5, 0 1 0 0"
    (re.compile(r"(?<![\w-])(?:\(?(\d{3})\)?[-. ])?(\d{3})[-. ](\d{4})(?![\w-])"),
     lambda m: ", ".join(" ".join(group) for group in m.groups() if group)),
    (re.compile(r"(\d+)\s*%\s*(?:to|-|–)\s*(\d+)\s*%"), r"\1 to \2 percent"),
    (re.compile(r"(\d+)\s*(?:-|–)\s*(\d+)\s*%"), r"\1 to \2 percent"),
    (re.compile(r"(\d+)\s*%"), r"\1 percent"),
    (re.compile(r"(\d+)\s*–\s*(\d+)"), r"\1 to \2"),
    (re.compile(r"\band/or\b"), "and or"),
    (re.compile(r"\be\.g\.", re.I), "for example"),
    (re.compile(r"\bi\.e\.", re.I), "that is"),
    (re.compile(r"\bvs\.", re.I), "versus"),
    (re.compile(r"\bDr\.(?=\s|\u00a0)"), "Doctor"),
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"(?<=\w)/(?=\w)"), " or "),
    (re.compile(r"\s*[—―]\s*"), ", "),
    (re.compile(r"\s+–\s+"), ", "),
    (re.compile(r"[“”\"‘]|(?<!\w)’|’(?!\w)"), ""),
    (re.compile(r"\b([A-Z]{2,})\b"), lambda m: m.group(1).capitalize() if len(m.group(1)) > 3 else m.group(1)),
    (re.compile(r"[\u00a0\s]+"), " "),
]


def spoken(text: str) -> str:
    """Text rewritten for the ear: numbers, symbols and dashes said as words, quotes dropped."""
    for pattern, replacement in SPOKEN_FORMS:
        text = pattern.sub(replacement, text)
    text = text.strip().rstrip(",;:")
    if text and text[-1] not in ".?!":
        text += "."
    return text


def heading(title: str, number: int, total: int) -> str:
    """The spoken heading that tells a listener where they are."""
    return spoken(f"Section {number} of {total}. {title}")


def script(heading_id: str, title: str, number: int, total: int, pieces: tuple[Piece, ...]) -> tuple[Utterance, ...]:
    """Utterances of a section in reading order, opening with where the listener is; each targets
    the element that shows its words (the heading `heading_id`, a sentence, a table row, a
    picture, a note), so read-aloud can highlight it."""
    lines = [Utterance(heading_id, heading(title, number, total), HEADING_PAUSE_MS)]
    for index, piece in enumerate(pieces):
        following = pieces[index + 1] if index + 1 < len(pieces) else None
        if following and following.group == piece.group:
            pause = SENTENCE_PAUSE_MS
        elif following and piece.kind in LISTED and following.kind in LISTED:
            pause = ITEM_PAUSE_MS
        else:
            pause = PARAGRAPH_PAUSE_MS
        lines.append(Utterance(piece.target, spoken(piece.text), pause))
    return tuple(lines)


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
