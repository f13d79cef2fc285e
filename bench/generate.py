"""A synthetic clinic library of N FAQs in the exact source format, made from the real FAQ's own sentences.

Each handout reuses real questions, full text (its sentences reshuffled) and plain renditions, so
it parses, reads and sounds like the real thing, with its own ids, title and length. Each handout,
and each repeated part within one, speaks of its own kind of cancer and opens its sentences its
own way, so handouts do not share sentences: the speech cache is content-addressed, and a library
of copies would be voiced for the price of one handout, measuring nothing. The same seed gives the
same library, so two benchmark runs build the same work. A cap on sections per handout makes a tiny
library (its narrated paragraphs cut to two sentences) for a quick run, such as the benchmark's own test.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.config import PROJECT_ROOT

SEED_SOURCE = PROJECT_ROOT / "source" / "breast-cancer-recurrence.md"
# Sections per handout, cycled: the first has as many as the real FAQ, the rest vary from 2 to 16.
LENGTHS = (8, 3, 12, 5, 16, 4, 10, 6, 14, 2)
# Sentences kept per full-text paragraph when the sections are capped (a tiny library): the
# narration, which takes most of a build's time, stays short.
TINY_SENTENCES = 2
SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9“\"])")
PLAIN_EDIT_SENTENCE = "Ask your nurse if you are not sure."
EDIT_SENTENCE = "Ask your care team what this means for you."
# A handout part's wording: its kind of cancer and the words its sentences open with. The two
# lists have coprime lengths (12 and 11 openers after the FAQ's own plain start), so the first
# 132 parts of a library all differ in both.
# One-syllable words, so a plain rendition reads at the same grade whatever its part speaks of.
ORGANS = ("breast", "lung", "skin", "bone", "blood", "throat", "brain", "mouth", "neck", "eye", "gum", "tongue")
OPENERS = ("", "Remember:", "In short:", "Good to know:", "Please note:", "Keep in mind:", "One more thing:",
           "Our advice:", "The short answer:", "Worth knowing:", "Take heart:", "Here is what to know:")


@dataclass(frozen=True)
class RealSection:
    """One question of the real FAQ as Markdown blocks (paragraphs and whole lists)."""

    id: str
    title: str
    full: tuple[str, ...]
    plain: tuple[str, ...]


def _blocks(markdown: str) -> tuple[str, ...]:
    """Paragraphs and lists of a Markdown body, split on blank lines."""
    return tuple(block.strip() for block in re.split(r"\n\s*\n", markdown.strip()) if block.strip())


def real_faq(path: Path = SEED_SOURCE) -> tuple[dict, tuple[RealSection, ...]]:
    """The real FAQ's metadata and sections, read from its Markdown (not from built files)."""
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    sections = []
    for chunk in re.split(r"^## ", body, flags=re.M)[1:]:
        heading, rest = chunk.split("\n", 1)
        title, section_id = re.fullmatch(r"(.+?)\s*\{#([a-z0-9-]+)\}\s*", heading).groups()
        full, plain = rest.split("::: plain", 1)
        plain = plain.split("\n:::\n", 1)[0]  # to its closing fence (an ::: easyread div may follow)
        sections.append(RealSection(section_id, title, _blocks(full), _blocks(plain)))
    return yaml.safe_load(front), tuple(sections)


@dataclass(frozen=True)
class Wording:
    """How one part of one handout words the real FAQ's sentences."""

    organ: str
    opener: str

    def of(self, text: str) -> str:
        """The text about this part's kind of cancer (keeping a capital where there was one)."""
        return re.sub(r"\b([Bb])reast\b", lambda m: self.organ.capitalize() if m.group(1) == "B" else self.organ, text)

    def opened(self, sentence: str) -> str:
        """A sentence with this part's opening words."""
        return f"{self.opener} {sentence}" if self.opener else sentence


def wording(number: int, part: int) -> Wording:
    """The wording of part `part` (1 for a first appearance) of handout `number`; handout 1's first parts are the FAQ's own."""
    variant = (number - 1) * 2 + (part - 1)
    opener = OPENERS[0] if variant == 0 else OPENERS[1 + (variant - 1) % (len(OPENERS) - 1)]
    return Wording(ORGANS[variant % len(ORGANS)], opener)


