"""For the people who write handouts: Word, OpenDocument and web files imported into a source that
cannot be published until its plain renditions are written, and the lint that keeps plain text
plain and its facts the same as the full text's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pypandoc
import pytest
from docx.shared import Inches

from pipeline import checks
from pipeline.language import lint
from pipeline.engine.build import BuildOptions, build
from pipeline.errors import SourceError
from pipeline.source.importing import import_file, slug
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FAQ = ROOT / "source" / "breast-cancer-recurrence.md"
CLEAN = FIXTURES / "lint-clean.md"
HARD = FIXTURES / "lint-hard.md"
PICTURE = FIXTURES / "images" / "armpit.png"

WORD_MARKDOWN = """\
---
title: Living with Lymphedema
---

This handout answers common questions about swelling after breast cancer treatment.

# What is lymphedema?

Lymphedema is swelling in the arm or hand. It can happen after lymph nodes are removed.

## Signs to watch for

- a heavy feeling in the arm
- rings or sleeves that feel tight

# How can I lower my risk?

Keep your skin clean.[^1] Move your arm every day.

| Do | Do not |
|----|--------|
| Wear gloves when you garden | Carry heavy bags on that arm |

![A sleeve that presses gently on the arm](sleeve.png)

[^1]: Use a mild soap.

# What is lymphedema?

A second question with the same words as the first one.
"""


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The pipeline's command line, as an author runs it."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True)


def _write_plain(source: Path, answers: dict[str, str] | None = None) -> None:
    """Do the author's part: write each unwritten plain rendition (the section's own plain words)."""
    text = source.read_text(encoding="utf-8")
    ids = re.findall(r"\{#([a-z0-9-]+)\}", text)

    def written(match: re.Match[str]) -> str:
        section = [i for i in ids if text.rfind("{#" + i + "}", 0, match.start()) >= 0][-1]
        answer = (answers or {}).get(section, "This part tells you what to do. Ask your nurse if you have a question.")
        return f"::: plain\n{answer}\n:::"

    ordered = sorted(ids, key=lambda i: text.index("{#" + i + "}"))
    ids[:] = ordered
    source.write_text(re.sub(r"::: \{\.plain \.unwritten\}\n.*?\n:::", written, text, flags=re.S), encoding="utf-8")


@pytest.fixture
def pandoc_docx(tmp_path: Path) -> Path:
    """A Word file made by pandoc from Markdown: a title, an introduction, headings, a list, a table, a note, a picture."""
    (tmp_path / "sleeve.png").write_bytes(PICTURE.read_bytes())
    (tmp_path / "lymphedema.md").write_text(WORD_MARKDOWN, encoding="utf-8")
    target = tmp_path / "lymphedema.docx"
    pypandoc.convert_file(str(tmp_path / "lymphedema.md"), "docx", outputfile=str(target),
                          extra_args=[f"--resource-path={tmp_path}"])
    return target


@pytest.fixture
def word_docx(tmp_path: Path) -> Path:
    """A Word file as a word processor writes it (python-docx): Word's Title and Heading 1 styles,
    List Bullet paragraphs, a table, a picture with alt text and one without."""
    document = docx.Document()
    document.core_properties.language = "en-US"
    document.add_paragraph("Caring for Your Port", style="Title")
    document.add_paragraph("How do I keep my port clean?", style="Heading 1")
    document.add_paragraph("Wash your hands before you touch the port.")
    document.add_paragraph("Keep the dressing dry", style="List Bullet")
    document.add_paragraph("Call 555-201-3344 if it turns red", style="List Bullet")
    document.add_picture(str(PICTURE), width=Inches(2))
    _alt(document, "A port under the skin below the collarbone")
    document.add_paragraph("When should I call the clinic?", style="Heading 1")
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip(table.rows[0].cells + table.rows[1].cells, ("Sign", "What to do", "Fever over 100.4 F", "Call now")):
        cell.text = text
    document.add_picture(str(PICTURE), width=Inches(2))  # no alt text
    target = tmp_path / "port-care.docx"
    document.save(str(target))
    return target


def _alt(document: docx.document.Document, text: str) -> None:
    """Give the last inline picture alt text, as Word's Alt Text pane does (wp:docPr descr)."""
    document.inline_shapes[-1]._inline.docPr.set("descr", text)


