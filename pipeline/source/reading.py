"""A section in reading order: every sentence, list item, table row, picture and note gets an id
and becomes one piece a listener hears, in the order a reader meets it.

The walk rewrites the section's Pandoc blocks once, for every format at the same time:

- each sentence of a paragraph, list item or definition is wrapped in `<span id class="sentence">`;
- each table gets an id, its first column becomes row headers (`<th>`) when it has a header row
  and every row names itself there,
  and each row an id; the narration announces the table (caption, rows, column names) and reads
  each row naming every cell by its column ("Paclitaxel. Day: days 1, 8 and 15. How: ...");
- each picture gets an id and is read as "Picture: <alt text>." after the sentence that shows it;
- each footnote becomes a numbered note reference and a note at the end of the section
  (`<aside role="doc-footnote">` with a link back), read as "Note: ..." after its sentence.
- each callout (`callouts`) becomes a box, `<div class="callout warning" role="note">`, named by its
  visible label (`<p class="callout-label" id>`), which is heard as a piece of its own ("Warning.")
  right before the box's first words and brailled with them ("Warning: Stop and call us ...").

Every id made here is `<prefix><kind><n>`, and the prefix ends in `_` (`where_s3`, `where_t1r2`,
`where_pn1` in the plain rendition): section ids may not contain `_`, so a made id can never be a
section's id, whatever ids the source uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from . import callouts
from .tree import Block, Inline, alt_text, split_sentences, stringify, stringify_blocks
from ..model import Piece
from ..language.words import Words, words_for



@dataclass(frozen=True)
class Marked:
    """A rendition's blocks with ids (notes moved to its end), what is heard, and its words."""

    blocks: list[Block]
    pieces: tuple[Piece, ...]
    text: str
    asides: tuple[str, ...]  # each note's words, then each picture's alt text
    notes: int = 0  # how many of the asides are notes


@dataclass
class _Note:
    """A footnote lifted out of the text: its number, ids and blocks."""

    number: int
    id: str
    ref: str
    blocks: list[Block]


