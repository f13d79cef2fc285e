"""`python -m pipeline lint`: what an author should change in a source before it is built, as a
compiler says it (`file:line:col: level rule: message`), so an editor can jump to each line.

The rules, in the order a section is read:

- `unwritten` (error): a plain rendition still as the import left it.
- `facts` (error): a number, percentage, dose, frequency, duration, phone number or medicine that
  is in one rendition of a section and missing or different in the other (`pipeline.language.facts`).
- `grade` (error): a plain rendition over the readability limits the check enforces (the same
  `pipeline.language.readability.measure`), naming its hardest sentences and their lines.
- `sentence-length` (warning): one plain sentence longer than `lint_sentence_words_max`.
- `plainer-word` (warning): a word with a plainer alternative (`lexicon/plainer-LANG.tsv`).
- `hard-word` (warning): a long, rare word in plain text that is neither in the glossary nor
  explained in its sentence.
- `glossary-unused`, `glossary-order` (warning): a glossary term no plain text uses, or one used
  before the plain text explains it.
- `question-heading` (warning): a heading that is not a question (it is an FAQ).
- `alt-text` (error): a picture without alt text.
- `easyread-length` (warning), `easyread-picture` (note): an Easy Read row still longer than
  `easyread_words_max` words once its clauses are cut, or with no picture that fits it.
- `pronounce` (warning): an English word the voice must guess at, in no pronouncing dictionary,
  the project's lexicon (`lexicon/pronunciations-en.tsv`) or the source's `pronounce:`.

A source that cannot be read at all is one `error source:` line and exit 2.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from wordfreq import zipf_frequency

from . import facts as facts_of, readability, scripts
from .pronunciation import lexicon_for, unsure
from ..config import setting
from ..errors import SourceError
from ..model import Document, Section
from ..page import term_pattern
from .scripts import counting_unit, script_of
from ..source import easyread
from ..source.reader import parse
from .words import primary

LEXICON = Path(__file__).with_name("lexicon")
# A sentence explains a word when it says what the word is called or means right beside it.
EXPLAINED = {
    "en": r"(?:called|named|known as)\s+(?:an?\s+|the\s+)?{w}|{w}\s*(?:\(|—|–|:|,\s*(?:which|that|or|a|an|the)\b)"
          r"|{w}\s+(?:means?|is|are|was)\b",
    "es": r"(?:llama|llaman|llamada|llamado|conoce como)\s+(?:una?\s+|el\s+|la\s+)?{w}|{w}\s*(?:\(|—|–|:|,\s*(?:que|o)\b)"
          r"|{w}\s+(?:significa|quiere decir|es|son)\b",
}


@dataclass(frozen=True)
class Finding:
    """One thing to change, where it is."""

    file: str
    line: int
    column: int
    level: str  # "error", "warning" or "note" (nothing to fix, something to know)
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.level} {self.rule}: {self.message}"


@dataclass
class Region:
    """A stretch of the source file (one rendition of a section), to find where its words are written."""

    text: str  # the whole file
    start: int  # offset where the region starts
    end: int
    cursor: int = -1

    def __post_init__(self) -> None:
        self.cursor = self.start

    def locate(self, snippet: str, advance: bool = True) -> tuple[int, int]:
        """(line, column) where a rendered snippet's first words are written in this region (searched
        from the last one found, so repeated words land on the right line); the region's start if not found."""
        offset = self._find(snippet, self.cursor) if advance else None
        if offset is None:
            offset = self._find(snippet, self.start)
        if offset is None:
            offset = self.start
        elif advance:
            self.cursor = offset + 1
        return position(self.text, offset)

    def span(self) -> str:
        """"lines A-B": the region's written lines, without blank lines and div fences."""
        first, _ = position(self.text, self.start)
        written = [n for n, line in enumerate(self.text[self.start:self.end].split("\n"), first)
                   if line.strip() and not line.lstrip().startswith(":::")]
        if not written:
            return f"line {first}"
        return f"line {written[0]}" if written[0] == written[-1] else f"lines {written[0]}-{written[-1]}"

    def _find(self, snippet: str, start: int) -> int | None:
        """The offset of the snippet's first few words, markup and quotes allowed between them."""
        found = readability.words(snippet)[:6]
        if not found:
            return None
        words = [re.sub("['’]", "['’]", re.escape(w)) for w in found]  # either apostrophe, as typed
        pattern = re.compile(r"(?<![\w])" + r"[\W_]+".join(words), re.I)
        match = pattern.search(self.text, start, self.end)
        return match.start() if match else None


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of an offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def lint(path: Path) -> list[Finding]:
    """Every finding for one source, in line order; a SourceError if it cannot be read."""
    drafts: list[SourceError] = []
    doc = parse(path, drafts=drafts)
    text = path.read_text(encoding="utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
    findings = [Finding(str(path), draft.line or 1, 1, "error", draft.rule, draft.problem) for draft in drafts]
    lines = text.splitlines()
    stretches = regions(text, lines, doc)
    for section in doc.sections:
        full, plain = stretches[section.id]
        findings += heading_rule(path, section)
        if section.unwritten:
            continue
        findings += fact_rule(path, doc, section, full, plain)
        findings += plain_rules(path, doc, section, plain)
        findings += easy_read_rules(path, doc, section, plain)
    findings += glossary_rules(path, doc, lines, {sid: plain for sid, (_, plain) in stretches.items()})
    findings += pronunciation_rule(path, doc, text)
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule))