def test_pandoc_docx_imports_into_a_source_that_refuses_to_build_until_its_plain_words_are_written(
        pandoc_docx: Path, tmp_path: Path) -> None:
    """Title from metadata, an introduction, two sections with unique ids, the note, table, list and
    picture kept; build exits 2 naming the unwritten plain div; written, it builds and checks."""
    folder = tmp_path / "source"
    folder.mkdir()
    run = _run("import", str(pandoc_docx), "--out", str(folder / "lymphedema.md"))
    assert run.returncode == 0, run.stderr
    assert "wrote" in run.stdout and "4 sections" in run.stdout
    source = folder / "lymphedema.md"
    text = source.read_text(encoding="utf-8")
    assert "title: Living with Lymphedema" in text and "lang: en-US" in text
    assert re.findall(r"^## .*\{#([a-z0-9-]+)\}$", text, re.M) == [
        "introduction", "what-is-lymphedema", "how-can-i-lower-my-risk", "what-is-lymphedema-2"]
    assert "**Signs to watch for**" in text  # a deeper heading kept as a bold line
    assert "- a heavy feeling in the arm" in text
    assert "Wear gloves when you garden" in text and "Use a mild soap." in text
    assert "[^how-can-i-lower-my-risk-1]" in text
    picture = next((folder / "lymphedema-pictures").iterdir())
    assert picture.read_bytes() == PICTURE.read_bytes()
    assert f"![A sleeve that presses gently on the arm](lymphedema-pictures/{picture.name})" in text
    assert text.count("::: {.plain .unwritten}") == 4

    refused = _run("build", str(source), "--out", str(tmp_path / "out"), "--formats", "html")
    assert refused.returncode == 2
    line = text.splitlines().index("::: {.plain .unwritten}") + 1
    assert refused.stderr.startswith(f"error: {source}:{line}: the plain rendition of section 'introduction' "
                                     "is not written yet"), refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "out" / "lymphedema").exists()

    _write_plain(source)
    doc = parse(source)
    assert [s.id for s in doc.sections][1:3] == ["what-is-lymphedema", "how-can-i-lower-my-risk"]
    out = build(source, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", quiet=True,
                                     formats=("pdf", "epub", "html")))
    reports = checks.run(doc, out, ("pdf", "epub", "html"))
    assert checks.failures(doc, reports) == []
    with zipfile.ZipFile(out / "lymphedema.epub") as book:
        assert any(name.endswith(".png") for name in book.namelist())


@pytest.mark.fast
def test_word_styles_docx_imports_with_its_title_list_table_and_a_missing_alt_text_reported(word_docx: Path,
                                                                                          tmp_path: Path) -> None:
    """A document written with Word's own styles: Title becomes the title, Heading 1 the sections;
    the picture without alt text is named, and the source stays unbuildable until it is given one."""
    result = import_file(word_docx, tmp_path / "port-care.md")
    text = result.source.read_text(encoding="utf-8")
    assert result.sections == 2
    assert "title: Caring for Your Port" in text
    assert re.findall(r"\{#([a-z0-9-]+)\}", text) == ["how-do-i-keep-my-port-clean", "when-should-i-call-the-clinic"]
    assert re.search(r"^- Keep the dressing dry$", text, re.M), text
    assert "Fever over 100.4 F" in text
    assert "![A port under the skin below the collarbone](port-care-pictures/" in text
    missing = [note for note in result.notes if "no alt text" in note]
    assert len(missing) == 1 and "when-should-i-call-the-clinic" in missing[0]
    _write_plain(result.source, {
        "how-do-i-keep-my-port-clean": "Wash your hands first. Keep the bandage dry. Call 555-201-3344 if it turns red.",
        "when-should-i-call-the-clinic": "Call now if you have a fever over 100.4 F."})
    with pytest.raises(SourceError, match="has no alt text"):
        parse(result.source)
    findings = lint.lint(result.source)
    assert [f.rule for f in findings if f.level == "error"] == ["alt-text"], [str(f) for f in findings]


