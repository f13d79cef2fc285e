"""Braille of what is not English inside a handout (issue 26, "said right"): words in another script
in that script's own braille after a transcriber's note, emoji by name, joiners dropped, "C++" read
back as "C++", and never a liblouis escape ('\\XJFDE') in any BRF the tests' sources build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline import checks
from pipeline.checks import braille as braille_check
from pipeline.engine.build import BuildOptions, build
from pipeline.formats import braille
from pipeline.language.words import words_for
from pipeline.source.reader import parse

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = braille.DISPLAY + ",en-ueb-g2.ctb"
ARABIC = "أحتاج إلى مترجم"
# liblouis's escape for a character no table cell writes: backslash, x or y, then hex digits (the
# digits 0-9 shown as the letters j, a-i in ASCII braille): '\XJFBC', '\YAFFDB'.
ESCAPE = re.compile(r"\\[xXyY][0-9A-Ja-j]")

MIXED = f"""---
title: "Words From Many Languages"
lang: en-US
publisher: "Accessible Patient Information Project"
date: "2026-12-01"
---

## What do I say at the desk? {{#desk}}

Show the desk this card: "{ARABIC}" (I need an interpreter). In Hebrew say "שָׁלוֹם", in Russian
"Мне нужен переводчик", in Greek "γάλα", in Hindi "नमस्ते", in Thai "สวัสดี". Our app 🙂 likes you ❤️,
good job 👍🏽 and the whole family 👨‍👩‍👧 is welcome. A joiner a\u200db, a non-joiner a\u200cb and a
selector a\ufe0fb are never read. We use C++ and C# at home. Your A1c is checked, e.g. every 3 months.
Vitamin C helps. See https://example.org/help for more.

::: plain
Show the desk this card: "{ARABIC}". Vitamin C helps.
:::

## Who do I call? {{#call}}

Call the clinic at 555-0100 to ask for an interpreter before your visit.

::: plain
Call the clinic at 555-0100.
:::
"""

SPANISH = f"""---
title: "Ayuda con el idioma"
lang: es-US
publisher: "Accessible Patient Information Project"
date: "2026-12-01"
---

## ¿Qué digo en la recepción? {{#recepcion}}

Muestre esta tarjeta: "{ARABIC}" (necesito un intérprete). Le damos la bienvenida 🙂 a toda la familia.