def regions(text: str, lines: list[str], doc: Document) -> dict[str, tuple[Region, Region]]:
    """Each section's full and plain rendition as stretches of the file, by section id."""
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    found = {}
    for section in doc.sections:
        following = [s.line for s in doc.sections if s.line > section.line]
        stop_line = min(following) if following else len(lines) + 1
        div_line = next((n for n in range(section.line + 1, stop_line)
                         if re.match(r"\s*:::+\s*(?:\{[^}]*\.plain\b|plain\b)", lines[n - 1])), stop_line)
        start = offsets[section.line]  # the line after the heading
        middle = offsets[min(div_line, len(lines))] if div_line <= len(lines) else len(text)
        end = offsets[min(stop_line - 1, len(lines))]
        full_end = offsets[div_line - 1] if div_line <= len(lines) else len(text)
        found[section.id] = (Region(text, start, full_end), Region(text, middle, end))
    return found


def heading_rule(path: Path, section: Section) -> list[Finding]:
    """An FAQ's headings are questions."""
    if section.title.rstrip().endswith("?"):
        return []
    return [Finding(str(path), section.line, 1, "warning", "question-heading",
                    f"heading '{section.title}' is not a question; readers scan an FAQ for their question")]


def fact_rule(path: Path, doc: Document, section: Section, full: Region, plain: Region) -> list[Finding]:
    """Facts in one rendition and not the other: changed (both said), dropped or added."""
    lang = doc.meta.lang
    in_full = facts_of.facts("\n\n".join(section.full_statements), lang)
    in_plain = facts_of.facts("\n\n".join(section.plain_statements), lang)
    full_values = {(f.kind, f.value) for f in in_full}
    plain_values = {(f.kind, f.value) for f in in_plain}
    plain_words = {w.lower() for w in readability.words(section.plain_text)}
    full_words = {w.lower() for w in readability.words(section.full_text)}

    def said_there(fact: facts_of.Fact, theirs: set[tuple[str, str]], their_words: set[str]) -> bool:
        """The other rendition states this fact: the same value, the number in words, or as a natural frequency."""
        if (fact.kind, fact.value) in theirs:
            return True
        if fact.kind == "number" and facts_of.number_words(fact.value, lang) & their_words:
            return True
        own_numbers = fact.kind == "percentage" or (fact.kind == "number" and ("number", "100") in mine[id(fact)])
        return own_numbers and facts_of.as_natural_frequency(fact.value, theirs)

    mine = {id(f): full_values for f in in_full} | {id(f): plain_values for f in in_plain}
    dropped = _first_each(f for f in in_full if not said_there(f, plain_values, plain_words))
    added = _first_each(f for f in in_plain if not said_there(f, full_values, full_words))
    findings = []
    span = plain.span()
    for kind in facts_of.KINDS:
        gone = [f for f in dropped if f.kind == kind]
        new = [f for f in added if f.kind == kind]
        for was, now in zip(gone, new):
            line, column = _fact_place(plain, now)
            findings.append(Finding(str(path), line, column, "error", "facts",
                                    f"{_kind_name(kind)} differs: the full text says '{was.text}' (line "
                                    f"{_fact_place(full, was)[0]}), the plain one '{now.text}' (line {line})"))
        for was in gone[len(new):]:
            full_line = _fact_place(full, was)[0]
            line, _ = plain.locate("", advance=False)
            findings.append(Finding(str(path), line, 1, "error", "facts",
                                    f"{_kind_name(kind)} '{was.text}' (full text, line {full_line}) is missing from "
                                    f"the plain rendition ({span}); say it there too, the same way"))
        for now in new[len(gone):]:
            line, column = _fact_place(plain, now)
            findings.append(Finding(str(path), line, column, "error", "facts",
                                    f"{_kind_name(kind)} '{now.text}' (plain text, line {line}) is not in the full "
                                    f"text ({full.span()})"))
    return findings