@pytest.mark.fast
def test_odt_and_html_import_too(tmp_path: Path) -> None:
    """OpenDocument and a web page go through the same readers: the language comes from the page."""
    (tmp_path / "page.html").write_text(
        '<html lang="es-US"><head><title>La mamografía</title></head><body>'
        "<h2>¿Qué es una mamografía?</h2><p>Es una radiografía del seno.</p>"
        "<h2>¿Duele?</h2><p>Puede molestar un poco.</p></body></html>", encoding="utf-8")
    html = import_file(tmp_path / "page.html", tmp_path / "mamografia.md")
    text = html.source.read_text(encoding="utf-8")
    assert "lang: es-US" in text and "title: La mamografía" in text
    assert re.findall(r"\{#([a-z0-9-]+)\}", text) == ["que-es-una-mamografia", "duele"]
    assert "Escriba aquí esta respuesta otra vez en palabras sencillas" in text  # the import's own words, in Spanish

    odt = tmp_path / "page.odt"
    pypandoc.convert_file(str(tmp_path / "page.html"), "odt", outputfile=str(odt))
    imported = import_file(odt, tmp_path / "from-odt.md", lang="es-US")
    assert re.findall(r"\{#([a-z0-9-]+)\}", imported.source.read_text(encoding="utf-8")) == [
        "que-es-una-mamografia", "duele"]


@pytest.mark.fast
def test_import_refuses_what_it_cannot_do_in_one_line(tmp_path: Path, pandoc_docx: Path) -> None:
    """An unknown kind of file, an existing source (unless --force) and a missing folder: one line each."""
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    wrong = _run("import", str(tmp_path / "notes.pdf"), "--out", str(tmp_path / "x.md"))
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and ".docx" in wrong.stderr
    (tmp_path / "taken.md").write_text("mine", encoding="utf-8")
    taken = _run("import", str(pandoc_docx), "--out", str(tmp_path / "taken.md"))
    assert taken.returncode == 4 and "--force" in taken.stderr
    assert (tmp_path / "taken.md").read_text(encoding="utf-8") == "mine"
    nowhere = _run("import", str(pandoc_docx), "--out", str(tmp_path / "no" / "such" / "x.md"))
    assert nowhere.returncode == 4 and "Traceback" not in nowhere.stderr
    assert slug("¿Qué es una mamografía?") == "que-es-una-mamografia"
    assert slug("ما هو؟") == ""


@pytest.mark.fast
def test_lint_finds_nothing_on_a_clean_source() -> None:
    """A short, plain, consistent handout lints clean (exit 0, no lines)."""
    assert lint.lint(CLEAN) == []
    run = _run("lint", str(CLEAN))
    assert run.returncode == 0 and run.stdout == "", run.stdout