def _reshuffled(
    blocks: tuple[str, ...], rng: random.Random, words: Wording, opened: bool = True, keep: int | None = None
) -> list[str]:
    """The blocks in this part's wording, each paragraph's sentences in a new order (lists and list lead-ins kept in order).

    Openers go on the full text only (what is narrated): on a plain rendition they would only
    lengthen its sentences past the plain-language limits. `keep` cuts each paragraph to that many
    sentences (a list lead-in keeps its last ones, so it still ends with its colon)."""
    shuffled = []
    for block in blocks:
        if block.startswith("- "):
            shuffled.append(words.of(block))
            continue
        sentences = [words.of(sentence) for sentence in SENTENCE_END.split(" ".join(block.split()))]
        sentences = [words.opened(sentence) for sentence in sentences] if opened else sentences
        if not block.endswith(":"):
            rng.shuffle(sentences)
        if keep:
            sentences = sentences[-keep:] if block.endswith(":") else sentences[:keep]
        shuffled.append(" ".join(sentences))
    return shuffled


def handout(number: int, seed: int = 8, sections: int | None = None) -> str:
    """The Markdown source of synthetic handout `number` (1-based); `sections` caps its sections and shortens its paragraphs."""
    meta, real = real_faq()
    rng = random.Random(seed * 1000 + number)
    count = LENGTHS[(number - 1) % len(LENGTHS)]
    count = min(count, sections) if sections else count
    keep = TINY_SENTENCES if sections else None
    chosen = [real[(i + number) % len(real)] for i in range(count)]
    header = {
        "title": f"Clinic Handout {number}: {wording(number, 1).of(chosen[0].title)}",
        "subtitle": f"Synthetic benchmark handout with {count} questions",
        "lang": "en-US",
        "publisher": meta.get("publisher", "Benchmark clinic"),
        "date": str(meta.get("date", "2026-01-01")),
        "identifier": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'bench-handout-{seed}-{number}')}",
        "description": f"Benchmark handout {number}, made from the real FAQ's sentences.",
        "glossary": meta.get("glossary") or {},
    }
    parts = ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000).strip(), "---", ""]
    seen: dict[str, int] = {}
    for index, section in enumerate(chosen, start=1):
        seen[section.id] = seen.get(section.id, 0) + 1
        words = wording(number, seen[section.id])
        repeat = f" (part {seen[section.id]})" if seen[section.id] > 1 else ""
        parts.append(f"## {words.of(section.title)}{repeat} {{#{section.id}-{index}}}\n")
        parts.extend(block + "\n" for block in _reshuffled(section.full, rng, words, keep=keep))
        parts.append("::: plain")
        parts.append("\n\n".join(_reshuffled(section.plain, rng, words, opened=False)))
        parts.append(":::\n")
    return "\n".join(parts)


def write_library(folder: Path, count: int, seed: int = 8, sections: int | None = None) -> list[Path]:
    """Write `count` handouts as `folder/handout-NN.md` (at most `sections` sections each, when given); returns their paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        path = folder / f"handout-{number:02d}.md"
        path.write_text(handout(number, seed, sections), encoding="utf-8")
        paths.append(path)
    return paths


def edit_one_section(source: Path, position: int = 2) -> str:
    """Add one sentence to the full text of the section at `position`, as a clinic's small edit would.

    Returns the edited section's id.
    """
    text = source.read_text(encoding="utf-8")
    headings = list(re.finditer(r"^## .*\{#([a-z0-9-]+)\}[ \t]*$", text, flags=re.M))
    heading = headings[min(position, len(headings)) - 1]
    paragraph_end = text.index("\n\n", heading.end() + 1)
    text = text[:paragraph_end] + f" {EDIT_SENTENCE}" + text[paragraph_end:]
    source.write_text(text, encoding="utf-8")
    return heading.group(1)


def edit_one_plain_sentence(source: Path, position: int = 2) -> str:
    """Add one sentence to the plain rendition of the section at `position` (what the page shows and
    its player says). Returns the edited section's id."""
    text = source.read_text(encoding="utf-8")
    headings = list(re.finditer(r"^## .*\{#([a-z0-9-]+)\}[ \t]*$", text, flags=re.M))
    heading = headings[min(position, len(headings)) - 1]
    opening = text.index("::: plain\n", heading.end()) + len("::: plain\n")
    line_end = text.index("\n", opening)
    text = text[:line_end] + f" {PLAIN_EDIT_SENTENCE}" + text[line_end:]
    source.write_text(text, encoding="utf-8")
    return heading.group(1)