@dataclass
class _Walk:
    """One pass over a rendition: hands out ids and collects pieces and notes in reading order."""

    prefix: str
    say: Words
    counts: dict[str, int] = field(default_factory=dict)
    pieces: list[Piece] = field(default_factory=list)
    notes: list[_Note] = field(default_factory=list)
    pending: list[tuple[str, str, str]] = field(default_factory=list)  # notes and pictures after a sentence
    alts: list[str] = field(default_factory=list)
    group: int = 0
    label: tuple[str, bool] = ("", False)  # a list item's printed number or letter ("2.", "a.") and whether it is a step
    callout: tuple[str, str] = ("", "")  # the label (id, words) of the callout box whose first words are still to come
    depth: int = 0   # how deep in ordered lists the walk is

    def new(self, kind: str) -> str:
        """The next id of this kind: prefix, kind letter(s), number."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return f"{self.prefix}{kind}{self.counts[kind]}"

    def hear(self, target: str, text: str, kind: str, group: int | None = None) -> None:
        """Add a piece (skipping one with no words), then whatever notes and pictures it carried."""
        if text.strip():
            marker, step = self.label
            self.label = ("", False)
            if self.callout[0]:  # the box's label, heard with its first words ("Warning: Stop and call us ...")
                self.pieces.append(Piece(*self.callout, "label", self.group if group is None else group))
                self.callout = ("", "")
            self.pieces.append(Piece(target, " ".join(text.split()), kind, self.group if group is None else group,
                                     marker, step))
        for target_, said, kind_ in self.pending:
            self.group += 1
            self.pieces.append(Piece(target_, said, kind_, self.group))
        if self.pending:
            self.group += 1  # the sentences after a note or picture are a new stretch of the paragraph
        self.pending.clear()

    # --- blocks -------------------------------------------------------------------------------

    def blocks(self, blocks: list[Block], context: str) -> list[Block]:
        """Every block marked, in order."""
        return [self.block(block, context) for block in blocks]

    def block(self, block: Block, context: str) -> Block:
        """One block with ids on what is heard, and its pieces recorded."""
        kind, content = block["t"], block.get("c")
        if kind in ("Para", "Plain"):
            self.group += 1
            return {"t": kind, "c": self.sentences(content, context)}
        if kind == "BulletList":
            return {"t": kind, "c": [self.blocks(item, "item") for item in content]}
        if kind == "OrderedList":
            return {"t": kind, "c": [content[0], self.ordered(content[0], content[1])]}
        if kind == "BlockQuote":
            return {"t": kind, "c": self.blocks(content, context)}
        if kind == "Div" and callouts.kind_of(block):
            return self.boxed(block, context)
        if kind == "Div":
            return {"t": kind, "c": [content[0], self.blocks(content[1], context)]}
        if kind == "DefinitionList":
            return {"t": kind, "c": [
                [self.sentences_new_group(term, "item"), [self.blocks(d, "item") for d in definitions]]
                for term, definitions in content
            ]}
        if kind == "LineBlock":
            return {"t": kind, "c": [self.sentences_new_group(line, "line") for line in content]}
        if kind == "CodeBlock":
            ident = self.new("c")
            self.group += 1
            self.hear(ident, content[1], "code")
            return {"t": kind, "c": [[ident, content[0][1], content[0][2]], content[1]]}
        if kind == "Table":
            return self.table(content)
        if kind == "Figure":
            return self.figure(content)
        return block

    def boxed(self, block: Block, context: str) -> Block:
        """A callout: a box (`role="note"`) named by its visible label, a piece of its own (so read-along
        highlights the label while it is said) heard and brailled with the box's first words."""
        (ident, classes, pairs), inner = block["c"]
        label = self.say(callouts.LABELS[callouts.kind_of(block)])
        label_id = self.new("k")
        self.callout = (label_id, f"{label}:")
        marked = self.blocks(inner, context)
        self.callout = ("", "")  # a box with no words to hear leaves no label for the next one
        shown = raw_block(f'<p class="callout-label" id="{label_id}"{self.say.lang_attr}>{escape(label)}</p>')
        attributes = [*[[k, v] for k, v in pairs if k not in ("role", "aria-labelledby")],
                      ["role", "note"], ["aria-labelledby", label_id]]
        return {"t": "Div", "c": [[ident, classes, attributes], [shown, *marked]]}

    def ordered(self, attributes: list[Any], items: list[list[Block]]) -> list[list[Block]]:
        """The items of a numbered list, each item's first piece carrying its number or letter as the
        page shows it ("2.", "b."); a top-level list of numbers is a list of steps."""
        start, style = attributes[0], attributes[1]["t"]
        self.depth += 1
        marked = []
        for offset, item in enumerate(items):
            self.label = (list_marker(start + offset, style), self.depth == 1 and style in ("Decimal", "DefaultStyle"))
            marked.append(self.blocks(item, "item"))
        self.label = ("", False)
        self.depth -= 1
        return marked

    def sentences_new_group(self, inlines: list[Inline], context: str) -> list[Inline]:
        """A run of inlines that is a block of its own (a term, a line of a line block)."""
        self.group += 1
        return self.sentences(inlines, context)

    def sentences(self, inlines: list[Inline], context: str) -> list[Inline]:
        """The inlines as sentence spans, each heard, followed by the notes and pictures it holds."""
        out: list[Inline] = []
        for sentence in split_sentences(inlines):
            ident = self.new("s")
            marked = self.inlines(sentence)
            if out:
                out.append({"t": "Space"})
            out.append({"t": "Span", "c": [[ident, ["sentence"], []], marked]})
            self.hear(ident, spoken_words(sentence), context)
        return out

    # --- inlines ------------------------------------------------------------------------------

    def inlines(self, inlines: list[Inline], in_figure: bool = False) -> list[Inline]:
        """Inlines with footnotes made note references and pictures given ids (both heard later)."""
        out: list[Inline] = []
        for node in inlines:
            kind, content = node["t"], node.get("c")
            if kind == "Note":
                out.append(self.note(content))
            elif kind == "Image":
                ident = self.new("f")
                self.alts.append(alt_text(node))
                if not in_figure:
                    self.pending.append((ident, self.say("Picture: {words}", words=alt_text(node)), "picture"))
                out.append({"t": kind, "c": [[ident, content[0][1], content[0][2]], self.inlines(content[1]), content[2]]})
            elif kind in ("Emph", "Strong", "Underline", "Strikeout", "SmallCaps", "Superscript", "Subscript"):
                out.append({"t": kind, "c": self.inlines(content, in_figure)})
            elif kind in ("Span", "Link"):
                out.append({"t": kind, "c": [content[0], self.inlines(content[1], in_figure), *content[2:]]})
            elif kind == "Quoted":
                out.append({"t": kind, "c": [content[0], self.inlines(content[1], in_figure)]})
            else:
                out.append(node)
        return out

    def note(self, blocks: list[Block]) -> Inline:
        """A footnote: kept for the end of the section, heard after its sentence; a numbered link here."""
        number = len(self.notes) + 1
        ident, ref = f"{self.prefix}n{number}", f"{self.prefix}r{number}"
        self.pending.append((ident, self.say("Note: {words}", words=stringify_blocks(blocks, pictures=False)), "note"))
        self.notes.append(_Note(number, ident, ref, self.blocks_quiet(blocks)))
        return raw_inline(f'<a class="noteref" id="{ref}" href="#{ident}" role="doc-noteref" '
                          f'aria-label="{escape(self.say("Note {number}", number=number), quote=True)}"><sup>{number}</sup></a>')

    # --- tables and figures -------------------------------------------------------------------

    def table(self, content: list[Any]) -> Block:
        """A table with ids, row headers in its first column, and a piece per row naming each cell."""
        attr, caption, specs, head, bodies, foot = content
        ident = self.new("t")
        columns = header_names(head)
        named = all(row[1] and stringify_blocks(row[1][0][4], pictures=False).strip() for body in bodies for row in body[3])
        row_heads = 1 if columns and len(specs) > 1 and named else 0  # a blank first cell heads nothing (a form to fill in)
        caption = [caption[0], self.blocks_quiet(caption[1])]
        head = [head[0], [[row[0], [self.cell_quiet(cell) for cell in row[1]]] for row in head[1]]]
        rows = sum(len(body[3]) for body in bodies) + len(foot[1])
        self.group += 1
        self.hear(ident, table_intro(stringify_blocks(caption[1], pictures=False), columns, rows, len(specs), self.say),
                  "table")
        number = 0
        marked_bodies = []
        for body in bodies:
            marked_rows = []
            for row in body[3]:
                number += 1
                marked_rows.append(self.row(row, f"{ident}r{number}", columns, row_heads))
            marked_bodies.append([body[0], row_heads, body[2], marked_rows])
        marked_foot = [foot[0], [self.row(row, f"{ident}r{number + i}", columns, 0)
                                 for i, row in enumerate(foot[1], start=1)]]
        return {"t": "Table", "c": [[ident, attr[1], attr[2]], caption, specs, head, marked_bodies, marked_foot]}

    def row(self, row: list[Any], ident: str, columns: list[str], row_heads: int) -> list[Any]:
        """One table row with its id, heard as its cells named by their columns."""
        cells = [self.cell_quiet(cell) for cell in row[1]]
        said, position = [], 0
        for index, cell in enumerate(cells):
            words = stringify_blocks(cell[4], pictures=False).replace("\n\n", " ").strip()
            name = columns[position] if position < len(columns) else ""
            position += int(cell[3]) if isinstance(cell[3], int) else 1
            if not words:
                continue
            said.append(words if (index < row_heads or not name) else f"{name}: {words}")
        self.group += 1
        self.hear(ident, " ".join(end_sentence(s) for s in said), "row")
        return [[ident, row[0][1], row[0][2]], cells]

    def cell_quiet(self, cell: list[Any]) -> list[Any]:
        """A cell with its notes and pictures taken care of; its words are heard with its row."""
        return [cell[0], cell[1], cell[2], cell[3], self.blocks_quiet(cell[4])]

    def blocks_quiet(self, blocks: list[Block]) -> list[Block]:
        """Blocks inside a table (cells, caption): notes and pictures marked, sentences not split."""
        out = []
        for block in blocks:
            if block["t"] in ("Para", "Plain"):
                out.append({"t": block["t"], "c": self.inlines(block["c"])})
            else:
                out.append(block)
        return out

    def figure(self, content: list[Any]) -> Block:
        """A picture with its caption: one id, heard as "Picture:" and its alt text (and caption if other)."""
        attr, caption, body = content
        ident = self.new("f")
        marked_body = [{"t": b["t"], "c": self.inlines(b["c"], in_figure=True)} if b["t"] in ("Para", "Plain") else b
                       for b in body]
        marked_caption = [caption[0], self.blocks_quiet(caption[1])]
        images = [node for b in body if b["t"] in ("Para", "Plain") for node in b["c"] if node["t"] == "Image"]
        alt = " ".join(alt_text(image) for image in images)
        said = stringify_blocks(caption[1]).strip()
        words = end_sentence(alt) + (f" {said}" if said and said.rstrip(".") != alt.rstrip(".") else "")
        self.group += 1
        self.hear(ident, self.say("Picture: {words}", words=words), "picture")
        return {"t": "Figure", "c": [[ident, attr[1], attr[2]], marked_caption, marked_body]}

    # --- notes at the end -----------------------------------------------------------------------

    def notes_blocks(self) -> list[Block]:
        """The section's notes, each an aside with its number and a link back to where it was called."""
        if not self.notes:
            return []
        out: list[Block] = [raw_block('<div class="notes">')]
        for note in self.notes:
            out.append(raw_block(f'<aside class="note" id="{note.id}" role="doc-footnote">'))
            label = raw_inline(f'<span class="note-number">{note.number}.</span>')
            back = raw_inline(f'<a class="note-back" href="#{note.ref}" role="doc-backlink"{self.say.lang_attr}>'
                              f'{escape(self.say("Back to the text"))}</a>')
            body = list(note.blocks)
            if body and body[0]["t"] in ("Para", "Plain"):
                body[0] = {"t": body[0]["t"], "c": [label, {"t": "Space"}, *body[0]["c"]]}
            else:
                body.insert(0, {"t": "Plain", "c": [label]})
            if body[-1]["t"] in ("Para", "Plain"):
                body[-1] = {"t": body[-1]["t"], "c": [*body[-1]["c"], {"t": "Space"}, back]}
            else:
                body.append({"t": "Plain", "c": [back]})
            out += body + [raw_block("</aside>")]
        out.append(raw_block("</div>"))
        return out