def _first_each(found: Iterable[facts_of.Fact]) -> list[facts_of.Fact]:
    """Each distinct fact once, at its first mention."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for fact in found:
        if (fact.kind, fact.value) not in seen:
            seen.add((fact.kind, fact.value))
            kept.append(fact)
    return kept


def _fact_place(region: Region, fact: facts_of.Fact) -> tuple[int, int]:
    """Where a fact is written in the file: its exact text in the region, else its words."""
    offset = region.text.find(fact.text, region.start, region.end)
    if offset >= 0:
        return position(region.text, offset)
    return region.locate(fact.text, advance=False)


def _kind_name(kind: str) -> str:
    """A fact kind as an author reads it."""
    return {"number": "number", "percentage": "percentage", "dose": "dose", "frequency": "how often",
            "duration": "how long", "phone": "phone number", "medicine": "medicine"}[kind]


def plain_rules(path: Path, doc: Document, section: Section, plain: Region) -> list[Finding]:
    """Readability of the plain rendition (the check's own measure), its long sentences, and its words."""
    lang = doc.meta.lang
    blocks = [b for b in section.plain_text.split("\n\n") if b.strip()]
    placed = [(sentence, plain.locate(sentence)) for block in blocks for sentence in readability.sentences(block)]
    findings = _grade_rule(path, section, lang, blocks, placed)
    unit = counting_unit(lang)
    limit = int(setting(f"lint_sentence_{unit}s_max"))
    for sentence, (line, column) in placed:
        count = len(readability.words(sentence))
        if count > limit:
            findings.append(Finding(str(path), line, column, "warning", "sentence-length",
                                    f"this plain sentence has {count} {unit}s (max {limit}); split it in two"))
    findings += _word_rules(path, doc, section, placed)
    return findings


def easy_read_rules(path: Path, doc: Document, section: Section, plain: Region) -> list[Finding]:
    """Easy Read rows still longer than the limit after their clauses were cut (a `::: easyread` div
    says it in shorter sentences), and rows without a picture (a note: the edition draws a marker)."""
    limit, unit = easyread.words_max(doc.meta.lang), counting_unit(doc.meta.lang)
    findings: list[Finding] = []
    for row in section.easy_rows:
        line, column = plain.locate(row.text)
        count = easyread.count_words(row.text, doc.meta.lang)
        if count > limit:
            advice = ("shorten it in the ::: easyread div" if section.easy_written else
                      f"write a ::: easyread div for '{section.id}' in sentences of {limit} {unit}s or fewer")
            findings.append(Finding(str(path), line, column, "warning", "easyread-length",
                                    f"this Easy Read sentence has {count} {unit}s (max {limit}): {advice}"))
        if not row.icon:
            findings.append(Finding(str(path), line, column, "note", "easyread-picture",
                                    f"no picture fits the Easy Read sentence '{_short(row.text)}': mark it "
                                    "[its words]{icon=NAME} or add a word to easyread-icons: (docs/easy-read.md)"))
    return findings


def _short(text: str) -> str:
    """A sentence cut to a few words, to name it in a finding."""
    words = text.split()
    return " ".join(words[:8]) + (" ..." if len(words) > 8 else "")


def _grade_rule(path: Path, section: Section, lang: str, blocks: list[str],
                placed: list[tuple[str, tuple[int, int]]]) -> list[Finding]:
    """The section's readability against the check's limit, with its hardest sentences named."""
    formula = readability.formula_for(lang)
    limits = setting("readability").get(primary(lang)) if formula else None
    if not limits:
        return []
    figures = readability.measure(blocks, lang)
    lower = readability.EASIER[formula] == "lower"
    over = figures.grade > limits["limit"] if lower else figures.grade < limits["limit"]
    if not over or not placed:
        return []
    scored = sorted(placed, key=lambda p: readability.measure([p[0]], lang).grade, reverse=lower)[:3]
    hardest = ", ".join(f"line {line} ({readability.measure([s], lang).grade:.1f})" for s, (line, _) in scored)
    line, column = scored[0][1]
    name = "grade" if lower else "INFLESZ"
    return [Finding(str(path), line, column, "error", "grade",
                    f"plain rendition of '{section.id}' scores {name} {figures.grade:.1f} by {formula} "
                    f"(limit {limits['limit']:g}); its hardest sentences: {hardest}")]


def _word_rules(path: Path, doc: Document, section: Section,
                placed: list[tuple[str, tuple[int, int]]]) -> list[Finding]:
    """Plainer alternatives and hard words, each once per section at its first use."""
    lang = primary(doc.meta.lang)
    findings: list[Finding] = []
    alternatives = plainer_words(lang)
    glossary = term_pattern(list(doc.meta.glossary))
    seen: set[str] = set()
    for sentence, (line, column) in placed:
        lowered = sentence.lower()
        for phrase, (pattern, instead) in alternatives.items():
            match = pattern.search(lowered)
            if match and phrase not in seen:
                seen.add(phrase)
                findings.append(Finding(str(path), line, column + _column_of(sentence, match.start()), "warning",
                                        "plainer-word", f"'{sentence[match.start():match.end()]}': try '{instead}'"))
        covered = {m.span() for m in glossary.finditer(sentence)} if glossary else set()
        for match in scripts.UNIT.finditer(sentence):
            word = match.group()
            key = word.lower()
            if script_of(word) in scripts.UNSPACED or key in seen or any(a <= match.start() < b for a, b in covered) or facts_of.is_medicine(word) \
                    or not hard(word, lang):
                continue
            seen.add(key)
            if _explained(word, sentence, lang):
                continue
            findings.append(Finding(str(path), line, column + _column_of(sentence, match.start()), "warning",
                                    "hard-word", f"'{word}' is a long, rare word: use an everyday one, explain it "
                                                 "in this sentence, or add it to the glossary"))
    return findings


def _column_of(sentence: str, offset: int) -> int:
    """Columns from a sentence's start to a word in it (exact when the sentence is on one line)."""
    return len(sentence[:offset])


@functools.cache
def plainer_words(lang: str) -> dict[str, tuple[re.Pattern[str], str]]:
    """The language's plainer-word list: phrase -> (pattern of its forms, what to try instead)."""
    path = LEXICON / f"plainer-{lang}.tsv"
    if not path.exists():
        return {}
    found = {}
    for row in path.read_text(encoding="utf-8").splitlines():
        if not row.strip() or row.startswith("#"):
            continue
        phrase, instead, *_ = row.split("\t")
        *head, last = phrase.split()
        forms = "|".join(re.escape(form) for form in _forms(last, lang))
        words = r"\s+".join([*(re.escape(w) for w in head), f"(?:{forms})"])
        found[phrase] = (re.compile(rf"(?<![\w-]){words}(?![\w-])"), instead)
    return found


def _forms(word: str, lang: str) -> set[str]:
    """A word and its plural, past and -ing forms (the forms the lint matches)."""
    forms = {word, word + "s", word + "es"}
    if lang != "en":
        return forms
    stem = word[:-1] if word.endswith("e") else word
    forms |= {word + "d" if word.endswith("e") else word + "ed", stem + "ing"}
    if word.endswith("y") and len(word) > 3:
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    return forms


def hard(word: str, lang: str) -> bool:
    """A long, rare word: three syllables or more (four in Spanish) and seldom met in everyday text
    (wordfreq's Zipf frequency under `lint_rare_zipf`, about once in a million words)."""
    if not word.isalpha() or word.isupper():  # numbers and acronyms are other rules' business
        return False
    if lang == "en":
        if readability.syllables(word) < 3:
            return False
    elif lang == "es":
        if readability.spanish_syllables(word) < 4:
            return False
    elif len(word) < 10:
        return False
    return zipf_frequency(word, lang) < float(setting("lint_rare_zipf"))


def _explained(word: str, sentence: str, lang: str) -> bool:
    """Whether the sentence says what the word is called or means right beside it."""
    pattern = EXPLAINED.get(lang, EXPLAINED["en"]).format(w=re.escape(word))
    return re.search(pattern, sentence, re.I) is not None


def glossary_rules(path: Path, doc: Document, lines: list[str], plain: dict[str, Region]) -> list[Finding]:
    """Glossary terms neither rendition uses, and terms the plain text uses before it explains them
    (explaining a term in the sentence that uses it, or the very next one, is what plain writing does)."""
    findings = []
    lang = primary(doc.meta.lang)
    written = [s for s in doc.sections if not s.unwritten]
    spoken = [(section, sentence) for section in written for block in section.plain_text.split("\n\n")
              for sentence in readability.sentences(block)]
    for term in doc.meta.glossary:
        pattern = term_pattern([term])
        term_line = next((n for n, line in enumerate(lines, 1)
                          if re.match(rf"\s+[\"']?{re.escape(term)}[\"']?\s*:", line)), 2)
        uses = [i for i, (_, sentence) in enumerate(spoken) if pattern.search(sentence)]
        if not uses and not any(pattern.search(p) for s in doc.sections for p in s.full_passages):
            findings.append(Finding(str(path), term_line, 1, "warning", "glossary-unused",
                                    f"glossary term '{term}' is used in no section; use it or remove it"))
            continue
        explained = next((i for i in uses if _explained(term, spoken[i][1], lang)), None)
        if uses and explained is not None and explained > uses[0] + 1:
            line = plain[spoken[uses[0]][0].id].locate(spoken[uses[0]][1], advance=False)[0]
            later = plain[spoken[explained][0].id].locate(spoken[explained][1], advance=False)[0]
            findings.append(Finding(str(path), line, 1, "warning", "glossary-order",
                                    f"'{term}' is used here before the plain text explains it (line {later}); "
                                    "explain it at its first use"))
    return findings


MARKUP = re.compile(r"^[ \t]*:::[^\n]*|\{[^}\n]*\}", re.M)


def pronunciation_rule(path: Path, doc: Document, text: str) -> list[Finding]:
    """Each word an English voice would have to guess at, once, where the body first uses it."""
    if primary(doc.meta.lang) != "en":
        return []
    lexicon = lexicon_for(doc.meta.lang, doc.meta.pronounce)
    body = text.find("\n---", 3) + 4
    findings, seen = [], set()
    said = MARKUP.sub(lambda m: " " * len(m.group()), text[body:])  # a div's class, {icon=pill}: never said
    for match in re.finditer(r"(?<![\w/.@#-])[A-Za-z]+(?![\w/@-])", said):
        word = match.group()
        if word.lower() in seen or not unsure(word, lexicon):
            continue
        seen.add(word.lower())
        line, column = position(text, body + match.start())
        findings.append(Finding(str(path), line, column, "warning", "pronounce",
                                f"'{word}' is in no dictionary or lexicon: say how it is said in `pronounce:` "
                                f"(IPA between slashes or a respelling like lim-fuh-DEE-muh)"))
    return findings


def report(findings: list[Finding], style: str) -> str:
    """The findings as lines (`text`) or as a JSON list (`json`, for editors)."""
    if style == "json":
        return json.dumps([asdict(f) for f in findings], ensure_ascii=False, indent=1)
    return "\n".join(str(f) for f in findings)