@pytest.mark.fast
def test_lint_finds_changed_facts_long_sentences_plainer_words_and_unused_glossary() -> None:
    """The deliberately hard section: a changed percentage, a dropped phone number, a changed
    medicine, a 35-word plain sentence, a plainer word, an unused glossary term; each with its line."""
    findings = lint.lint(HARD)
    lines = HARD.read_text(encoding="utf-8").splitlines()

    def line_of(words: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if words in line)

    by_rule: dict[str, list[lint.Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    facts = [f.message for f in by_rule["facts"]]
    assert any("percentage differs: the full text says '30% to 60%'" in m and "'40%'" in m for m in facts), facts
    assert any("phone number '1-800-227-2345'" in m and "missing from the plain rendition" in m for m in facts), facts
    assert any("medicine differs: the full text says 'tamoxifen'" in m and "'letrozole'" in m for m in facts), facts
    assert {f.line for f in by_rule["facts"] if "differs" in f.message} == {line_of("40%"), line_of("letrozole")}
    assert all(f.level == "error" for f in by_rule["facts"])
    long = by_rule["sentence-length"]
    assert [(f.line, f.level) for f in long] == [(line_of("Because the medicine"), "warning")]
    assert "35 words" in long[0].message
    plainer = by_rule["plainer-word"]
    assert any("'utilize': try 'use'" in f.message and f.line == line_of("utilize") for f in plainer)
    unused = by_rule["glossary-unused"]
    assert [(f.line, "'aromatase inhibitor'" in f.message) for f in unused] == [(line_of("aromatase inhibitor:"), True)]
    assert by_rule["grade"][0].level == "error" and "hardest sentences: line" in by_rule["grade"][0].message
    assert any("'metastasize'" in f.message for f in by_rule["hard-word"])
    assert by_rule["question-heading"][0].line == line_of("## Your medicine")

    run = _run("lint", str(HARD))
    assert run.returncode == 1
    first = run.stdout.splitlines()[0]
    assert re.match(rf"^{re.escape(str(HARD))}:\d+:\d+: (error|warning) [a-z-]+: ", first), first
    as_json = json.loads(_run("lint", "--format", "json", str(HARD)).stdout)
    assert {"file", "line", "column", "level", "rule", "message"} <= set(as_json[0])
    assert len(as_json) == len(findings)


@pytest.mark.fast
def test_lint_of_the_seed_faq_has_no_errors() -> None:
    """The real FAQ's plain renditions keep every fact and pass the grade limits: warnings only."""
    findings = lint.lint(FAQ)
    assert [str(f) for f in findings if f.level == "error"] == []


@pytest.mark.fast
def test_lint_reads_readability_with_the_checks_own_measure(tmp_path: Path) -> None:
    """One implementation: the grade lint reports for a section is the figure the page's check
    reports for it (report.json), to the tenth."""
    hard = tmp_path / "hard.md"
    hard.write_text(HARD.read_text(encoding="utf-8"), encoding="utf-8")
    findings = [f for f in lint.lint(hard) if f.rule == "grade"]
    out = build(hard, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", quiet=True,
                                   formats=("html",)))
    doc = parse(hard)
    report = checks.run(doc, out, ("html",))[0]
    measured = report.figures["readability"]["your-medicine"]["grade"]
    assert f"grade {measured:.1f} " in findings[0].message, (findings[0].message, measured)


@pytest.mark.fast
def test_lint_source_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    """A source lint cannot read at all: one `file:line:1: error source:` line, exit 2."""
    broken = tmp_path / "broken.md"
    broken.write_text("---\ntitle: x\nlang: en\n---\n\n## No id here\n\nText.\n", encoding="utf-8")
    run = _run("lint", str(broken))
    assert run.returncode == 2
    assert run.stdout.strip() == f"{broken}:6:1: error source: section 'No id here' has no id; write it as: ## No id here {{#some-id}}"


@pytest.mark.fast
@pytest.mark.parametrize("full, plain, same", [
    ("Take 20 mg twice a day.", "Take 20 mg two times a day.", True),
    ("Come back every 3 months.", "Come back every three months.", True),
    ("Come back every 3 months.", "Come back every month.", False),
    ("Take it daily for 5 years.", "Take it every day for five years.", True),
    ("In 30% to 60% of women it spreads.", "Think of 100 women: 30 to 60 of them.", True),
    ("About 1 in 8 women get it.", "About one in eight women get it.", True),
    ("Call 1-800-227-2345.", "Call (800) 227-2345.", True),
    ("Call 1-800-4-CANCER.", "Call 1-800-422-6237.", True),
    ("Your doctor may give tamoxifen.", "Your doctor may give letrozole.", False),
    ("Tome 2 comprimidos cada 8 horas.", "Tome dos comprimidos cada ocho horas.", True),
])
def test_facts_are_compared_as_values_not_as_words(tmp_path: Path, full: str, plain: str, same: bool) -> None:
    """Digits and number words, daily and every day, a percentage and its natural frequency, a phone
    number's spellings: the same fact; a different frequency or medicine: not."""
    lang = "es-US" if "Tome" in full else "en-US"
    source = tmp_path / "facts.md"
    source.write_text(f"---\ntitle: Facts\nlang: {lang}\n---\n\n## Is it the same? {{#same}}\n\n{full}\n\n"
                      f"::: plain\n{plain}\n:::\n", encoding="utf-8")
    errors = [str(f) for f in lint.lint(source) if f.rule == "facts"]
    assert (errors == []) == same, errors
