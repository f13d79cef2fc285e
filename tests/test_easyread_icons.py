"""The Easy Read edition's pictures: every icon the keyword tables name exists in the installed Health
Icons, each draws as a standalone SVG, a sentence gets the picture its words call for (or none), and
the set's MIT licence travels with it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pipeline.icons import (CARE_TEAM, HOW_TO_USE, LEXICON, LICENCE_FILE, Icon, IconSet, alt_for, icon_set, suggest,
                            table_rows, unavailable)

pytestmark = pytest.mark.fast

TABLES = sorted(LEXICON.glob("easyread-icons-*.tsv"))


def _installed() -> IconSet:
    """The installed set; a test fails, never skips, without it (`make setup` installs it)."""
    found = icon_set()
    assert found is not None, unavailable()
    return found


def _missing(table: Path) -> list[str]:
    """The icons a keyword table names that the installed set does not have."""
    return [icon for _words, icon, _alt in table_rows(table) if not _installed().has(icon)]


def test_both_tables_exist_with_their_sizes() -> None:
    """English has the full handout vocabulary, Spanish its core: a table lost or emptied is caught."""
    sizes = {path.stem: len(table_rows(path)) for path in TABLES}
    assert 80 <= sizes["easyread-icons-en"] <= 150
    assert 40 <= sizes["easyread-icons-es"] <= 80


@pytest.mark.parametrize("table", TABLES, ids=lambda path: path.stem)
def test_every_icon_a_table_names_is_installed(table: Path) -> None:
    """A row naming a missing picture would silently draw nothing."""
    assert _missing(table) == []


def test_the_existence_check_reports_a_bogus_icon(tmp_path: Path) -> None:
    """Negative control: the helper above does catch a name the set lacks."""
    table = tmp_path / "easyread-icons-xx.tsv"
    table.write_text("# a note\npill\tpills-3\tPills\nunicorn\tno-such-icon-anywhere\tA unicorn\n", encoding="utf-8")
    assert _missing(table) == ["no-such-icon-anywhere"]


def test_the_fixed_pictures_exist() -> None:
    """The "how to use this" and "call your care team" pictures are always drawn."""
    assert _installed().has(HOW_TO_USE) and _installed().has(CARE_TEAM)


@pytest.mark.parametrize("name", [HOW_TO_USE, CARE_TEAM, "pills-3", "forest"])
def test_an_icon_is_a_standalone_svg_in_one_colour(name: str) -> None:
    """The SVG parses, has its viewBox and no currentColor left, which an <img> would not resolve
    ("forest" reuses a shape by `<use href>`)."""
    svg = _installed().svg(name, "#123456")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert root.get("aria-hidden") == "true" and "currentColor" not in svg and "#123456" in svg
    assert _installed().data_uri(name).startswith("data:image/svg+xml;base64,")


def test_a_colour_that_would_break_the_svg_is_refused() -> None:
    """A colour is written into an attribute, so a quote in it is refused."""
    with pytest.raises(ValueError):
        _installed().svg(CARE_TEAM, 'red" onload="x')


@pytest.mark.parametrize(("sentence", "lang", "icon"), [
    ("Take one pill each morning.", "en-US", "pills-3"),
    ("Take two pills with food.", "en-US", "pills-3"),  # plural, and medicines come before food
    ("Nurses will help you.", "en-US", "nurse"),  # plural
    ("Call your nurse.", "en-US", "phone"),  # the table's header: calling comes before people
    ("Ask your nurse.", "en-US", "nurse"),  # and people before questions
    ("Get a blood test every 3 months.", "en-US", "medical-sample"),  # two words beat "blood"
    ("Call your care team if you have a fever.", "en-US", "phone"),
    ("Stage IV breast cancer", "en-US", "tumour"),  # "IV" is no drip
    ("Tome una pastilla cada mañana.", "es-MX", "pills-3"),
    ("Le pondrán dos inyecciones.", "es-MX", "syringe"),  # -ón -> -ones
])
def test_a_sentence_gets_the_picture_its_words_call_for(sentence: str, lang: str, icon: str) -> None:
    """Whole words in any case, plurals too, the most specific rule first."""
    found = suggest(sentence, lang)
    assert found is not None and found.name == icon


@pytest.mark.parametrize(("sentence", "lang"), [("The weather is nice.", "en-US"), ("Cuesta 50 pesos.", "es-MX"),
                                                ("The pillow is soft.", "en-US")])
def test_no_picture_when_no_word_calls_for_one(sentence: str, lang: str) -> None:
    """A wrong picture is worse than none ("pillow" is not "pill", "pesos" not "peso")."""
    assert suggest(sentence, lang) is None


def test_the_table_header_documents_the_call_your_nurse_order() -> None:
    """The order the test above relies on is the one the table says it keeps."""
    assert '"Call your nurse" shows the phone' in (LEXICON / "easyread-icons-en.tsv").read_text(encoding="utf-8")


def test_the_authors_map_wins_over_the_table() -> None:
    """The source's own map comes first, with the table's alt text; an icon the set lacks is passed over."""
    assert suggest("Take one pill.", "en", {"pill": "medicines"}) == Icon("medicines", "Medicines")
    assert suggest("Take Kadcyla today.", "en", {"Kadcyla": "intravenous-drip"}).name == "intravenous-drip"
    assert suggest("Take one pill.", "en", {"pill": "no-such-icon"}) == Icon("pills-3", "Pills")


def test_alt_text_is_the_tables_else_the_name_made_readable() -> None:
    """A screen reader always has words to say for a picture."""
    assert alt_for(CARE_TEAM, "es-MX") == "Un teléfono"
    assert alt_for("blood-pressure", "en") == "Blood pressure"


def test_the_credit_and_licence_name_mit() -> None:
    """The MIT licence asks for its notice to travel with the pictures."""
    credit = _installed().credit()
    assert "Health Icons" in credit and "MIT" in credit and "Resolve to Save Lives" in credit
    text = LICENCE_FILE.read_text(encoding="utf-8")
    assert "MIT" in text and "Permission is hereby granted" in text and "Resolve to Save Lives" in text
    assert unavailable() == ""
