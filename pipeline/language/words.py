"""The words the pipeline itself adds to a handout, in the handout's language.

Every heading, label, note, opener and page number the pipeline writes around a source's own text
("Words to know", "Section 3 of 8.", "Page 2 of 6") is a message of a gettext catalog per language
(`pipeline/language/locale/LANG/LC_MESSAGES/pipeline.po`, read with Babel, the ecosystem's standard). The
messages themselves are English, so English needs no catalog. A language without one falls back to
English, and says so: `fallback` is True, and the formats mark those words `lang="en"` so a screen
reader reads them with English rules.

In code a message is `say("Words to know")` (or `say.plural(...)`) where `say = words_for(lang)`;
`N_("...")` marks a message that is translated later. `make catalog` extracts every message into
`pipeline/language/locale/pipeline.pot` and merges it into each catalog.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Callable

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "pipeline"
SOURCE_LANGUAGE = "en"


def N_(message: str) -> str:
    """Mark a message for the catalog where it is defined; it is translated where it is shown."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural for the catalog ("{number} milligram", "{number} milligrams")."""
    return singular, plural


@dataclass(frozen=True)
class Words:
    """One language's interface words: what the catalog says, or English when there is no catalog."""

    lang: str  # the document's language (BCP 47)
    language: str  # the catalog's language ("es"), or "en" for English and for the fallback
    fallback: bool  # the document's language has no catalog: these words are English inside it
    messages: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    plural_form: Callable[[int], int] = field(default=lambda n: 0 if n == 1 else 1, compare=False, repr=False)

    def __call__(self, message: str, **values: Any) -> str:
        """The message in this language, with its `{placeholders}` filled."""
        said = self.messages.get(message) or message
        return said.format(**values) if values else said

    def plural(self, singular: str, plural: str, count: int, **values: Any) -> str:
        """The message for `count` things ("1 row", "2 rows"; Spanish "1 fila", "2 filas")."""
        forms = self.messages.get((singular, plural)) or []
        index = self.plural_form(count)
        if index < len(forms) and forms[index]:
            said = forms[index]
        else:
            said = singular if count == 1 else plural
        return said.format(count=count, **values)

    def html(self, message: str, **values: Any) -> str:
        """The message as HTML text: escaped, and marked English when it is the fallback."""
        said = escape(self(message, **values))
        return f'<span lang="{SOURCE_LANGUAGE}">{said}</span>' if self.fallback else said

    @property
    def lang_attr(self) -> str:
        """` lang="en"` for an element holding only these words, when they are the English fallback."""
        return f' lang="{SOURCE_LANGUAGE}"' if self.fallback else ""

    @property
    def xml_lang_attr(self) -> str:
        """The same for XHTML (EPUB): ` lang="en" xml:lang="en"`."""
        return f' lang="{SOURCE_LANGUAGE}" xml:lang="{SOURCE_LANGUAGE}"' if self.fallback else ""

    @property
    def words_lang(self) -> str:
        """The language these words are in (the document's, or English)."""
        return SOURCE_LANGUAGE if self.fallback else self.lang

    def date(self, value: str) -> str:
        """An ISO date as a reader of this language writes it ("December 1, 2026", "1 de diciembre
        de 2026"); anything else as written."""
        from babel.dates import format_date

        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            return value
        return format_date(day, format="long", locale=self.language)

    @property
    def every_word(self) -> str:
        """Every translation of the catalog, run together: the characters the formats may add to a
        handout (the fonts that draw a Vietnamese handout must draw "Phần" too)."""
        return " ".join(t for value in self.messages.values() for t in (value if isinstance(value, list) else [value]))

    def in_words(self, items: list[str]) -> str:
        """Items as a sentence lists them: "a, b and c" ("a, b y c")."""
        if len(items) < 2:
            return "".join(items)
        return self(N_("{first} and {last}"), first=", ".join(items[:-1]), last=items[-1])


def language_name(lang: str) -> str:
    """A language's name in itself ("español", "English"), as a link to that edition says it."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(primary(lang)).get_display_name(primary(lang)) or lang
    except (UnknownLocaleError, ValueError):
        return lang
    return name


def primary(lang: str) -> str:
    """The language part of a BCP 47 tag ("es-US" -> "es")."""
    return lang.split("-")[0].lower()


@functools.cache
def _catalog(language: str) -> tuple[dict[Any, Any], Callable[[int], int]] | None:
    """The translated messages of one language's catalog and its plural rule (None when there is none)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return None
    from babel.messages.pofile import read_po

    with open(path, "rb") as handle:
        catalog = read_po(handle, locale=language)
    found: dict[Any, Any] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            found[tuple(message.id)] = list(message.string)
        elif message.string:
            found[message.id] = message.string
    return found, gettext.c2py(catalog.plural_expr)


def catalogs() -> tuple[str, ...]:
    """The languages with a catalog, and English."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *found)


@functools.cache
def words_for(lang: str) -> Words:
    """The interface words for a document in `lang`."""
    language = primary(lang)
    if language == SOURCE_LANGUAGE:
        return Words(lang, SOURCE_LANGUAGE, False)
    found = _catalog(language)
    if found is None:
        return Words(lang, SOURCE_LANGUAGE, True)
    return Words(lang, language, False, *found)


# --- the catalog: `make catalog` (python -m pipeline.language.words) --------------------------------------

CALLS = {"say": 1, "html": 1, "N_": 1, "plural": 2, "NP_": 2}  # what marks a message in code, and how many arguments it takes


def messages_in(path: Path) -> list[tuple[str | tuple[str, str], int]]:
    """Every message the code at `path` says, with its line: calls of `say(...)`, `say.html(...)`,
    `say.plural(...)` and `N_(...)` whose first arguments are strings, f-strings' insides included."""
    import ast

    found: list[tuple[str | tuple[str, str], int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        wanted = CALLS.get(name)
        texts = [arg.value for arg in node.args[:wanted or 0] if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        if wanted and len(texts) == wanted:
            found.append((texts[0] if wanted == 1 else (texts[0], texts[1]), node.lineno))
    return found


def template() -> Any:
    """The catalog template: every message of the package's code (a Babel Catalog)."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(project="faq-pipeline", domain=DOMAIN, charset="utf-8")
    root = Path(__file__).resolve().parent.parent  # the whole package, not only this folder
    for path in sorted(root.rglob("*.py")):
        for message, line in messages_in(path):
            catalog.add(message, locations=[(str(path.relative_to(root.parent)), line)],
                        flags=("python-brace-format",) if "{" in str(message) else ())
    return catalog


def update_catalogs() -> list[Path]:
    """Write the template and merge it into every language's catalog (new messages untranslated)."""
    from babel.messages.pofile import read_po, write_po

    fresh = template()
    written = [LOCALE_DIR / f"{DOMAIN}.pot"]
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with open(written[0], "wb") as handle:
        write_po(handle, fresh, omit_header=True, sort_output=True, no_location=True)
    for language in catalogs()[1:]:
        path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        with open(path, "rb") as handle:
            catalog = read_po(handle, locale=language)
        catalog.update(fresh, no_fuzzy_matching=True)
        with open(path, "wb") as handle:
            write_po(handle, catalog, sort_output=True, no_location=True, ignore_obsolete=True)
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in update_catalogs():
        print(f"wrote {written_path}")
