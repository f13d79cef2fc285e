"""The braille edition: `NAME.brf` (Braille Ready Format, North American ASCII braille) and
`NAME.pef` (PEF 1.0, the same pages in Unicode braille), 40 cells by 25 lines a page.

Every word is translated by liblouis (`lou_translate`, Debian's liblouis-bin) with the table its
metadata names for the source's language and the chosen grade: Unified English Braille contracted
(grade 2) by default for English, `--braille-grade 1` for uncontracted. Nothing here translates
text itself; it lays out what liblouis wrote, after the basics of BANA *Braille Formats*:

- a title page (title, subtitle, publisher, date, the braille code, volumes and pages, and a
  transcriber's note that the edition was made automatically), then a contents page with each
  question's braille page number after guide dots;
- centred main headings ("Contents", "Words to know") with a blank line before, each question at
  the margin with a blank line before and never alone at the foot of a page;
- paragraphs from cell 3 with runovers at cell 1, list items and table rows from cell 1 with
  runovers at cell 3 (a table in listed form, each cell named by its column, as the narration
  reads it), notes and picture descriptions where they stand;
- the braille page number at the right of line 25; no line over 40 cells and no word split
  across lines (a braille word longer than a line is the only exception).

Each question is followed by its answer as the `print` setting chooses (the same choice as the PDF's:
both, by default, the plain answer and then, under a "More detail" sub-heading from cell 5, the
original wording; or plain, or full), then come the glossary and the care-team line. Same source,
same bytes.

What the handout's table has no cells for is never left to liblouis's hex escapes ('\\XJFDE'): words
in another script are written with that script's own table (Arabic braille for Arabic words, as
BANA's guidance for foreign material allows), the paragraph where a script first comes opening
with a transcriber's note saying so, or named in a note where no table writes the script; emoji
by name as the narration says them, joiners and selectors dropped; a lone letter liblouis would
read back as its wordsign ("C++" as "Can++") given the grade 1 indicator.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import functools
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from .. import formats
from ..engine.cache import write_atomic
from ..errors import PipelineError, SourceError, Unavailable
from ..language.scripts import script_of
from ..language.words import N_, Words, words_for
from ..manifest import Manifest
from ..model import Document

if TYPE_CHECKING:
    from ..engine.build import BuildOptions

NAME = "braille"
LABEL = N_("braille edition")
ARTICLED = N_("a braille edition")
RANK = 50
NEEDS: tuple[str, ...] = ()
PRINT_EDITIONS = ("both", "plain", "full")
SETTINGS = (formats.Setting("braille_grade", "braille grade: 2 contracted (Unified English Braille for English), "
                                             "1 uncontracted", int, (1, 2), flag="--braille-grade"),
            formats.Setting("print", "the answers the print editions (PDF, braille) hold: both (plain words, then "
                                     "'More detail' with the full text), plain or full", choices=PRINT_EDITIONS,
                            flag="--print"))
MORE_DETAIL = N_("More detail")
CALL = N_("Call {contact}.")  # where to call, after the care-team line (the narration's closing too)
NOTES = {  # the transcriber's note, saying what this edition holds
    "full": N_("Transcriber's note: this braille edition was made automatically from the same source as the "
               "print handout. It holds the full text of every question, then the words to know."),
    "plain": N_("Transcriber's note: this braille edition was made automatically from the same source as the "
                "print handout. It holds every answer in plain words, then the words to know."),
    "both": N_("Transcriber's note: this braille edition was made automatically from the same source as the "
               "print handout. It holds every answer in plain words, then in more detail, then the words to know."),
}

CELLS = 40
LINES = 25
TEXT_LINES = LINES - 1  # line 25 carries the braille page number
PEF_NS = "http://www.daisy.org/ns/2008/pef"
DISPLAY = "en-us-brf.dis"  # liblouis's North American ASCII braille: what BRF files hold
TABLES_DIR = Path(os.environ.get("LOUIS_TABLEPATH", "/usr/share/liblouis/tables").split(",")[0])
GRADES = {2: ("full", "partial", "no"), 1: ("no",)}  # liblouis `contraction` metadata, best first
CODE_NAMES = {"full": N_("contracted"), "partial": N_("partly contracted"), "no": N_("uncontracted")}
GUIDE_DOT = '"'  # dot 5 in ASCII braille: the guide dots of a contents line


def published(name: str) -> tuple[formats.Publication, ...]:
    """The braille file embossers and braille displays read, and the same pages as PEF."""
    return (
        formats.Publication(f"{name}.brf", N_("Braille (BRF)"), "BRF",
                            N_("Braille Ready File, for a braille display or embosser"), extent=braille_pages),
        formats.Publication(f"{name}.pef", N_("Braille (PEF)"), "PEF", N_("Portable Embosser Format, Unicode braille"),
                            extent=braille_pages),
    )


def braille_pages(path: Path, say: Words) -> str:
    """How many braille pages a built BRF or PEF holds, for the library page."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return ""
    count = content.count("<page") if path.suffix == ".pef" else len(brf_pages(content))
    return say.plural("{count} braille page", "{count} braille pages", count)


