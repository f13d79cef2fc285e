"""Is every section in the braille edition? Read from `NAME.brf` and `NAME.pef` alone.

The BRF is back-translated with liblouis (the table the PEF names, else the one the source's
language and the configured grade choose) and judged by the same presence rule as every format:
the question's heading is found after the contents, and at least 95 % of its words follow in
order: the words of the print edition the braille shows (a "More detail" sub-heading under the
answers means both renditions, which must both be there; else the plain or the full text, whichever
its answers hold). Format rules: every line at most 40 cells, every page at most 25 lines, only North American
ASCII braille characters, and the PEF holding the same pages and cells as the BRF. Words in
another script are found, in order, in their own script's braille and back-translated by its table
(rule "other scripts"); the rest of the BRF is back-translated by the handout's table.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Callable

from lxml import etree

from .. import formats
from ..config import setting
from ..formats.braille import (CELLS, EMOJI_PARTS, LINES, MORE_DETAIL, PEF_NS, Table, body_blocks, brailled, brf_pages, louis, runs,
                               script_table, table_for, table_metadata, unicode_cells, written)
from ..language.words import words_for
from ..errors import Unavailable
from ..model import Document, Section
from . import FormatReport
from .presence import Presence, matched_in_order, scripts_of, verdict, words

FORMAT = "braille"
# Braille that spells a language's sounds, not its characters (Mandarin: pinyin syllables): it
# cannot be read back to the print, so it is compared as braille with the source's words brailled.
SOUND_SPELLED = frozenset({"cmn"})
CONTENTS_LINE = re.compile(r'\s"{2,}\s\S+$')  # guide dots, then a braille page number at the margin


def check(doc: Document, out_dir: Path) -> FormatReport:
    """Sections present in the back-translated BRF; page size, characters and the PEF's agreement."""
    report = FormatReport(FORMAT)
    brf_path, pef_path = (out_dir / publication.path for publication in formats.published(FORMAT, doc.name))
    if not brf_path.is_file():
        try:
            table_for(doc, int(setting("braille_grade")))
        except Unavailable as why:  # seen here, not taken from the build: no table for the language
            report.unavailable = str(why)
            return report
        return report.missing(doc, f"{brf_path.name} not found")
    try:
        pages = brf_pages(brf_path.read_bytes().decode("ascii"))
    except UnicodeDecodeError as exc:
        report.rule("ASCII braille", False, f"{brf_path.name} is not ASCII: byte {exc.start}")
        return report.missing(doc, f"{brf_path.name} is not ASCII braille")
    report.figures["pages"] = len(pages)
    with report.guard("page size"):
        page_size(report, pages)
    with report.guard("ASCII braille"):
        ascii_braille(report, pages)
    with report.guard("PEF"):
        same_as_pef(report, pages, pef_path)
    table = named_table(pef_path) or table_for(doc, int(setting("braille_grade")))
    report.figures["table"] = table.file
    judge_sections(doc, report, pages, table)
    return report


def page_size(report: FormatReport, pages: list[list[str]]) -> None:
    """No line over 40 cells, no page over 25 lines."""
    long_lines = [f"page {p} line {n} has {len(line)} cells" for p, page in enumerate(pages, 1)
                  for n, line in enumerate(page, 1) if len(line) > CELLS]
    long_pages = [f"page {p} has {len(page)} lines" for p, page in enumerate(pages, 1) if len(page) > LINES]
    report.rule("page size", not long_lines and not long_pages,
                "; ".join((long_lines + long_pages)[:5]) or f"{len(pages)} pages, every line at most {CELLS} "
                                                            f"cells, every page at most {LINES} lines")


def ascii_braille(report: FormatReport, pages: list[list[str]]) -> None:
    """Only the 64 characters of North American ASCII braille (and the blank cell)."""
    allowed = set(unicode_cells())
    stray = sorted({char for page in pages for line in page for char in line if char not in allowed})
    report.rule("ASCII braille", not stray,
                f"characters outside ASCII braille: {''.join(stray)!r}" if stray else "only ASCII braille cells")


def pef_pages(pef_path: Path) -> list[list[str]]:
    """The PEF's pages, each a list of rows of Unicode braille."""
    root = etree.parse(str(pef_path)).getroot()
    return [[row.text or "" for row in page.iterfind(f"{{{PEF_NS}}}row")]
            for page in root.iter(f"{{{PEF_NS}}}page")]


