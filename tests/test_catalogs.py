"""Every language's catalog of interface words is complete and safe to use.

For each `pipeline/language/locale/LANG/LC_MESSAGES/pipeline.po` (read with Babel, as `words.py` reads
it): every message of `pipeline.pot` is translated (a non-empty msgstr, every plural form filled), none
is marked fuzzy (`words.py` would silently fall back to English for it), each translation has the same
`{placeholders}` as its msgid (a renamed one raises KeyError when the words are filled in), the plural
rule compiles, and the header comment says who reviewed the catalog or that it is not yet reviewed.
Negative controls: a copy with one message broken is reported as lacking exactly that message.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from pipeline.language.words import DOMAIN, LOCALE_DIR, words_for

pytestmark = pytest.mark.fast

TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
CATALOGS = sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# "Reviewed by: NAME, ROLE, DATE" or "NOT yet reviewed" / "not been reviewed" in the header comment
REVIEW = re.compile(r"\breviewed\s+by\s*:?\s*\w|\bnot\s+(?:yet\s+)?(?:been\s+)?reviewed\b", re.IGNORECASE)


def language_of(path: Path) -> str:
    """The catalog's language: its folder's name (`.../LANG/LC_MESSAGES/pipeline.po`)."""
    return path.parent.parent.name


def read(path: Path, language: str | None = None) -> Catalog:
    """A catalog or template as Babel reads it."""
    with open(path, "rb") as handle:
        return read_po(handle, locale=language)


def placeholders(text: str) -> set[str]:
    """The names of a text's `{placeholders}`."""
    return set(PLACEHOLDER.findall(text))


def gaps(path: Path, template: Path = TEMPLATE, language: str | None = None) -> list[str]:
    """Everything the catalog at `path` lacks against the template, one line per problem, each naming
    its message; an empty list for a complete catalog."""
    catalog = read(path, language or language_of(path))
    found: list[str] = []
    if not REVIEW.search(catalog.header_comment or ""):
        found.append("header comment: says neither who reviewed the catalog nor that it is not yet reviewed")
    try:
        rule = gettext.c2py(catalog.plural_expr)
    except (ValueError, SyntaxError) as exc:
        found.append(f"Plural-Forms: {catalog.plural_forms!r} does not compile ({exc})")
        rule = lambda n: 0 if n == 1 else 1  # noqa: E731 (still check the messages)
    counts = [sum(1 for n in range(1000) if rule(n) == index) for index in range(catalog.num_plurals)]
    for wanted in read(template):
        if not wanted.id:
            continue
        name = wanted.id[0] if isinstance(wanted.id, tuple) else wanted.id
        message = catalog.get(wanted.id)
        if message is None:
            found.append(f"{name!r}: missing")
            continue
        if message.fuzzy:
            found.append(f"{name!r}: marked fuzzy")
        if isinstance(wanted.id, tuple):
            forms = list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]
            if len(forms) != catalog.num_plurals:
                found.append(f"{name!r}: {len(forms)} plural forms, Plural-Forms says {catalog.num_plurals}")
            singular, plural = (placeholders(text) for text in wanted.id)
            needed, allowed = singular & plural, singular | plural  # "every hour" / "every {count} hours"
            for index, form in enumerate(forms):
                # a form used for one count only may say it in words (Arabic's dual "دقيقتان", two minutes)
                said = needed - {"count"} if index < len(counts) and counts[index] == 1 else needed
                if not form:
                    found.append(f"{name!r}: plural form {index} not translated")
                elif not said <= placeholders(form) <= allowed:
                    found.append(f"{name!r}: plural form {index} has placeholders {sorted(placeholders(form))}, "
                                 f"the msgid {sorted(said)} (and may use {sorted(allowed - said)})")
        elif not message.string:
            found.append(f"{name!r}: not translated")
        elif placeholders(message.string) != placeholders(wanted.id):
            found.append(f"{name!r}: placeholders {sorted(placeholders(message.string))}, "
                         f"the msgid's {sorted(placeholders(wanted.id))}")
    return found


def test_there_are_catalogs() -> None:
    assert TEMPLATE.is_file()
    assert "es" in [language_of(path) for path in CATALOGS]


@pytest.mark.parametrize("path", CATALOGS, ids=language_of)
def test_catalog_translates_every_message(path: Path) -> None:
    assert gaps(path) == []


@pytest.mark.parametrize("path", CATALOGS, ids=language_of)
def test_catalog_is_found_for_its_language(path: Path) -> None:
    """`words_for` finds the catalog by the folder's name, the primary subtag of a BCP 47 tag."""
    assert not words_for(language_of(path)).fallback


# --- negative controls: a copy of the Spanish catalog with one thing broken ---------------------------------

ES = LOCALE_DIR / "es" / "LC_MESSAGES" / f"{DOMAIN}.po"


def _broken_copy(tmp_path: Path, change) -> Path:
    """The Spanish catalog with `change(catalog)` applied, written to tmp_path."""
    catalog = read(ES, "es")
    change(catalog)
    copy = tmp_path / "es" / "LC_MESSAGES" / f"{DOMAIN}.po"
    copy.parent.mkdir(parents=True)
    with open(copy, "wb") as handle:
        write_po(handle, catalog, sort_output=True, no_location=True, ignore_obsolete=True)
    return copy


def _set(message_id, string):
    def change(catalog: Catalog) -> None:
        catalog[message_id].string = string
    return change


def _fuzzy(message_id):
    def change(catalog: Catalog) -> None:
        catalog[message_id].flags.add("fuzzy")
    return change


def _unreviewed_header(catalog: Catalog) -> None:
    catalog.header_comment = "# Spanish translations for faq-pipeline."


BROKEN = {
    "emptied msgstr": (_set("Words to know", ""), "'Words to know': not translated"),
    "emptied plural form": (_set(("{count} row", "{count} rows"), ("{count} fila", "", "{count} filas")),
                            "'{count} row': plural form 1 not translated"),
    "plural form without its count": (_set(("{count} row", "{count} rows"), ("{count} fila", "{count} filas", "filas")),
                                      "'{count} row': plural form 2 has placeholders [], the msgid ['count'] (and may use [])"),
    "fuzzy": (_fuzzy("Contents"), "'Contents': marked fuzzy"),
    "renamed placeholder": (_set("Page {page} of {pages}", "Página {pagina} de {pages}"),
                            "'Page {page} of {pages}': placeholders ['pages', 'pagina'], the msgid's ['page', 'pages']"),
    "no review in header": (_unreviewed_header,
                            "header comment: says neither who reviewed the catalog nor that it is not yet reviewed"),
}


@pytest.mark.parametrize("broken", BROKEN)
def test_a_broken_copy_is_reported(broken: str, tmp_path: Path) -> None:
    change, expected = BROKEN[broken]
    assert expected not in gaps(ES)
    assert expected in gaps(_broken_copy(tmp_path, change), language="es")


def test_a_catalog_without_a_message_is_reported(tmp_path: Path) -> None:
    copy = _broken_copy(tmp_path, lambda catalog: catalog.delete("Contents"))
    assert "'Contents': missing" in gaps(copy, language="es")
