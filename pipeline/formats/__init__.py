"""The output formats, discovered: every module in this package whose name does not start with `_`
is one format, and it is the only place that format is declared. Each module has:

    NAME: str                        # "pdf": the name used by --formats, `make pdf` and checks/pdf.py
    LABEL: str                       # what a reader calls it: N_("large-print handout")
    ARTICLED: str                    # the same in a sentence: N_("a large-print handout")
    RANK: int                        # where it stands in lists and tables (lower first)
    NEEDS: tuple[str, ...]           # formats whose built files it reads when they are built too
    OPTIONS: tuple[str, ...]         # BuildOptions fields that change its output (optional: html's `formats`)
    SETTINGS: tuple[Setting, ...]    # the [tool.pipeline] values it reads: typed, with help; a flag of
                                     # `build` where `flag` says so; their resolved values key its output
    def published(name: str) -> tuple[Publication, ...]   # the files it gives readers, main one first
    def build(doc: Document, out_dir: Path, options: BuildOptions) -> Manifest   # what it wrote (pipeline.manifest)
    def unavailable(doc, options) -> str   # optional: why this machine cannot make it for the handout
                                           # (no braille table, no voice for its language), or ""

and its check is the module of the same name in `pipeline.checks`. Everything else derives from
here: the default formats, `--formats`, the format's command-line flags, the up-to-date key (its
settings' resolved values and the code it imports), the Makefile's per-format targets, the presence
table, the library page, the page's "other ways to read", the PDF's "also comes as". Adding a format means
adding its module here and its check module; the build loop, caching, parallelism and publishing
live once in `pipeline.engine.build`. Heavy libraries are imported inside the functions that use them, so
discovering the formats stays quick.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping

from ..config import setting

from ..language.words import N_, Words, words_for


@dataclass(frozen=True)
class Publication:
    """One file a format gives readers, and how the page and the library offer it.

    `note` says how to use it on the page's "other ways to read" list (with none, its `kind` stands in);
    `seconds` and `extent` read the built file for the library page (how long it plays, how big
    it is in the format's own terms, in the page's words: "24 braille pages").
    """

    path: str
    label: str
    kind: str
    note: str = ""
    seconds: Callable[[Path], float | None] | None = field(default=None, compare=False)
    extent: Callable[[Path, Words], str] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Setting:
    """One value a format reads from `[tool.pipeline]` NAME, declared once: its type, help and
    choices make the `build` flag (when `flag` names one: "--paper"); its resolved value (`resolve`:
    what "auto" stands for in this handout's language) is part of the format's up-to-date key, so
    changing it rebuilds that format and the formats that read its files, and nothing else."""

    name: str
    help: str
    type: Callable[[Any], Any] = str
    choices: tuple[Any, ...] = ()
    flag: str = ""
    metavar: str | None = None
    resolve: Callable[[Any, Any, Any], Any] | None = field(default=None, compare=False)  # (value, doc, options)

    def value(self, chosen: Mapping[str, Any]) -> Any:
        """The value chosen for this build (a flag, a test), else `[tool.pipeline]`'s, as its type."""
        return self.type(chosen[self.name]) if self.name in chosen else self._default()

    def keyed(self, doc: Any, options: Any) -> Any:
        """The value as it decides the output: "auto" resolved for the document's language."""
        value = self.value(options.settings)
        return self.resolve(value, doc, options) if self.resolve else value

    def _default(self) -> Any:
        """`[tool.pipeline]` NAME, as this setting's type (lists and tables as they are)."""
        value = setting(self.name)
        return value if isinstance(value, (list, dict)) else self.type(value)


@functools.cache
def _modules() -> dict[str, ModuleType]:
    """Every format module of this package, by name, in RANK order."""
    found = [importlib.import_module(f"{__name__}.{info.name}")
             for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    return {module.NAME: module for module in sorted(found, key=lambda m: (m.RANK, m.NAME))}


def names() -> tuple[str, ...]:
    """Every format's name, in the order lists and tables show them."""
    return tuple(_modules())


def get(name: str) -> ModuleType:
    """The format module by name."""
    if name not in _modules():
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(names())}")
    return _modules()[name]


def label(name: str) -> str:
    """What a reader calls the format: "e-book"."""
    return get(name).LABEL


def with_article(words: str) -> str:
    """"an e-book", "a web page": the label as it stands in a sentence."""
    return ("an " if words[:1].lower() in "aeiou" else "a ") + words


def articled(name: str) -> str:
    """The format as a sentence names it ("an e-book"): its ARTICLED message, else LABEL with "a"/"an"."""
    module = get(name)
    return getattr(module, "ARTICLED", None) or with_article(module.LABEL)


def in_words(chosen: tuple[str, ...] | list[str], say: Words | None = None) -> str:
    """Formats as a sentence lists them: "a web page, a large-print handout and an e-book"
    ("una página web, un folleto en letra grande y un libro electrónico")."""
    say = say or words_for("en")
    return say.in_words([say(articled(name)) for name in chosen])


def published(name: str, document: str) -> tuple[Publication, ...]:
    """The files the format gives readers for the document called `document`, main one first."""
    return get(name).published(document)


def main_file(name: str, document: str) -> str:
    """Where the format's main file lies in the document's folder: "NAME.pdf"."""
    return published(name, document)[0].path


def settings_of(name: str) -> tuple[Setting, ...]:
    """The `[tool.pipeline]` values a format reads."""
    return tuple(getattr(get(name), "SETTINGS", ()))


def flags() -> tuple[Setting, ...]:
    """Every setting `build` takes as a flag, once each, in format order."""
    found: dict[str, Setting] = {}
    for module in _modules().values():
        for declared in getattr(module, "SETTINGS", ()):
            if declared.flag:
                found.setdefault(declared.name, declared)
    return tuple(found.values())


def declared(name: str) -> Setting:
    """A setting some format declares, by name."""
    for module in _modules().values():
        for found in getattr(module, "SETTINGS", ()):
            if found.name == name:
                return found
    raise KeyError(name)


CARE_TEAM = N_("This guide does not replace advice from your own care team. Please ask them any question you have.")


def care_team_line(doc: Any, say: Words | None = None) -> str:
    """The line every format ends with: the source's `disclaimer`, else the catalog's care-team sentence
    (a reader must meet it in print, in braille and by ear, not only on the web page)."""
    say = say or words_for(doc.meta.lang)
    return doc.meta.disclaimer or say(CARE_TEAM)