def brf_pages(content: str) -> list[list[str]]:
    """The pages of a BRF, each a list of lines (form feed between pages, CR LF between lines)."""
    pages = content.split("\f")
    if pages and not pages[-1].strip("\r\n"):
        pages.pop()
    return [page.removesuffix("\r\n").split("\r\n") if page else [] for page in pages]


# --- liblouis -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    """The liblouis translation table chosen for a document, and what readers call its code."""

    file: str
    contraction: str
    system: str
    direction: str

    @property
    def tables(self) -> str:
        """The table list `lou_translate` takes: ASCII braille display, then the translation table."""
        return f"{DISPLAY},{self.file}"

    def code(self, say: Words) -> str:
        """The braille code in words, for the title page: "Unified English Braille, contracted"."""
        system = say("Unified English Braille") if self.system == "ueb" else say("Braille")
        return f"{system}, {say(CODE_NAMES.get(self.contraction, self.contraction))}"


@functools.cache
def table_metadata() -> dict[str, dict[str, str]]:
    """Each liblouis table's metadata (`#+key: value` lines at its top), by file name."""
    found: dict[str, dict[str, str]] = {}
    if not TABLES_DIR.is_dir():
        return found
    for path in sorted(TABLES_DIR.iterdir()):
        if path.suffix not in (".ctb", ".utb", ".tbl"):
            continue
        fields: dict[str, str] = {}
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle):
                if number > 80:
                    break
                match = re.match(r"#\+\s*([\w-]+)\s*:\s*(.+?)\s*$", line)
                if match:
                    fields[match.group(1).lower()] = match.group(2)
        if fields:
            found[path.name] = fields
    return found


def _literary(language: str, region: str, order: tuple[str, ...]) -> Table | None:
    """The six-dot literary table for a language, the first contraction of `order` it has."""
    candidates = [(name, fields) for name, fields in table_metadata().items()
                  if fields.get("language", "").lower().split("-")[0] == language
                  and fields.get("type", "literary") == "literary" and fields.get("dots", "6") == "6"]
    for contraction in order:
        fitting = [(name, fields) for name, fields in candidates if fields.get("contraction", "no") == contraction]
        if fitting:
            name, fields = min(fitting, key=lambda item: (
                item[1].get("system") != "ueb",                      # English: UEB, the code the US adopted
                item[1].get("direction", "both") != "both",         # one that also back-translates
                item[1].get("region", "").lower() not in ("", region),
                len(item[0]), item[0]))
            return Table(name, contraction, fields.get("system", ""), fields.get("direction", "both"))
    return None


# Tables chosen by name: Arabic braille is read uncontracted (and liblouis's contracted Arabic table
# back-translates "555" as "لم٥٥"), and Debian's Hebrew table names no language in its metadata.
UNCONTRACTED = {"ar": "ar-ar-g1.utb", "he": "he-IL.utb"}
LIBLOUIS_LANGUAGES = {"zh": "cmn"}  # liblouis's metadata names Mandarin braille by its ISO 639-3 code


def unavailable(doc: Document, options: BuildOptions) -> str:
    """Why there is no braille edition of this handout here (no liblouis table for its language), or ""."""
    try:
        table_for(doc, options.value("braille_grade"))
    except Unavailable as why:
        return str(why)
    return ""


def table_for(doc: Document, grade: int) -> Table:
    """The liblouis literary table for the document's language at the grade asked for (or the most
    contracted one there is below it); Unavailable, naming the language, when there is none."""
    language = doc.meta.lang.split("-")[0].lower()
    if language in UNCONTRACTED:  # a language whose readers read it uncontracted, from a table named outright
        return Table(UNCONTRACTED[language], "no", "", "both")
    table = _literary(LIBLOUIS_LANGUAGES.get(language, language), doc.meta.lang.lower(), GRADES[grade])
    if table:
        return table
    raise Unavailable(f"no braille edition: liblouis has no braille table for the language '{doc.meta.lang}' "
                      f"(looked in {TABLES_DIR})")


