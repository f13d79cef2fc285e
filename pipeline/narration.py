"""The spoken script of a section: what a blind listener hears, made from the model, not raw Markdown."""

from __future__ import annotations

import re
from typing import Any

from . import ast
from .model import Utterance

HEADING_PAUSE_MS = 900
SENTENCE_PAUSE_MS = 250
PARAGRAPH_PAUSE_MS = 700
ITEM_PAUSE_MS = 450

SPOKEN_FORMS: list[tuple[re.Pattern[str], str]] = [
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


def script(
    section_id: str, title: str, number: int, total: int, blocks: list[dict[str, Any]]
) -> tuple[Utterance, ...]:
    """Utterances of a section in reading order; each sentence targets its span id for read-aloud."""
    lines = [Utterance(section_id, heading(title, number, total), HEADING_PAUSE_MS)]
    spans = ast.sentence_spans(blocks)
    for index, (span_id, text, context, paragraph) in enumerate(spans):
        following = spans[index + 1] if index + 1 < len(spans) else None
        if following and following[3] == paragraph:
            pause = SENTENCE_PAUSE_MS
        elif following and context == following[2] == "item":
            pause = ITEM_PAUSE_MS
        else:
            pause = PARAGRAPH_PAUSE_MS
        lines.append(Utterance(span_id, spoken(text), pause))
    return tuple(lines)
