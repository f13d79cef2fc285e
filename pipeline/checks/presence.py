"""Is a section in a built file? Its heading is there and enough of its words appear, in order."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..config import setting
from ..language.scripts import UNSPACED, script_of

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# Scripts written right to left: a run of words is compared by its letters, whatever order a reader gives them in,
# without the optional vowel signs (harakat, niqqud) a PDF may set apart.
RIGHT_TO_LEFT = ("ARABIC", "HEBREW", "SYRIAC", "THAANA", "NKO")
JOIN_RUNS = False
RTL_MARKS = re.compile("[\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")


def words(text: str, scripts: frozenset[str] | None = None, counted: bool = False) -> list[str]:
    """Lower-case words of a text in any script, with typographic quotes, dashes and ligatures made
    plain, numbers as their digits (a narration says a phone number digit by digit: "5 5 5, 0 1 0
    0"), and each character of a script written without spaces on its own. With `scripts`, only
    words in those scripts (and numbers) are kept: what a format can carry of a handout in another
    script (its braille table, its voice) is judged, the rest is not counted."""
    text = RTL_MARKS.sub("", unicodedata.normalize("NFKC", text).lower()).replace("\u200c", "")  # Persian's
    # zero-width non-joiner ("می‌کند") is part of its word, and a PDF's text leaves it out
    text = text.replace("’", "'").replace("‘", "'").replace("—", " ").replace("–", " ")
    found: list[str] = []
    run_end = -1  # where the last right-to-left word ended, while a run of them goes on
    for match in WORD.finditer(text):
        word = match.group(0)
        if word.isdigit():
            found.extend(str(unicodedata.digit(d)) for d in word)  # Arabic-Indic ٣٨ is 38
            run_end = -1
            continue
        script = script_of(word)
        if scripts is not None and script not in scripts:
            continue
        if script in RIGHT_TO_LEFT:
            # A run of right-to-left words is compared by its letters: a PDF gives them in drawn order,
            # a ligature's letters swapped ("إىل" for "إلى") and words split where a mark was drawn.
            if run_end >= 0 and not text[run_end:match.start()].strip() and not counted and JOIN_RUNS:
                found[-1] = "".join(sorted(found[-1] + word))
            else:
                found.append("".join(sorted(word)))
            run_end = match.end()
            continue
        run_end = -1
        found.extend(word if script in UNSPACED else [word])
    return found


def scripts_of(text: str) -> frozenset[str]:
    """The scripts a handout is written in: each script that holds at least a fifth of its letters
    (an English handout's few Arabic words are not its script; a Russian handout's Cyrillic is)."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha():
            script = unicodedata.name(char, "LATIN").split()[0]
            counts[script] = counts.get(script, 0) + 1
    total = sum(counts.values()) or 1
    return frozenset(script for script, count in counts.items() if count >= total / 5) or frozenset({"LATIN"})


def in_order_ratio(expected: str | tuple[str, ...] | list[str], found: str) -> float:
    """Share of the expected words that appear in the found text in the same order.

    `expected` may be several passages (a section's running text, then each note and picture
    description): each is matched in order on its own, wherever in the found text it stands.
    """
    return in_order(expected, found).ratio


@dataclass(frozen=True)
class InOrder:
    """How much of what must be there was found in order: the share of its words, and the longest
    run of words in a row that were not (a dropped table row or paragraph is a run, where a word
    a reader mangled here and there is not)."""

    ratio: float
    gap: int
    gap_words: tuple[str, ...] = ()


def in_order(expected: str | tuple[str, ...] | list[str], found: str, scripts: frozenset[str] | None = None) -> InOrder:
    """The expected passages' words matched in order in the found text (see `in_order_ratio`),
    counting only words in `scripts` when given."""
    passages = [expected] if isinstance(expected, str) else list(expected)
    return matched_in_order([words(passage, scripts) for passage in passages], words(found, scripts))


def words_in_order(wanted: list[list[str]], have: list[str]) -> float:
    """Share of the wanted words (each passage matched on its own) found in `have` in the same order."""
    return matched_in_order(wanted, have).ratio


def matched_in_order(wanted: list[list[str]], have: list[str]) -> InOrder:
    """The wanted words (each passage matched on its own) found in `have` in order, and the longest
    run of a passage's words that were not."""
    total = sum(len(w) for w in wanted)
    if not total:
        return InOrder(1.0, 0)
    matched, gap, gap_words = 0, 0, ()
    for want in wanted:
        if not want:
            continue
        matcher = SequenceMatcher(None, want, have, autojunk=False)
        blocks = matcher.get_matching_blocks()
        matched += sum(block.size for block in blocks)
        start = 0
        for block in blocks:
            if block.a - start > gap:
                gap, gap_words = block.a - start, tuple(want[start:block.a])
            start = block.a + block.size
    return InOrder(matched / total, gap, gap_words)


@dataclass(frozen=True)
class Presence:
    """The verdict for one section in one format, with the reason a person can act on."""

    present: bool
    detail: str
    gap: int | None = None  # the longest run of words missing in a row, where words were matched


def judge(title: str, expected: str | tuple[str, ...], heading_found: bool, found_text: str,
          scripts: frozenset[str] | None = None) -> Presence:
    """Present when the heading was found, at least `presence_ratio` of the words are in order, and
    no run of more than `presence_gap_max` words in a row is missing (a table row, a paragraph);
    with `scripts`, only words in those scripts count."""
    return verdict(title, heading_found, in_order(expected, found_text, scripts))


def verdict(title: str, heading_found: bool, found: InOrder) -> Presence:
    """The presence verdict from what was matched in order."""
    threshold, gap_max = float(setting("presence_ratio")), int(setting("presence_gap_max"))
    if not heading_found:
        return Presence(False, f"heading '{title}' not found", found.gap)
    if found.ratio < threshold:
        return Presence(False, f"only {found.ratio:.0%} of the words in order (need {threshold:.0%})", found.gap)
    if found.gap > gap_max:
        return Presence(False, f"{found.gap} words in a row are missing (at most {gap_max}): "
                               f"'{' '.join(found.gap_words[:12])}{' …' if found.gap > 12 else ''}'", found.gap)
    return Presence(True, f"{found.ratio:.0%} of words", found.gap)
