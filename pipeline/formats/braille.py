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

The full original text of every section comes first, then the glossary. Same source, same bytes.
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
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from .. import formats
from ..engine.cache import write_atomic
from ..errors import PipelineError, SourceError
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
SETTINGS = (formats.Setting("braille_grade", "braille grade: 2 contracted (Unified English Braille for English), "
                                             "1 uncontracted", int, (1, 2), flag="--braille-grade"),)

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


def table_for(doc: Document, grade: int) -> Table:
    """The liblouis literary table for the document's language at the grade asked for (or the most
    contracted one there is below it); a SourceError naming the language when there is none."""
    language = doc.meta.lang.split("-")[0].lower()
    region = doc.meta.lang.lower()
    candidates = [(name, fields) for name, fields in table_metadata().items()
                  if fields.get("language", "").lower().split("-")[0] == language
                  and fields.get("type", "literary") == "literary" and fields.get("dots", "6") == "6"]
    for contraction in GRADES[grade]:
        fitting = [(name, fields) for name, fields in candidates if fields.get("contraction", "no") == contraction]
        if fitting:
            name, fields = min(fitting, key=lambda item: (
                item[1].get("system") != "ueb",                      # English: UEB, the code the US adopted
                item[1].get("direction", "both") != "both",         # one that also back-translates
                item[1].get("region", "").lower() not in ("", region),
                len(item[0]), item[0]))
            return Table(name, contraction, fields.get("system", ""), fields.get("direction", "both"))
    raise SourceError(doc.source, None, f"liblouis has no braille table for the language '{doc.meta.lang}' "
                                        f"(looked in {TABLES_DIR}); build without braille: --formats "
                                        + ",".join(n for n in formats.names() if n != NAME))


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


def writable(text: str, table: Table, say: Words) -> str:
    """Text the table can write in ASCII braille: a symbol it has no cell for becomes its name in the
    handout's language (or, for one no list names, leaves the line), never an escape or a cell
    outside ASCII braille."""
    for char in sorted({c for c in text if not c.isascii() and not unicodedata.category(c).startswith(("L", "M", "N"))}):
        if _drawable(char, table.tables):
            continue
        name = say(SYMBOL_WORDS[char]) if SYMBOL_WORDS.get(char) else ""
        if not name and say.language == "en" and not say.fallback and unicodedata.category(char) == "So":
            name = f"({unicodedata.name(char, '').lower()})"  # an emoji by its name, as the narration says it
        text = text.replace(char, f" {name} " if name else " ")
    return text


@functools.cache
def _drawable(char: str, tables: str) -> bool:
    """Whether the tables write this character in ASCII braille cells, without an escape."""
    said = louis([f"a{char}a"], tables)[0]
    return not re.search(r"\\[xXyY][0-9A-Fa-fJ]", said) and all(cell in unicode_cells() for cell in said)


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


def body_blocks(doc: Document) -> list[tuple[str, str]]:
    """(kind, print text) of the body in reading order: a question, then its paragraphs, items and
    rows as the reading order has them, then the glossary."""
    blocks: list[tuple[str, str]] = []
    for section in doc.sections:
        blocks.append(("question", section.title))
        group, kind, words = None, "", []
        for piece in section.pieces:
            if piece.group != group and words:
                blocks.append((kind, " ".join(words)))
                words = []
            group, kind = piece.group, ("item" if piece.kind in ("item", "row", "line") else "paragraph")
            words.append(f"{piece.marker} {piece.text}" if piece.marker else piece.text)  # BANA: the print number
        if words:
            blocks.append((kind, " ".join(words)))
    if doc.meta.glossary:
        say = words_for(doc.meta.lang)
        blocks.append(("centred", say("Words to know")))
        for term in sorted(doc.meta.glossary, key=str.lower):
            blocks.append(("item", f"{term}: {doc.meta.glossary[term]}"))
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


def edition(doc: Document, table: Table) -> list[list[str]]:
    """Every page of the edition, as lines of ASCII braille (page numbers on line 25)."""
    blocks = body_blocks(doc)
    meta = doc.meta
    say = words_for(meta.lang)
    front_print = [meta.title, meta.subtitle, meta.publisher, say.date(meta.date), table.code(say), say("Contents"),
                   say("Transcriber's note: this braille edition was made automatically from the same source as the "
                       "print handout. It holds the full text of every question, then the words to know.")]
    said = louis([writable(text, table, say) for text in [text for _kind, text in blocks] + front_print], table.tables)
    body, front = said[: len(blocks)], dict(zip(FRONT, said[len(blocks):]))
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
    title = title_pages(front, louis([extent], table.tables)[0])
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
    pages = edition(doc, table)
    brf_file, pef_file = (out_dir / publication.path for publication in published(doc.name))
    write_atomic(pef_file, pef(doc, table, pages, options.source_date_epoch))
    write_atomic(brf_file, brf(pages))
    return Manifest(NAME, brf_file.name)