# Words in another script are written in that script's own braille (BANA's guidance for foreign
# material in UEB): Unicode's name of the script -> its ISO 15924 code (for its name in the
# handout's language), the languages whose liblouis tables write it, best first, and a table named
# outright where no table's metadata names the language (Debian's Hebrew table says `language: en`).
OTHER_SCRIPTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "ARABIC": ("Arab", ("ar", "fa"), ""), "HEBREW": ("Hebr", ("he",), "he-IL.utb"),
    "CYRILLIC": ("Cyrl", ("ru", "uk", "bg", "sr"), ""), "CJK": ("Hani", ("cmn", "zh"), ""),
    "HANGUL": ("Hang", ("ko",), ""), "GREEK": ("Grek", ("el",), ""), "DEVANAGARI": ("Deva", ("hi", "mr", "ne"), ""),
    "HIRAGANA": ("Hira", ("ja",), ""), "KATAKANA": ("Kana", ("ja",), ""), "THAI": ("Thai", ("th",), ""),
    "ARMENIAN": ("Armn", ("hy",), ""), "GEORGIAN": ("Geor", ("ka",), ""), "ETHIOPIC": ("Ethi", ("am",), ""),
    "BENGALI": ("Beng", ("bn",), ""), "TAMIL": ("Taml", ("ta",), ""),
}
FOREIGN_GRADES = ("no", "partial", "full")  # a foreign word uncontracted where its code allows
TN_OPEN, TN_CLOSE = "@.<", "@.>"  # UEB's transcriber's note indicators (dots 4 46 126, dots 4 46 345)
ESCAPE = re.compile(r"\\[xXyY][0-9A-Ja-j]")  # liblouis's escape for a character it cannot write: '\XJFDE'


@functools.cache
def script_table(script: str) -> Table | None:
    """The table that writes words in another script (Arabic braille for Arabic words): by the
    script's languages as `table_for` picks one, uncontracted where there is such a table."""
    _code, languages, named = OTHER_SCRIPTS.get(script, ("", (), ""))
    for language in languages:
        table = _literary(language, "", FOREIGN_GRADES)
        if table:
            return table
    fields = table_metadata().get(named)
    return Table(named, fields.get("contraction", "no"), fields.get("system", ""),
                 fields.get("direction", "both")) if fields else None


@functools.cache
def _liblouis() -> ctypes.CDLL:
    """liblouis's C library (Debian's liblouis20), loaded once."""
    found = ctypes.util.find_library("louis")
    try:
        library = ctypes.CDLL(found or "liblouis.so.20")
    except OSError:
        raise PipelineError("braille needs liblouis: run `make` as root, or `apt-get install liblouis-bin`") from None
    for name in ("lou_translateString", "lou_backTranslateString"):
        function = getattr(library, name)
        function.restype = ctypes.c_int
        function.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.c_void_p,
                             ctypes.POINTER(ctypes.c_int), ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    library.lou_charSize.restype = ctypes.c_int
    return library


def louis(lines: list[str], tables: str, backward: bool = False) -> list[str]:
    """Each text line translated to braille (or braille back to text) by liblouis, one call a line."""
    library = _liblouis()
    size = library.lou_charSize()
    codec, unit = ("utf-32-le", ctypes.c_uint32) if size == 4 else ("utf-16-le", ctypes.c_uint16)
    function = library.lou_backTranslateString if backward else library.lou_translateString
    out: list[str] = []
    for line in lines:
        text = " ".join(line.split())
        if not text:
            out.append("")
            continue
        encoded = text.encode(codec)
        length = len(encoded) // size
        source = (unit * length).from_buffer_copy(encoded)
        room = length * 4 + 64
        while True:
            target = (unit * room)()
            used, made = ctypes.c_int(length), ctypes.c_int(room)
            if not function(tables.encode(), source, ctypes.byref(used), target, ctypes.byref(made), None, None, 0):
                raise PipelineError(f"liblouis could not translate with {tables}")
            if used.value >= length or room > length * 64:
                break
            room *= 2  # the braille did not fit: liblouis stopped early
        out.append(_ascii_cells(bytes(target)[: made.value * size].decode(codec).rstrip()))
    return out


def _ascii_cells(braille: str) -> str:
    """Braille with any six-dot Unicode cell a table writes directly (the Russian one does, past its
    display table) as the ASCII braille character for the same dots, as BRF holds it."""
    if not any("\u2800" <= char <= "\u283f" for char in braille):
        return braille
    ascii_of = {cell: char for char, cell in unicode_cells().items()}
    return "".join(ascii_of.get(char, char) for char in braille)