def mark(blocks: list[Block], prefix: str, say: Words | None = None) -> Marked:
    """Mark one rendition of a section (`prefix` ends in `_`): ids, pieces in reading order, notes at the end."""
    walk = _Walk(prefix, say or words_for("en"))
    marked = walk.blocks(blocks, "paragraph")
    walk.hear("", "", "")  # anything still pending (a note in a heading-less block) is heard last
    notes = [stringify_blocks(note.blocks, pictures=False) for note in walk.notes]
    return Marked(marked + walk.notes_blocks(), tuple(walk.pieces), stringify_blocks(marked, pictures=False),
                  tuple(notes + walk.alts), len(notes))


def plain_heading(section_id: str) -> str:
    """The id of the plain rendition's own heading ("In plain words" in the e-book), which its
    narration's opener reads; like every made id it holds `_`, so no section can take it."""
    return f"{section_id}_p"


def spoken_words(inlines: list[Inline]) -> str:
    """A sentence's words as a listener hears them: pictures and note numbers are heard on their own."""
    return stringify([node for node in inlines if node["t"] not in ("Image", "Note")])


def header_names(head: list[Any]) -> list[str]:
    """The column names, from the table head's last row (one name per column, spans repeated)."""
    if not head[1]:
        return []
    names: list[str] = []
    for cell in head[1][-1][1]:
        span = int(cell[3]) if isinstance(cell[3], int) else 1
        names += [stringify_blocks(cell[4]).replace("\n\n", " ").strip()] * span
    return names if any(names) else []


