"""The one Document model every output format is built from, parsed once from the source."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Piece:
    """One thing a listener hears: its words as written, and the id of the element that shows them.

    `group` numbers the block it belongs to (pieces of one paragraph share it, so the pause between
    them is a sentence pause); `kind` is sentence, item, line, code, table, row, picture, note or
    label (a callout box's label, "Warning:", heard and brailled with the box's first words).
    """

    target: str
    text: str
    kind: str
    group: int
    marker: str = ""   # the first piece of a numbered list's item: its number or letter as printed ("2.", "b.")
    step: bool = False  # that item is a step of a top-level numbered list (said "Step 2.")


@dataclass(frozen=True)
class Picture:
    """One vetted picture: where every format publishes it, the file it comes from, and its size."""

    href: str
    path: Path
    media_type: str
    width: int
    height: int
    sha256: str


@dataclass(frozen=True)
class Utterance:
    """One spoken piece of a section: a sentence, a list item or the spoken heading.

    `target` is the id of the element in the full-text HTML that shows these words
    (a sentence `<span id>` or the section heading), so read-aloud can highlight it.
    """

    target: str
    text: str
    pause_ms: int = 300


@dataclass(frozen=True)
class EasyRow:
    """One row of the Easy Read edition: one short sentence and the picture beside it.

    `icon` names a picture of the set (`pipeline.icons`), or is empty for a neutral marker (no
    confident match: a wrong picture misleads more than none); `chosen` says the author picked it.
    """

    text: str
    icon: str = ""
    alt: str = ""
    chosen: bool = False


@dataclass(frozen=True)
class Section:
    """One question of the FAQ with everything each format needs of it."""

    id: str
    title: str
    number: int
    line: int
    full_blocks: str   # the full rendition as format-neutral blocks (pandoc's JSON, ids marked): `rendering` writes HTML
    plain_blocks: str
    full_text: str
    plain_text: str
    narration: tuple[Utterance, ...]
    full_asides: tuple[str, ...] = ()  # the full text's notes and picture descriptions, each on its own
    plain_asides: tuple[str, ...] = ()
    pieces: tuple[Piece, ...] = ()  # the full text in reading order as written (a linear format lays it out)
    plain_pieces: tuple[Piece, ...] = ()  # the plain rendition in reading order
    plain_narration: tuple[Utterance, ...] = ()  # the plain rendition as heard (beside the page's plain text)
    full_notes: int = 0  # how many of the full asides are notes (the rest are alt texts)
    plain_notes: int = 0
    unwritten: bool = False  # the plain rendition is still the import's placeholder (only `lint` reads such a source)
    easy_rows: tuple[EasyRow, ...] = ()  # the Easy Read edition: the plain rendition (or the `::: easyread` div) row by row
    easy_written: bool = False  # the author wrote the Easy Read text (`::: easyread`), not made from the plain rendition

    @property
    def narration_text(self) -> str:
        """The whole spoken script of the section, as one string."""
        return " ".join(u.text for u in self.narration)

    @property
    def plain_narration_text(self) -> str:
        """The whole spoken script of the plain rendition, as one string."""
        return " ".join(u.text for u in self.plain_narration)

    @property
    def full_passages(self) -> tuple[str, ...]:
        """What a format must show of the full text: the running text, then each note and alt text
        (found in order one by one, wherever a format puts them: a note after its sentence in the
        narration, at the section's end in the PDF)."""
        return (self.full_text, *self.full_asides)

    @property
    def full_statements(self) -> tuple[str, ...]:
        """What the full text states as fact: its running text and notes (a picture's alt text describes)."""
        return (self.full_text, *self.full_asides[: self.full_notes])

    @property
    def plain_statements(self) -> tuple[str, ...]:
        """What the plain rendition states as fact: its running text and notes."""
        return (self.plain_text, *self.plain_asides[: self.plain_notes])

    @property
    def plain_passages(self) -> tuple[str, ...]:
        """What the page must show of the plain rendition: its text, notes and alt texts."""
        return (self.plain_text, *self.plain_asides)


@dataclass(frozen=True)
class Metadata:
    """What the source's YAML block says about the document."""

    title: str
    lang: str
    subtitle: str = ""
    publisher: str = ""
    date: str = ""
    identifier: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    glossary: dict[str, str] = field(default_factory=dict)
    translation_of: str = ""  # the identifier of the edition this one translates
    pronounce: dict[str, str] = field(default_factory=dict)  # word: /IPA/ or respelling (language.pronunciation)
    disclaimer: str = ""  # the care-team line every format ends with (the catalog's sentence when empty)
    contact: str = ""  # where a reader calls or asks, e.g. "the Breast Clinic, 555-0100" (said at the end)
    easyread_icons: dict[str, str] = field(default_factory=dict)  # word or phrase: picture name, for Easy Read rows


@dataclass(frozen=True)
class Edition:
    """Another language edition of the same handout: its language and its name (the folder it is built in)."""

    lang: str
    name: str


@dataclass(frozen=True)
class Document:
    """A parsed FAQ: metadata plus ordered sections; `name` is the source's file stem."""

    source: Path
    name: str
    meta: Metadata
    sections: tuple[Section, ...]
    source_sha256: str
    warnings: tuple[str, ...] = ()
    pictures: tuple[Picture, ...] = ()
    editions: tuple[Edition, ...] = ()  # the same handout in other languages, built beside it

    @property
    def text(self) -> str:
        """Every word the handout shows, its own and its metadata's (for the fonts that must draw them)."""
        meta = self.meta
        parts = [meta.title, meta.subtitle, meta.publisher, meta.description, *meta.glossary, *meta.glossary.values()]
        for section in self.sections:
            parts += [section.title, section.full_text, section.plain_text, *section.full_asides, *section.plain_asides]
        return "\n".join(parts)

    @property
    def content_sha256(self) -> str:
        """What decides every output's content: the source's bytes, every picture's bytes and the
        other language editions beside it."""
        digest = hashlib.sha256(self.source_sha256.encode())
        for picture in self.pictures:
            digest.update(f"\0{picture.href}\0{picture.sha256}".encode())
        for edition in self.editions:  # a new language edition changes the links to it
            digest.update(f"\0{edition.lang}\0{edition.name}".encode())
        return digest.hexdigest()

    def section(self, section_id: str) -> Section:
        """The section with this id."""
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)