# Symbols a handout uses that some braille tables have no cells for (Spanish has no degree sign):
# written as their names in the handout's language instead of liblouis's escapes.
SYMBOL_WORDS = {"°": N_("degrees"), "≤": N_("at most"), "≥": N_("at least"), "™": N_("trademark"),
                "®": N_("registered trademark"), "→": N_("to"), "§": N_("section"), "¶": N_("paragraph"),
                "✓": N_("yes"), "✔": N_("yes"), "☎": N_("phone"), "•": "", "·": ""}


def brailled(texts: list[str], table: Table, say: Words, noted: set[str] | None = None) -> list[str]:
    """Each print line in ASCII braille, never with a liblouis escape: the handout's words by its
    table, a run of another script by that script's table (the line where a script first comes, in
    `noted`'s reading order, opening with a transcriber's note on it), or named in a note when no
    table writes it."""
    out = []
    for text in texts:
        notes: list[str] = []
        said = "".join(_run_braille(piece, script, table, say, noted, notes) for piece, script in runs(text, table))
        out.append(" ".join(" ".join([*notes, said]).split()))
    return out


def runs(text: str, table: Table) -> list[tuple[str, str]]:
    """The line cut into (text, script) runs: script "" for what the handout's table writes, else
    the Unicode name of a script it has no cells for (ARABIC), with that script's marks and its
    own punctuation; spaces inside a run belong to it, those around it to the text beside it."""
    pieces: list[tuple[str, str]] = []
    for char, script in zip(text, _foreign_scripts(text, table)):
        last = pieces[-1][1] if pieces else ""
        if not script and last and (unicodedata.category(char).startswith("M") or char.isspace()
                                    or unicodedata.name(char, "").startswith(last + " ")):
            script = last  # a mark, a space or a punctuation mark of the script inside its run
        if pieces and pieces[-1][1] == script:
            pieces[-1] = (pieces[-1][0] + char, script)
        else:
            pieces.append((char, script))
    out: list[tuple[str, str]] = []
    for piece, script in pieces:
        trailing = piece[len(piece.rstrip()):] if script else ""
        for part, kind in ((piece[: len(piece) - len(trailing)], script), (trailing, "")):
            if not part:
                continue
            if out and out[-1][1] == kind:
                out[-1] = (out[-1][0] + part, kind)
            else:
                out.append((part, kind))
    return out


def _foreign_scripts(text: str, table: Table) -> list[str]:
    """Each character's script when it is in a word the handout's table cannot write (Arabic in
    English, a Greek word with an accent UEB has no cell for), else ""."""
    scripts = [""] * len(text)
    for match in re.finditer(r"\w+", text):
        word = match.group(0)
        script = script_of(word)
        if script != "LATIN" and any(c.isalpha() and not c.isascii() and not _drawable(c, table.tables) for c in word):
            scripts[match.start():match.end()] = [script] * len(word)
    return scripts


def _run_braille(piece: str, script: str, table: Table, say: Words, noted: set[str] | None, notes: list[str]) -> str:
    """One run in braille, with the spaces around it kept."""
    return _spaced(piece, _foreign(piece.strip(), script, table, say, noted, notes) if script
                   else _own(writable(piece, table, say), table))


def _own(text: str, table: Table) -> str:
    """Text in the handout's table, a word liblouis would read back wrong ("C++" as "Can++") written
    with the grade 1 indicator that makes it unambiguous."""
    chunks: list[tuple[str, str]] = []  # (print, braille when the word needs its own)
    at = 0
    for match in re.finditer(r"\S+", text):
        core = match.group(0).strip(OPENING + CLOSING)
        fixed = _grade_1(core, table) if core else ""
        if fixed:
            start = match.start() + match.group(0).index(core)
            chunks += [(text[at:start], ""), (core, fixed)]
            at = start + len(core)
    chunks.append((text[at:], ""))
    return "".join(_spaced(part, said or (louis([part], table.tables)[0] if part.strip() else ""))
                   for part, said in chunks).strip()


def _spaced(text: str, said: str) -> str:
    """Braille for a piece of a line with the spaces the print had around it."""
    if not said:
        return " " if text.strip() != text else ""
    return (" " if text[:1].isspace() else "") + said + (" " if text[-1:].isspace() else "")


OPENING, CLOSING = "([{\"'“‘", ")]}\"'”’,;:!?"
LONE_LETTER = re.compile(r"(?<![^\W_])[^\W\d_](?![^\W_])")