def same_as_pef(report: FormatReport, pages: list[list[str]], pef_path: Path) -> None:
    """The PEF has the same pages, rows and cells as the BRF (cell for cell, blank cells at a row's end aside)."""
    if not pef_path.is_file():
        report.rule("PEF", False, f"{pef_path.name} not found")
        return
    cells = unicode_cells()
    embossed = pef_pages(pef_path)
    wanted = [[("".join(cells.get(c, "?") for c in line)).rstrip("\u2800") for line in page] for page in pages]
    found = [[row.rstrip("\u2800") for row in page] for page in embossed]
    differ = next((p for p, (a, b) in enumerate(zip(wanted, found), 1) if a != b), None)
    same = len(wanted) == len(found) and differ is None
    report.rule("PEF", same, f"{len(found)} pages, cell for cell the BRF's" if same else
                f"{len(found)} pages against the BRF's {len(wanted)}" if len(found) != len(wanted)
                else f"page {differ} differs from the BRF")


def named_table(pef_path: Path) -> Table | None:
    """The liblouis table the PEF says the edition was made with."""
    if not pef_path.is_file():
        return None
    description = etree.parse(str(pef_path)).getroot().findtext(
        ".//{http://purl.org/dc/elements/1.1/}description") or ""
    found = re.search(r"liblouis table (\S+?)\)", description)
    if not found:
        return None
    fields = table_metadata().get(found.group(1), {})
    return Table(found.group(1), fields.get("contraction", ""), fields.get("system", ""), fields.get("direction", "both"))


def print_edition(doc: Document, pages: list[list[str]], text: str, table: Table) -> str:
    """Which answers the braille shows: "both" when the brailled "More detail" stands on a line of its
    own, else "plain" or "full", whichever more of the sections' brailled words are in (as braille)."""
    say = words_for(doc.meta.lang)
    label = " ".join(brailled([say(MORE_DETAIL)], table, say)[0].split())
    if label and any(" ".join(line.split()) == label for page in pages for line in page):
        return "both"
    bare = _without_punctuation(table)
    body = bare(text.split())

    def share(rendition: str) -> float:
        wanted = [bare(t.split()) for s in doc.sections
                  for t in brailled(list(s.plain_passages if rendition == "plain" else s.full_passages), table, say)]
        return matched_in_order(wanted, body).ratio

    return "plain" if share("plain") > share("full") else "full"


def edition_passages(section: Section, edition: str) -> tuple[str, ...]:
    """What the edition must show of a section: its plain passages, its full ones, or both in turn."""
    if edition == "plain":
        return section.plain_passages
    return (*section.plain_passages, *section.full_passages) if edition == "both" else section.full_passages


def judge_sections(doc: Document, report: FormatReport, pages: list[list[str]], table: Table) -> None:
    """Find each question after the contents, then its words, in order: back-translated to print by
    liblouis, or, when the table only translates forward (Spanish contracted) or spells sounds
    (Mandarin), compared as braille with the section's words translated by the same table."""
    start = 1 + max((p for p, page in enumerate(pages) if any(CONTENTS_LINE.search(line) for line in page)), default=0)
    text = "\n".join(" ".join(line for line in page[:LINES - 1] if line.strip()) for page in pages[start:])
    edition = print_edition(doc, pages[start:], text, table)
    report.figures["print_edition"] = edition
    rest = other_scripts(doc, report, text, table, edition)
    fields = table_metadata().get(table.file, {})
    backward = fields.get("direction", "both") in ("both", "backward") and fields.get("language") not in SOUND_SPELLED
    report.figures["compared"] = ("back-translated to print" if backward else
                                  "as braille (the table only translates forward, or spells sounds, not characters)")
    if backward:
        scripts = scripts_of(doc.text)  # words in another script: judged by `other_scripts`, in their own braille
        body = words(" ".join(louis(rest.split("\n"), table.tables, backward=True)), scripts)
        said = {s.id: (words(_visible(s.title), scripts), [words(_visible(p), scripts) for p in edition_passages(s, edition)])
                for s in doc.sections}
        label = words(words_for(doc.meta.lang)(MORE_DETAIL), scripts)
    else:
        bare = _without_punctuation(table)
        say = words_for(doc.meta.lang)
        body = bare(text.split())
        said = {s.id: (bare(brailled([s.title], table, say)[0].split()),
                       [bare(t.split()) for t in brailled(list(edition_passages(s, edition)), table, say)]) for s in doc.sections}
        label = bare(brailled([say(MORE_DETAIL)], table, say)[0].split())
    cursor, found = 0, {}
    for section in doc.sections:
        title = said[section.id][0]
        at = next((i for i in range(cursor, len(body) - len(title) + 1) if body[i:i + len(title)] == title), -1)
        if at >= 0:
            found[section.id] = (at, at + len(title))
            cursor = at + len(title)
    positions = sorted(at for at, _ in found.values())
    for section in doc.sections:
        if section.id not in found:
            report.sections[section.id] = Presence(False, f"heading '{section.title}' not found after the contents")
            continue
        at, text_start = found[section.id]
        text_end = next((p for p in positions if p > at), len(body))
        report.sections[section.id] = judge_answer(section, said[section.id][1], body[text_start:text_end],
                                                   label if edition == "both" else [])


