"""A section's Easy Read rows: one short sentence each, with the picture beside it.

The rows come from the section's `::: easyread` div when the author wrote one, else from its plain
rendition, in reading order (a callout's label joins its first sentence; a numbered step keeps its
number; a table's columns, each of its rows, a picture's description and a note are rows too). A sentence longer than Easy Read allows (`easyread_words_max`, 15 words, after the UK
Department of Health's guidance) is cut at its clause boundaries (a semicolon, a colon, a dash, a
comma before "and", "but", "or", "so", "because"...), nearest the middle first, never leaving a
piece under three words; what cannot be cut stays long, and `lint` and the check name it.

Each row's picture: the one the author put on the sentence (`[Take one pill.]{icon=pill}`), else the
source's `easyread-icons:` map (word or phrase: picture), else the reviewed keyword table of the
language (`pipeline.icons.suggest`); with no confident match, none (the edition draws a neutral
marker, and `lint` lists the row).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .. import icons
from ..config import setting
from ..errors import SourceError
from ..model import EasyRow, Metadata, Piece
from ..language.scripts import counting_unit, units
from . import reading
from .tree import Block, stringify
from ..language.words import Words

# every piece a reader meets: a table's columns (as the narration announces them) and a picture's description too
ROW_KINDS = {"paragraph", "item", "line", "table", "row", "picture", "note", "code"}
WORD = re.compile(r"[^\W_]+(?:[.,:/'’][^\W_]+)*")  # "1,000", "100.4", "2:30", "A1C" and "don't" are one word each
MIN_PIECE_WORDS = 3
# Where a long sentence may be cut, best first: after a semicolon, colon or dash; after a comma
# before a joining word; after any comma; before a joining word with no comma.
JOINING = r"(?:and|but|or|so|because|if|when|while|which|then|until|unless|after|before|y|pero|o|porque|si|cuando)"
CUTS = (re.compile(r"[;:]\s+|\s+[—–]\s+|[；：]\s*"), re.compile(rf",\s+(?={JOINING}\b)", re.I), re.compile(r",\s+|[，、]\s*"),
        re.compile(rf"\s+(?={JOINING}\b)", re.I))


def words_max(lang: str = "") -> int:
    """The most words one Easy Read sentence may have (in a language written a syllable at a time,
    syllables, in the ratio the plain text's limits keep: 15 words, about 25 syllables)."""
    limit = int(setting("easyread_words_max"))
    if counting_unit(lang) == "syllable":
        return round(limit * float(setting("sentence_syllables_max")) / float(setting("sentence_words_max")))
    return limit


def count_words(text: str, lang: str = "") -> int:
    """How many words (or, in a language written a syllable at a time, syllables) a sentence has."""
    return len(units(text)) if counting_unit(lang) == "syllable" else len(WORD.findall(text))


def rows(section_id: str, easy: list[Block], plain: list[Block], marked: reading.Marked, meta: Metadata,
         say: Words, path: Path, lines: list[str]) -> tuple[EasyRow, ...]:
    """The section's rows: from its `::: easyread` div when written, else from its plain rendition
    (`marked`), each with its picture."""
    pieces = reading.mark(easy, f"{section_id}_e", say).pieces if easy else marked.pieces
    chosen = chosen_icons(easy or plain, path, lines)
    return tuple(row(text, meta, chosen) for text in row_texts(pieces, meta.lang))


def row_texts(pieces: tuple[Piece, ...], lang: str = "") -> list[str]:
    """Each sentence of the rendition as a row, long ones cut at their clauses."""
    texts: list[str] = []
    label = ""
    for piece in pieces:
        if piece.kind == "label":
            label = piece.text
            continue
        if piece.kind not in ROW_KINDS:
            continue
        text = " ".join(part for part in (label, piece.marker if piece.step else "", piece.text) if part)
        label = ""
        texts += short_sentences(text, lang)
    return texts + ([label] if label else [])


def short_sentences(text: str, lang: str = "") -> list[str]:
    """The sentence, or its clauses when it is longer than Easy Read allows."""
    if count_words(text, lang) <= words_max(lang):
        return [text]
    for pattern in CUTS:
        cut = _best_cut(text, pattern, lang)
        if cut is not None:
            first, rest = text[:cut[0]].rstrip(" ,;:—–，；：、"), text[cut[1]:]
            stop = "。" if counting_unit(lang) == "syllable" and not text.isascii() else "."
            return short_sentences(first + stop, lang) + short_sentences(rest[:1].upper() + rest[1:], lang)
    return [text]


def _best_cut(text: str, pattern: re.Pattern[str], lang: str) -> tuple[int, int] | None:
    """(end of the first piece, start of the next) of the cut nearest the middle that leaves both
    pieces at least three words, or None."""
    total = count_words(text, lang)
    best: tuple[float, tuple[int, int]] | None = None
    for match in pattern.finditer(text):
        before = count_words(text[:match.start()], lang)
        if before < MIN_PIECE_WORDS or total - before < MIN_PIECE_WORDS:
            continue
        distance = abs(total / 2 - before)
        if best is None or distance < best[0]:
            best = (distance, (match.start(), match.end()))
    return best[1] if best else None


def row(text: str, meta: Metadata, chosen: dict[str, str]) -> EasyRow:
    """One row with its picture: the author's, else the suggested one, else none."""
    said = _said(text)
    marked = [words for words in chosen if _said(words) and _said(words) in said]
    if marked:  # the span that is the whole sentence, else the longest one inside it
        name = chosen[max(marked, key=lambda words: (_said(words) == said, len(words)))]
        return EasyRow(text, name, icons.alt_for(name, meta.lang), chosen=True)
    suggested = icons.suggest(text, meta.lang, meta.easyread_icons)
    if suggested is None:
        return EasyRow(text)
    return EasyRow(text, suggested.name, suggested.alt, chosen=suggested.name in meta.easyread_icons.values())


def _said(text: str) -> str:
    """A sentence's words, lower case, one space apart (to find a marked span in its row)."""
    return " ".join(WORD.findall(text.lower()))


def chosen_icons(blocks: list[Block], path: Path, lines: list[str]) -> dict[str, str]:
    """The pictures the author put on sentences (`[words]{icon=name}`), by the words they mark;
    a name the picture set lacks is an error at its line."""
    chosen: dict[str, str] = {}
    for span in _spans(blocks):
        attributes = dict(span["c"][0][2])
        name = attributes.get("icon", "").strip()
        if not name:
            continue
        found = icons.icon_set()
        if found is not None and not found.has(name):
            line = next((n for n, text in enumerate(lines, 1) if f"icon={name}" in text.replace('"', "")), None)
            raise SourceError(path, line, f"the picture '{name}' is not in the picture set (Health Icons); "
                                          "see docs/easy-read.md for how to find a picture's name")
        chosen[stringify(span["c"][1])] = name
    return chosen


def _spans(node: Any) -> list[dict[str, Any]]:
    """Every Span anywhere in a tree."""
    if isinstance(node, list):
        return [span for child in node for span in _spans(child)]
    if not isinstance(node, dict):
        return []
    own = [node] if node.get("t") == "Span" else []
    return own + _spans(node.get("c"))