@functools.cache
def _grade_1(word: str, table: Table) -> str:
    """A word with a lone letter ("C++", "e.g.") that contracted UEB writes so that it reads back
    as another word (the letter as its wordsign: "can", "go"): its braille with the grade 1 symbol
    (or word) indicator that reads back right; "" for every other word."""
    if table.system != "ueb" or table.contraction == "no" or not LONE_LETTER.search(word) or not word.isascii():
        return ""
    said = louis([word], table.tables)[0]
    if louis([said], table.tables, backward=True)[0] == word:
        return ""
    return next((f"{indicator}{said}" for indicator in (";", ";;")
                 if louis([f"{indicator}{said}"], table.tables, backward=True)[0] == word), "")


def _foreign(text: str, script: str, table: Table, say: Words, noted: set[str] | None, notes: list[str]) -> str:
    """Words in another script in that script's braille, a transcriber's note on it added to
    `notes` the first time; named in a note where no table writes them."""
    foreign = script_table(script)
    said = written(text, foreign) if foreign else ""
    if not said:
        name = script_name(script, say)
        note = say(N_("(words in {script} script)"), script=name) if name else say(N_("(words in another script)"))
        return louis([note], table.tables)[0]
    if noted is not None and script not in noted:
        noted.add(script)
        notes.append(_transcribers_note(say(N_("words in {script} script are in {language} braille"),
                                            script=script_name(script, say),
                                            language=braille_language(foreign, script, say)), table))
    return said


def _transcribers_note(note: str, table: Table) -> str:
    """A transcriber's note between UEB's indicators (in another code, in parentheses)."""
    if table.system == "ueb":
        return f"{TN_OPEN}{louis([note], table.tables)[0]}{TN_CLOSE}"
    return louis([f"({note})"], table.tables)[0]


def written(text: str, table: Table) -> str:
    """Text in another script's table, its optional vowel marks left out if the table has no cells
    for them; "" when the table cannot write it without an escape."""
    for attempt in (text, "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.category(c).startswith("M"))):
        said = louis([attempt], table.tables)[0]
        if said and not ESCAPE.search(said) and all(cell in unicode_cells() for cell in said):
            return said
    return ""


def script_name(script: str, say: Words) -> str:
    """A script's name in the handout's language ("Arabic", Spanish "árabe"), from CLDR."""
    code = OTHER_SCRIPTS.get(script, ("",))[0]
    return _cldr(say.language).scripts.get(code, "") if code else ""


def braille_language(table: Table, script: str, say: Words) -> str:
    """The language a table is the braille of, in the handout's language ("Arabic" braille)."""
    language = table_metadata().get(table.file, {}).get("language", "").split("-")[0].lower()
    names = _cldr(say.language).languages
    if language == "cmn" or language not in names or language == "en":
        language = OTHER_SCRIPTS[script][1][0]
    return names.get(language, "") or names.get(OTHER_SCRIPTS[script][1][-1], script.title())


@functools.cache
def _cldr(language: str) -> Any:
    """Babel's locale data for a language (English when it has none)."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


# An emoji's skin tone, variation selectors, keycap and tag characters: parts of one emoji, never said.
EMOJI_PARTS = re.compile("[\ufe0e\ufe0f\u20e3\U0001F3FB-\U0001F3FF\U000E0020-\U000E007F]")
ZWJ = "\u200d"


def writable(text: str, table: Table, say: Words) -> str:
    """Text the table can write in ASCII braille: an emoji by its name (one name for a zero-width-
    joined sequence), a symbol it has no cell for by its name in the handout's language (or, for
    one no list names, left out), joiners and other invisible format characters dropped, a letter
    with a mark the table has no cell for written without that mark; never an escape."""
    text = _emoji_named(text, table, say)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf" and not EMOJI_PARTS.match(c)
                   and not (0xE0100 <= ord(c) <= 0xE01EF))
    for char in sorted({c for c in text if not c.isascii() and not unicodedata.category(c).startswith(("L", "N"))}):
        if _drawable(char, table.tables):
            continue
        name = say(SYMBOL_WORDS[char]) if SYMBOL_WORDS.get(char) else ""
        text = text.replace(char, "" if unicodedata.category(char).startswith("M") else f" {name} " if name else " ")
    for char in sorted({c for c in text if c.isalpha() and not c.isascii() and not _drawable(c, table.tables)}):
        bare = "".join(c for c in unicodedata.normalize("NFD", char) if _drawable(c, table.tables) or c.isascii())
        text = text.replace(char, bare)
    return text


def _emoji_named(text: str, table: Table, say: Words) -> str:
    """Each emoji the table cannot write as its Unicode name in parentheses, as the narration says
    it (in English; in another language left out, as the narration leaves it unsaid); a sequence
    joined by zero-width joiners ("man, woman, girl") is one emoji with one name."""
    out: list[str] = []
    at = 0
    while at < len(text):
        char = text[at]
        if not _emoji(char, table):
            out.append(char)
            at += 1
            continue
        end, names = at + 1, [unicodedata.name(char, "").lower()]
        while True:
            while end < len(text) and EMOJI_PARTS.match(text[end]):
                end += 1
            if end + 1 < len(text) and text[end] == ZWJ and _emoji(text[end + 1], table):
                names.append(unicodedata.name(text[end + 1], "").lower())
                end += 2
                continue
            break
        named = ", ".join(n for n in names if n)
        out.append(f" ({named}) " if named and say.language == "en" and not say.fallback else " ")
        at = end
    return "".join(out)


def _emoji(char: str, table: Table) -> bool:
    """Whether a character is a pictograph the table has no cell for."""
    return unicodedata.category(char) == "So" and not char.isascii() and not _drawable(char, table.tables)


@functools.cache
def _drawable(char: str, tables: str) -> bool:
    """Whether the tables write this character in ASCII braille cells, without an escape (asked
    alone: a Persian table writes no Latin "a", so a probe wrapped in "a"s called every Persian
    letter unwritable and the letters were dropped)."""
    said = louis([char], tables)[0]
    return not ESCAPE.search(said) and all(cell in unicode_cells() for cell in said)


@functools.cache
def unicode_cells() -> dict[str, str]:
    """ASCII braille character -> Unicode braille cell, from liblouis's own display table."""
    cells = {" ": "\u2800"}
    for line in (TABLES_DIR / DISPLAY).read_text(encoding="utf-8").splitlines():
        match = re.match(r"display\s+(\S+)\s+(\d+)\s*$", line)
        if not match:
            continue
        char = {"\\s": " "}.get(match.group(1), match.group(1).replace("\\\\", "\\"))
        dots = 0 if match.group(2) == "0" else sum(1 << (int(d) - 1) for d in match.group(2))
        cells[char] = chr(0x2800 + dots)
    return cells