::: plain
Muestre esta tarjeta: "{ARABIC}".
:::
"""


def _sources() -> list[Path]:
    """Every source the tests build a handout from (the fixtures' README is not one)."""
    return sorted(p for folder in ("fixtures", "corpus") for p in (ROOT / "tests" / folder).glob("*.md")
                  if p.name != "README.md")


def _build(source: Path, root: Path) -> Path:
    """The braille edition alone, built into root/out."""
    return build(source, BuildOptions(out_root=root / "out", cache_dir=root / "cache", formats=("braille",),
                                      quiet=True, source_date_epoch=1764028800))


def _escapes(brf: str) -> list[str]:
    """liblouis escapes in a BRF, also where one runs over a line or page break."""
    return ESCAPE.findall(brf) + ESCAPE.findall(re.sub(r"[\r\n\f]| {2,}", "", brf))


def _body(folder: Path) -> str:
    """The BRF after its title and contents pages, as one line of braille."""
    pages = braille.brf_pages(next(folder.glob("*.brf")).read_bytes().decode("ascii"))
    return " ".join(line.strip() for page in pages[2:] for line in page[:-1] if line.strip())


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The handout with other scripts and emoji, and its braille edition."""
    root = tmp_path_factory.mktemp("mixed")
    source = root / "words-from-many-languages.md"
    source.write_text(MIXED, encoding="utf-8")
    return source, _build(source, root)


@pytest.mark.parametrize("source", _sources(), ids=lambda p: p.stem)
def test_no_brf_holds_a_liblouis_escape(source: Path, tmp_path: Path) -> None:
    brf = next(_build(source, tmp_path).glob("*.brf")).read_bytes().decode("ascii")
    assert _escapes(brf) == []


def test_the_mixed_and_spanish_handouts_have_no_escape_and_pass_their_check(mixed, tmp_path: Path) -> None:
    spanish = tmp_path / "ayuda.md"
    spanish.write_text(SPANISH, encoding="utf-8")
    for source, folder in (mixed, (spanish, _build(spanish, tmp_path))):
        assert _escapes(next(folder.glob("*.brf")).read_bytes().decode("ascii")) == [], source.name
        doc = parse(source)
        report = braille_check.check(doc, folder)
        assert report.ok, checks.failures(doc, [report])
        assert any(r.name == "other scripts" and r.ok for r in report.rules)


def test_the_regex_finds_the_escapes_liblouis_writes_without_the_fix(mixed) -> None:
    """Negative control: the raw text handed to liblouis as it is gives escapes the regex finds."""
    raw = braille.louis([f'Say "{ARABIC}" 🙂 a\u200db'], ENGLISH)[0]
    assert len(_escapes(raw)) >= 3
    fixed = braille.brailled([f'Say "{ARABIC}" 🙂 a\u200db'], braille.table_for(parse(mixed[0]), 2), words_for("en"))
    assert _escapes(fixed[0]) == []


def test_c_plus_plus_and_a_lone_c_read_back_as_written(mixed) -> None:
    text = braille.louis([_body(mixed[1])], ENGLISH, backward=True)[0]
    for said in ("We use C++ and C# at home.", "Your A1c is checked, e.g. every 3 months.", "Vitamin C helps."):
        assert said in text, said
    assert "Can++" not in text


def test_arabic_is_in_arabic_braille_after_a_transcribers_note(mixed) -> None:
    body = _body(mixed[1])
    arabic = braille.script_table("ARABIC")
    cells = braille.louis([ARABIC], arabic.tables)[0]
    assert arabic.file.startswith("ar") and cells in body
    assert braille.louis([cells], arabic.tables, backward=True)[0] == ARABIC
    note = braille.louis(["words in Arabic script are in Arabic braille"], ENGLISH)[0]
    heading = braille.louis(["What do I say at the desk?"], ENGLISH)[0]
    paragraph = body.index(braille.louis(["Show the desk this card:"], ENGLISH)[0])
    assert len(heading) < body.index(f"{braille.TN_OPEN}{note}{braille.TN_CLOSE}") < paragraph  # opens the paragraph
    assert body.count(note) == 1  # the first time only
    said = braille.louis([body], ENGLISH, backward=True)[0]
    assert "(words in Thai script)" in said  # no table writes Thai here: named, never escaped


def test_chinese_and_korean_are_in_their_own_braille() -> None:
    """Han and Hangul (which no font here draws, so no handout holds them) by their own tables."""
    table = braille.Table("en-ueb-g2.ctb", "full", "ueb", "both")
    said = braille.brailled(["Ask for 医生 or 의사 today."], table, words_for("en"), set())[0]
    for word, script in (("医生", "CJK"), ("의사", "HANGUL")):
        assert braille.louis([word], braille.script_table(script).tables)[0] in said, script
    for note in ("words in Han script are in Chinese braille", "words in Hangul script are in Korean braille"):
        assert braille.louis([note], ENGLISH)[0] in said, note
    assert not _escapes(said) and all(cell in braille.unicode_cells() for cell in said)


def test_emoji_are_named_once_and_joiners_dropped(mixed) -> None:
    said = braille.louis([_body(mixed[1])], ENGLISH, backward=True)[0]
    for name in ("(slightly smiling face)", "(heavy black heart)", "(thumbs up sign)", "(man, woman, girl)"):
        assert said.count(name) == 1, name
    assert "(woman)" not in said and "fitzpatrick" not in said.lower()
    assert "A joiner ab, a non-joiner ab and a selector ab are never read." in said


def test_a_spanish_note_is_in_spanish() -> None:
    table = braille.Table("es-g1.ctb", "no", "", "both")
    said = braille.brailled([f"Diga {ARABIC} 🙂"], table, words_for("es"), set())[0]
    assert said.endswith(braille.louis([ARABIC], braille.script_table("ARABIC").tables)[0])
    note = braille.louis(["(las palabras en alfabeto árabe están en braille árabe)"], braille.DISPLAY + ",es-g1.ctb")[0]
    assert note in said and not _escapes(said)


@pytest.mark.parametrize("change", ["removed", "replaced"])
def test_a_run_of_another_script_cut_from_the_brf_fails_the_check(mixed, copy_of, change: str) -> None:
    source, built = mixed
    folder = copy_of(built)
    cells = braille.louis(["Мне нужен переводчик"], braille.script_table("CYRILLIC").tables)[0]
    path = next(folder.glob("*.brf"))
    content = path.read_bytes().decode("ascii")
    words = cells.split()
    line = next(line for line in content.split("\r\n") if words[0] in line and words[1] in line)
    other = "X" * len(words[1]) if change == "replaced" else " " * len(words[1])
    path.write_bytes(content.replace(line, line.replace(words[1], other)).encode("ascii"))
    doc = parse(source)
    report = braille_check.check(doc, folder)
    rule = next(r for r in report.rules if r.name == "other scripts")
    assert not rule.ok and "Мне нужен переводчик" in rule.detail and not report.ok