def table_intro(caption: str, columns: list[str], rows: int, width: int, say: Words) -> str:
    """What a listener hears before a table: its caption, its size and its column names."""
    said = say("Table: {caption}", caption=end_sentence(caption)) if caption else say("Table") + "."
    size = say("{rows}, {columns}", rows=say.plural("{count} row", "{count} rows", rows),
               columns=say.plural("{count} column", "{count} columns", width))
    named = [name for name in columns if name]
    return f"{said} {size}" + (f": {', '.join(named)}." if named else ".")


def end_sentence(text: str) -> str:
    """Text ending in a full stop (or its own ., ? or !), so the voice pauses after it."""
    text = text.strip()
    return text if not text or text[-1] in ".?!:" else text + "."


def list_marker(number: int, style: str) -> str:
    """A list item's number or letter as print shows it: "2.", "b.", "B."."""
    if style in ("LowerAlpha", "UpperAlpha") and 1 <= number <= 26:
        letter = chr(ord("a") + number - 1)
        return f"{letter.upper() if style == 'UpperAlpha' else letter}."
    return f"{number}."


def raw_block(html: str) -> Block:
    """A block of HTML the pipeline itself wrote (the source's raw HTML was dropped long before)."""
    return {"t": "RawBlock", "c": ["html", html]}


def raw_inline(html: str) -> Inline:
    """An inline of HTML the pipeline itself wrote."""
    return {"t": "RawInline", "c": ["html", html]}