# --- layout ---------------------------------------------------------------------------------------

@dataclass
class Pages:
    """Braille pages filled line by line: 24 lines of text, the page number on line 25."""

    pages: list[list[str]] = field(default_factory=lambda: [[]])

    @property
    def room(self) -> int:
        """Lines left on the current page."""
        return TEXT_LINES - len(self.pages[-1])

    def line(self, text: str) -> None:
        """One line of text (at most 40 cells), on a new page when this one is full."""
        if self.room == 0:
            self.pages.append([])
        self.pages[-1].append(text)

    def blank(self) -> None:
        """A blank line, unless the page is just starting."""
        if self.pages[-1] and self.room > 0:
            self.pages[-1].append("")

    def block(self, lines: list[str], keep: int = 1, before: bool = False) -> None:
        """Lines that must start with at least `keep` of them on one page (a heading and what
        follows it); a blank line before them if `before`."""
        if before and self.pages[-1] and self.room < keep + 1:
            self.new_page()
        elif self.room < keep:
            self.new_page()
        if before:
            self.blank()
        for text in lines:
            self.line(text)

    def new_page(self) -> None:
        """Start a new page (never leaves an empty one behind)."""
        if self.pages[-1]:
            self.pages.append([])


def wrap(braille: str, first: int = 0, rest: int = 0, width: int = CELLS) -> list[str]:
    """Braille text in lines of at most `width` cells: the first from cell `first` + 1, runovers from
    `rest` + 1, words never split (but a word longer than a line, which cannot fit otherwise)."""
    lines: list[str] = []
    current = " " * first
    for word in braille.split():
        if current.strip():
            if len(current) + 1 + len(word) <= width:
                current += " " + word
                continue
            lines.append(current)
            current = " " * rest
        while len(current) + len(word) > width:
            room = width - len(current)
            lines.append(current + word[:room])
            word, current = word[room:], " " * rest
        current += word
    if current.strip():
        lines.append(current)
    return lines


