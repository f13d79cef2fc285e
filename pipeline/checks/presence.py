"""Is a section in a built file? Its heading is there and enough of its words appear, in order."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..config import setting

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """Lower-case words of a text, with typographic quotes, dashes and ligatures made plain, and
    numbers as their digits (a narration says a phone number digit by digit: "5 5 5, 0 1 0 0")."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("‘", "'").replace("—", " ").replace("–", " ")
    return [part for word in WORD.findall(text) for part in (list(word) if word.isdigit() else [word])]


def in_order_ratio(expected: str | tuple[str, ...] | list[str], found: str) -> float:
    """Share of the expected words that appear in the found text in the same order.

    `expected` may be several passages (a section's running text, then each note and picture
    description): each is matched in order on its own, wherever in the found text it stands.
    """
    passages = [expected] if isinstance(expected, str) else list(expected)
    return words_in_order([words(passage) for passage in passages], words(found))


def words_in_order(wanted: list[list[str]], have: list[str]) -> float:
    """Share of the wanted words (each passage matched on its own) found in `have` in the same order."""
    total = sum(len(w) for w in wanted)
    if not total:
        return 1.0
    matched = 0
    for want in wanted:
        if want:
            matcher = SequenceMatcher(None, want, have, autojunk=False)
            matched += sum(block.size for block in matcher.get_matching_blocks())
    return matched / total


@dataclass(frozen=True)
class Presence:
    """The verdict for one section in one format, with the reason a person can act on."""

    present: bool
    detail: str


def judge(title: str, expected: str | tuple[str, ...], heading_found: bool, found_text: str) -> Presence:
    """Present when the heading was found and at least `presence_ratio` of the words are in order."""
    ratio = in_order_ratio(expected, found_text)
    threshold = float(setting("presence_ratio"))
    if not heading_found:
        return Presence(False, f"heading '{title}' not found")
    if ratio < threshold:
        return Presence(False, f"only {ratio:.0%} of the words in order (need {threshold:.0%})")
    return Presence(True, f"{ratio:.0%} of words")