def judge_answer(section: Section, wanted: list[list[str]], found: list[str], label: list[str]) -> Presence:
    """A section's words: with a "More detail" label (both renditions), the plain passages before it
    and the full ones after it, each on its own (matched together, the full text's words could be
    taken for the plain text's alike ones and leave a false gap)."""
    at = next((i for i in range(len(found) - len(label) + 1) if label and found[i:i + len(label)] == label), -1)
    if at < 0:
        return verdict(section.title, True, matched_in_order(wanted, found))
    plain = len(section.plain_passages)
    before = verdict(section.title, True, matched_in_order(wanted[:plain], found[:at]))
    after = verdict(section.title, True, matched_in_order(wanted[plain:], found[at + len(label):]))
    if not before.present:
        return before
    return after if not after.present else Presence(True, f"plain {before.detail}, more detail {after.detail}",
                                                   max(before.gap or 0, after.gap or 0))


def _visible(text: str) -> str:
    """Print text as it is seen, without its invisible joiners and selectors (the braille drops them:
    "a", a zero-width joiner and "b" are the one word "ab")."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf" and not EMOJI_PARTS.match(c))


def other_scripts(doc: Document, report: FormatReport, text: str, table: Table, edition: str = "both") -> str:
    """Every run of another script (Arabic words in English) found, in order, in its own script's
    braille and read back by that script's table; returns the body with those runs cut out, for
    the handout's own table to back-translate the rest."""
    expected = [(run.strip(), script) for _kind, block in body_blocks(doc, edition) for run, script in runs(block, table) if script]
    cursor, cut, missing, read, exact = 0, [], [], [], 0
    for run, script in expected:
        foreign = script_table(script)
        cells = written(run, foreign) if foreign else ""
        if not cells:
            continue  # named in a note ("words in Thai script"): no braille of its own to find
        found = re.compile(re.escape(cells).replace("\\ ", r"\s+")).search(text, cursor)
        if not found:
            missing.append(f"'{run}' ({script.lower()}, {foreign.file})")
            continue
        back = louis([" ".join(found.group(0).split())], foreign.tables, backward=True)[0]
        exact += words(back) == words(run)
        cut.append(found.span())
        read.append(foreign.file)
        cursor = found.end()
    for begin, end in reversed(cut):
        text = text[:begin] + "\n" + text[end:]
    if expected:
        report.rule("other scripts", not missing,
                    f"not found in their own braille: {'; '.join(missing[:5])}" if missing else
                    f"runs in another script: {len(read)} found in their own braille "
                    f"({', '.join(sorted(set(read))) or 'none'}), {exact} of them read back by it letter for letter; "
                    f"{len(expected) - len(read)} named in a note")
    return text


def _without_punctuation(table: Table) -> Callable[[list[str]], list[str]]:
    """Braille words with the table's punctuation cells taken off their ends, so a word compares
    equal whether the braille edition follows it with a colon (a table cell named by its column)
    or the print text with nothing."""
    marks = sorted({cells for cells in louis(list(",.;:?!()"), table.tables) if cells}, key=len, reverse=True)

    def bare(words: list[str]) -> list[str]:
        out = []
        for word in words:
            trimmed = True
            while trimmed and word:
                trimmed = False
                for mark in marks:
                    if word.endswith(mark) and len(word) > len(mark):
                        word, trimmed = word[: -len(mark)], True
                    elif word.startswith(mark) and len(word) > len(mark):
                        word, trimmed = word[len(mark):], True
            out.append(word)
        return out

    return bare