def centred(braille: str) -> list[str]:
    """Braille text centred on the 40-cell line (wrapped first when longer)."""
    return [" " * ((CELLS - len(line)) // 2) + line for line in wrap(braille, 0, 0)]


def body_blocks(doc: Document, edition: str = "both") -> list[tuple[str, str]]:
    """(kind, print text) of the body in reading order: a question, then its answer in the print
    edition's renditions (paragraphs, items and rows as the reading order has them, "More detail"
    between the two), then the glossary and the care-team line."""
    say = words_for(doc.meta.lang)
    blocks: list[tuple[str, str]] = []
    for section in doc.sections:
        blocks.append(("question", section.title))
        if edition in ("plain", "both"):
            blocks += answer_blocks(section.plain_pieces)
        if edition == "both":
            blocks.append(("subheading", say(MORE_DETAIL)))
        if edition in ("full", "both"):
            blocks += answer_blocks(section.pieces)
    if doc.meta.glossary:
        blocks.append(("centred", say("Words to know")))
        for term in sorted(doc.meta.glossary, key=str.lower):
            blocks.append(("item", f"{term}: {doc.meta.glossary[term]}"))
    call = f" {say(CALL, contact=doc.meta.contact)}" if doc.meta.contact else ""
    blocks.append(("closing", formats.care_team_line(doc, say) + call))
    return blocks


def answer_blocks(pieces: tuple[Any, ...]) -> list[tuple[str, str]]:
    """One rendition's paragraphs, items and rows, each piece with its print number (BANA)."""
    blocks: list[tuple[str, str]] = []
    group, kind, words = None, "", []
    for piece in pieces:
        if piece.group != group and words:
            blocks.append((kind, " ".join(words)))
            words = []
        group, kind = piece.group, ("item" if piece.kind in ("item", "row", "line") else "paragraph")
        words.append(f"{piece.marker} {piece.text}" if piece.marker else piece.text)
    if words:
        blocks.append((kind, " ".join(words)))
    return blocks


def lay_out_body(blocks: list[tuple[str, str]], braille: list[str], pages: Pages) -> dict[int, int]:
    """Lay the body out; returns the page index (in `pages`) where each question starts."""
    starts: dict[int, int] = {}
    for index, ((kind, _text), said) in enumerate(zip(blocks, braille)):
        if kind == "question":
            lines = wrap(said, 0, 2)
            pages.block(lines, keep=len(lines) + 1, before=True)
            starts[index] = len(pages.pages) - 1
        elif kind == "centred":
            lines = centred(said)
            pages.block(lines, keep=len(lines) + 1, before=True)
        elif kind == "subheading":  # BANA: a minor heading in cell 5, never alone at a page's foot
            lines = wrap(said, 4, 4)
            pages.block(lines, keep=len(lines) + 1, before=True)
        elif kind == "closing":
            pages.block(wrap(said, 2, 0), keep=2, before=True)
        elif kind == "item":
            pages.block(wrap(said, 0, 2))
        else:
            pages.block(wrap(said, 2, 0))
    return starts


def contents_lines(entries: list[tuple[str, str]]) -> list[str]:
    """Contents entries: the question from cell 1 (runovers cell 3), then at least two guide dots
    and its braille page number at the right margin, on the entry's last line."""
    lines: list[str] = []
    for title, number in entries:
        wrapped = wrap(title, 0, 2, width=CELLS - len(number) - 4)
        dots = CELLS - len(wrapped[-1]) - len(number) - 2
        lines += wrapped[:-1] + [f"{wrapped[-1]} {GUIDE_DOT * dots} {number}"]
    return lines


FRONT = ("title", "subtitle", "publisher", "date", "code", "contents", "note")


def edition(doc: Document, table: Table, chosen: str = "both") -> list[list[str]]:
    """Every page of the edition (`chosen`: both, plain or full answers), as lines of ASCII braille
    (page numbers on line 25)."""
    blocks = body_blocks(doc, chosen)
    meta = doc.meta
    say = words_for(meta.lang)
    front_print = [meta.title, meta.subtitle, meta.publisher, say.date(meta.date), table.code(say), say("Contents"),
                   say(NOTES[chosen])]
    noted: set[str] = set()  # scripts whose transcriber's note has been given, in reading order
    front = dict(zip(FRONT, brailled(front_print, table, say, noted)))
    body = brailled([text for _kind, text in blocks], table, say, noted)
    body_pages = Pages()
    starts = lay_out_body(blocks, body, body_pages)
    questions = [index for index, (kind, _text) in enumerate(blocks) if kind == "question"]
    title_count = len(title_pages(front, "").pages)
    contents_count = 1
    for _ in range(3):  # the contents' length and the numbers' widths settle in a round or two
        first_body = title_count + contents_count + 1
        total = first_body - 1 + len(body_pages.pages)
        numbers = dict(zip(range(1, total + 1), louis([str(n) for n in range(1, total + 1)], table.tables)))
        contents = contents_pages(front["contents"], [(body[i], numbers[first_body + starts[i]]) for i in questions])
        if len(contents.pages) == contents_count:
            break
        contents_count = len(contents.pages)
    extent = say.plural("1 volume, {count} braille page", "1 volume, {count} braille pages", total)
    title = title_pages(front, louis([writable(extent, table, say)], table.tables)[0])
    pages = title.pages + contents.pages + body_pages.pages
    return [numbered(page, numbers[n] if n > len(title.pages) else "") for n, page in enumerate(pages, start=1)]


def title_pages(front: dict[str, str], extent: str) -> Pages:
    """The title page: title and subtitle centred, publisher and date, the braille code, how many
    volumes and pages, and the transcriber's note."""
    page = Pages()
    page.block(centred(front["title"]))
    if front["subtitle"].strip():
        page.block(centred(front["subtitle"]), before=True)
    page.blank()
    for key in ("publisher", "date"):
        if front[key].strip():
            page.block(centred(front[key]))
    page.blank()
    page.block(centred(front["code"]))
    if extent:
        page.block(centred(extent))
    page.blank()
    page.block(wrap(front["note"], 2, 0))
    return page


def contents_pages(heading: str, entries: list[tuple[str, str]]) -> Pages:
    """The contents: its centred heading, a blank line, then one entry per question."""
    pages = Pages()
    pages.block(centred(heading))
    pages.blank()
    for line in contents_lines(entries):
        pages.line(line)
    return pages


def numbered(lines: list[str], number: str) -> list[str]:
    """A page's lines, with its braille page number at the right of line 25."""
    if not number:
        return lines
    return lines + [""] * (TEXT_LINES - len(lines)) + [" " * (CELLS - len(number)) + number]


# --- files ----------------------------------------------------------------------------------------

def brf(pages: list[list[str]]) -> bytes:
    """Braille Ready Format: lines ending CR LF, a form feed after every page."""
    return "".join("\r\n".join(line.rstrip() for line in page) + "\r\n\f" for page in pages).encode("ascii")


def pef(doc: Document, table: Table, pages: list[list[str]], moment: int | None) -> bytes:
    """The same pages as PEF 1.0: Unicode braille rows, 40 columns by 25 rows, one volume."""
    cells = unicode_cells()
    meta = doc.meta
    described = (f"{table.code(words_for('en'))} braille (liblouis table {table.file}), {CELLS} cells by {LINES} lines, "
                 "made automatically")
    date = (dt.datetime.fromtimestamp(moment, dt.timezone.utc).date().isoformat() if moment is not None
            else meta.date)
    head = ["<dc:format>application/x-pef+xml</dc:format>",
            f"<dc:identifier>{escape(meta.identifier or 'faq-pipeline:' + doc.name)}</dc:identifier>",
            f"<dc:title>{escape(meta.title)}</dc:title>", f"<dc:language>{escape(meta.lang)}</dc:language>",
            f"<dc:description>{escape(described)}</dc:description>"]
    if meta.publisher:
        head.append(f"<dc:publisher>{escape(meta.publisher)}</dc:publisher>")
    if date:
        head.append(f"<dc:date>{escape(date)}</dc:date>")
    body = "\n".join(
        "<page>\n" + "\n".join(f"<row>{''.join(cells[c] for c in line.rstrip())}</row>" if line.strip() else "<row/>"
                               for line in page) + "\n</page>"
        for page in pages
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<pef version="2008-1" xmlns="{PEF_NS}">\n<head>\n'
        '<meta xmlns:dc="http://purl.org/dc/elements/1.1/">\n' + "\n".join(head) + "\n</meta>\n</head>\n"
        f'<body>\n<volume cols="{CELLS}" rows="{LINES}" rowgap="0" duplex="false">\n<section>\n'
        f"{body}\n</section>\n</volume>\n</body>\n</pef>\n"
    ).encode("utf-8")


def build(doc: Document, out_dir: Path, options: BuildOptions) -> Manifest:
    """Write NAME.brf and NAME.pef; returns the BRF."""
    table = table_for(doc, options.value("braille_grade"))
    pages = edition(doc, table, options.value("print"))
    brf_file, pef_file = (out_dir / publication.path for publication in published(doc.name))
    write_atomic(pef_file, pef(doc, table, pages, options.source_date_epoch))
    write_atomic(brf_file, brf(pages))
    return Manifest(NAME, brf_file.name)
