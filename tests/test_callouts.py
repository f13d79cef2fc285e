"""Callouts (`::: warning`, `::: tip`, a quote starting "**Stop**") keep their structure in every
format: a box with a visible label in the page, the PDF and the EPUB, the label said first in the
narration ("Warning." as a read-along clip of its own) and brailled ("Warning:"), and a check that
passes the correct handout. The negative control is the same handout without the callout markup:
no label, no box. A fenced div of a class no box is drawn for is refused at its line (exit 2)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import lxml.html
import pdfplumber
import pytest
from lxml import etree

from pipeline import checks
from pipeline.engine.build import BuildOptions, build
from pipeline.errors import SourceError
from pipeline.formats.braille import body_blocks
from pipeline.formats.html import safe_fragment
from pipeline.rendering import section_html
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
WOUND = ROOT / "tests" / "corpus" / "wound-care.md"
HEAD = "---\ntitle: T\nlang: en-US\n---\n\n"
XHTML = {"x": "http://www.w3.org/1999/xhtml"}


def unboxed(text: str) -> str:
    """The same handout without callout markup: each box's words as plain paragraphs, the "Stop"
    quote as a paragraph without bold."""
    text = re.sub(r"^::: (?:tip|warning)\n(.*?)\n:::\n", r"\1\n", text, flags=re.S | re.M)
    return re.sub(r"^> \*\*(Stop[^*]*)\*\*(.*?)\n\n", lambda m: (m.group(1) + m.group(2)).replace("\n> ", "\n") + "\n\n",
                  text, flags=re.S | re.M)


def write(tmp_path: Path, text: str, name: str = "doc.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the model, the shared HTML, the narration and braille (no build) ---------------------------

@pytest.mark.fast
def test_callouts_are_boxes_with_a_label_said_first() -> None:
    doc = parse(WOUND)
    call = doc.section("call")
    full, plain = section_html(doc, call, "full"), section_html(doc, call, "plain")
    for html, prefix in ((full, "call_"), (plain, "call_p")):
        box = lxml.html.fragment_fromstring(html, create_parent="div").xpath("//div[contains(@class, 'callout')]")[0]
        assert box.get("class") == "callout warning" and box.get("role") == "note"
        label = box[0]
        assert label.get("class") == "callout-label" and label.text == "Warning"
        assert box.get("aria-labelledby") == label.get("id") == f"{prefix}k1"
    assert "Stop and call us" in full and "<blockquote" not in full  # the Stop quote is a box, not a quote
    # the label is the pipeline's word: not in the source's text the check compares with
    assert "Warning" not in call.full_text and "Warning" not in call.plain_text

    said = [u.text for u in call.narration]
    at = said.index("Warning.")
    assert said[at + 1].startswith("Stop and call us if you have a fever over 100.4 degrees Fahrenheit")
    assert call.narration[at].target == "call_k1" and call.narration[at].pause_ms < 500  # heard with its words
    plain_said = [u.text for u in call.plain_narration]
    assert plain_said[plain_said.index("Warning.") + 1] == "Call us if you have a fever over 100.4 degrees Fahrenheit."
    assert [u.text for u in doc.section("clean").narration][-2] == "Tip."
    assert ("paragraph", "Warning: Stop and call us if you have a fever over 100.4°F, if the redness spreads more "
            "than an inch from the incision, or if yellow or green fluid comes out of the wound.") in body_blocks(doc)
    # the page's sanitiser keeps the box, its role and its label
    kept = lxml.html.fragment_fromstring(safe_fragment(full), create_parent="div")
    assert kept.xpath("//div[@class='callout warning'][@role='note'][@aria-labelledby='call_k1']"
                      "/p[@class='callout-label'][@id='call_k1'][.='Warning']")


@pytest.mark.fast
def test_without_callout_markup_there_is_no_label(tmp_path: Path) -> None:
    doc = parse(write(tmp_path, unboxed(WOUND.read_text(encoding="utf-8")), "wound-care.md"))
    for section in doc.sections:
        for rendition in ("full", "plain"):
            html = section_html(doc, section, rendition)
            assert "callout" not in html and "Warning" not in html and ">Tip<" not in html
        assert not {"Warning.", "Tip."} & {u.text for u in section.narration + section.plain_narration}
    assert "Stop and call us if you have a fever" in doc.section("call").full_text  # the words are all still there


@pytest.mark.fast
def test_a_callout_in_another_language_has_its_label_translated(tmp_path: Path) -> None:
    doc = parse(write(tmp_path, "---\ntitle: T\nlang: es\n---\n\n## ¿Qué hago? {#que}\n\n::: warning\nLlame hoy.\n"
                                ":::\n\n:::: plain\n::: tip\nLlame.\n:::\n::::\n"))
    section = doc.sections[0]
    assert ">Advertencia</p>" in section_html(doc, section, "full") and ">Consejo</p>" in section_html(doc, section, "plain")
    assert section.narration[1].text == "Advertencia."


@pytest.mark.fast
def test_a_quote_that_does_not_start_with_stop_stays_a_quote(tmp_path: Path) -> None:
    doc = parse(write(tmp_path, HEAD + "## A {#a}\n\n> **Call us** if it hurts.\n\n> She said stop.\n\n"
                                       "::: plain\nCall us.\n:::\n"))
    html = section_html(doc, doc.sections[0], "full")
    assert html.count("<blockquote>") == 2 and "callout" not in html


@pytest.mark.fast
def test_a_pasted_html_div_is_shown_plainly(tmp_path: Path) -> None:
    doc = parse(write(tmp_path, HEAD + '## A {#a}\n\n<div class="glossary">Keep it dry.</div>\n\n::: plain\nDry.\n:::\n'))
    html = section_html(doc, doc.sections[0], "full")
    assert "glossary" not in html and "Keep it dry." in html  # no page style taken over
    assert any("is not a callout" in warning for warning in doc.warnings)


@pytest.mark.fast
def test_an_imported_web_page_keeps_its_warning_box_and_drops_its_wrappers(tmp_path: Path) -> None:
    page = write(tmp_path, '<html lang="en"><head><title>Wound care</title></head><body><h2>When do I call?</h2>'
                           '<div class="content-wrapper"><p>Some redness is normal.</p><div class="warning">'
                           '<p>Call us if you have a fever.</p></div></div></body></html>', "page.html")
    done = subprocess.run([sys.executable, "-m", "pipeline", "import", str(page), "--out", str(tmp_path / "page.md")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    source = (tmp_path / "page.md").read_text(encoding="utf-8")
    assert "::: warning\nCall us if you have a fever.\n:::" in source and "content-wrapper" not in source
    doc = parse(write(tmp_path, source.replace("::: {.plain .unwritten}", "::: plain"), "page.md"))
    assert ">Warning</p>" in section_html(doc, doc.sections[0], "full")


BAD_DIVS = {
    "unknown class": ("## A {#a}\n\nText.\n\n::: note\nA note.\n:::\n\n::: plain\nP.\n:::\n", 10, "'::: note' is not a box"),
    "misspelt in plain": ("## A {#a}\n\nText.\n\n:::: plain\nP.\n\n::: warnign\nHot.\n:::\n::::\n", 13, "'::: warnign'"),
    "extra class": ("## A {#a}\n\nText.\n\n::: {.warning .big}\nHot.\n:::\n\n::: plain\nP.\n:::\n", 10,
                    "cannot also be 'big'"),
    "plain and warning": ("## A {#a}\n\nText.\n\n::: {.plain .warning}\nP.\n:::\n", 10, "cannot also be 'warning'"),
    "plain inside a list": ("## A {#a}\n\n- Item.\n\n  ::: plain\n  P.\n  :::\n\n::: plain\nP.\n:::\n", 10,
                            "top level"),
    "the second plain, nested": ("## A {#a}\n\nText.\n\n::: plain\nP.\n:::\n\n## B {#b}\n\n> Quote.\n>\n"
                                 "> ::: plain\n> P.\n> :::\n\n::: plain\nP.\n:::\n", 18, "top level"),
}


@pytest.mark.fast
@pytest.mark.parametrize("case", sorted(BAD_DIVS))
def test_a_div_of_an_unknown_class_is_refused_at_its_line(tmp_path: Path, case: str) -> None:
    body, line, problem = BAD_DIVS[case]
    path = write(tmp_path, HEAD + body)
    with pytest.raises(SourceError) as caught:
        parse(path)
    assert (caught.value.line, problem in caught.value.problem) == (line, True), str(caught.value)


@pytest.mark.fast
def test_the_cli_exits_2_with_the_line(tmp_path: Path) -> None:
    source = write(tmp_path, HEAD + BAD_DIVS["unknown class"][0], "handout.md")
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(source), "--out", str(tmp_path / "out"),
                           "--formats", "html"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {source}:10: '::: note' is not a box this pipeline draws: "
                                                "write '::: warning' or '::: tip' for a box (docs/source.md, "
                                                "callouts), or leave the class out"]


# --- real builds ---------------------------------------------------------------------------------

def pdf_lines(pdf: Path) -> list[str]:
    """The PDF's text as pdftotext lays it out, one stripped line each."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in text.splitlines()]


def boxed_labels(pdf: Path) -> list[str]:
    """Each label word ("Warning", "Tip") drawn inside a box: a drawn rectangle smaller than the
    page's text area that encloses the word."""
    found = []
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            boxes = [r for r in page.rects if r["bottom"] - r["top"] < page.height / 2]
            for word in page.extract_words():
                if word["text"] in ("Warning", "Tip") and any(
                        b["x0"] < word["x0"] and b["top"] < word["top"] and b["bottom"] > word["bottom"] for b in boxes):
                    found.append(word["text"])
    return found


def epub_boxes(epub: Path) -> list[tuple[str, str, str]]:
    """(class, role, label) of every callout box in the e-book's chapters."""
    found = []
    with zipfile.ZipFile(epub) as book:
        for name in sorted(n for n in book.namelist() if n.endswith(".xhtml")):
            root = etree.fromstring(book.read(name))
            for box in root.xpath("//x:div[contains(concat(' ', @class, ' '), ' callout ')]", namespaces=XHTML):
                label = box.xpath("x:p[@class='callout-label']", namespaces=XHTML)
                found.append((box.get("class"), box.get("role"), label[0].text if label else ""))
    return found


def page_boxes(page: Path) -> list[tuple[str, str, str]]:
    """(class, role, label) of every callout box on the web page."""
    root = lxml.html.parse(str(page)).getroot()
    return [(box.get("class"), box.get("role"), "".join(box.xpath("p[@class='callout-label']/text()")))
            for box in root.xpath("//div[contains(concat(' ', @class, ' '), ' callout ')]")]


def test_every_format_shows_the_box_and_the_check_passes(tmp_path: Path) -> None:
    doc = parse(WOUND)
    folder = build(WOUND, BuildOptions(out_root=tmp_path / "out", quiet=True))
    failures = checks.failures(doc, checks.run(doc, folder))
    assert not [f for f in failures if re.search(r"Warning|Tip|callout|_p?k\d", f)]  # no false alarm on a label

    expected = [("callout tip", "note", "Tip")] * 2 + [("callout warning", "note", "Warning")] * 2
    assert sorted(page_boxes(folder / "index.html")) == sorted(expected)
    assert sorted(epub_boxes(folder / "wound-care.epub")) == sorted(expected)
    lines = pdf_lines(folder / "wound-care.pdf")
    after_label = {label: [lines[n + 1] for n, line in enumerate(lines[:-1]) if line == label] for label in ("Warning", "Tip")}
    assert any(line.startswith("Stop and call us if you have a fever") for line in after_label["Warning"])
    assert any(line.startswith("Lay out the new dressing") for line in after_label["Tip"])
    assert "Warning" in boxed_labels(folder / "wound-care.pdf") and "Tip" in boxed_labels(folder / "wound-care.pdf")
    transcript = (folder / "audio" / "02-call.vtt").read_text(encoding="utf-8")
    assert re.search(r"call_k1\n.* --> .*\nWarning\.\n\ncall_s3\n.* --> .*\nStop and call us if", transcript)
    brf = (folder / "wound-care.brf").read_text(encoding="ascii").replace("\\", "\\\\")  # lou_translate reads \ as an escape
    back = subprocess.run(["lou_translate", "--backward", "en-us-brf.dis,en-ueb-g2.ctb"], input=brf,
                          capture_output=True, text=True, check=True).stdout
    assert "Warning: Stop" in " ".join(back.split()) and "Tip: Lay out" in " ".join(back.split())
    assert failures == []  # the check passes the correct handout in every format


def test_the_same_handout_without_callout_markup_shows_no_label(tmp_path: Path) -> None:
    source = write(tmp_path, unboxed(WOUND.read_text(encoding="utf-8")), "wound-care.md")
    folder = build(source, BuildOptions(out_root=tmp_path / "out", formats=("html", "pdf", "epub"), quiet=True))
    assert page_boxes(folder / "index.html") == [] and epub_boxes(folder / "wound-care.epub") == []
    lines = pdf_lines(folder / "wound-care.pdf")
    assert "Warning" not in lines and "Tip" not in lines
    assert boxed_labels(folder / "wound-care.pdf") == []
    assert any(line.startswith("Stop and call us if you have a fever") for line in lines)


def test_a_box_whose_words_are_lost_fails_its_section(tmp_path: Path) -> None:
    """Negative control: the boxes are drawn and labelled, but their words are gone (the full text's
    "Stop" warning in PDF, EPUB and braille; the plain warning on the page and in the EPUB): the
    label words do not stand in for them, and the section is absent there, the others present."""
    doc = parse(WOUND)
    text = WOUND.read_text(encoding="utf-8")
    text = re.sub(r"^> \*\*Stop and call us\*\*.*?\n\n", "::: warning\nCall us.\n:::\n\n", text, flags=re.S | re.M)
    text = re.sub(r"(::: warning\n)Call us if you have a fever.*?\n:::", r"\1Call us.\n:::", text, flags=re.S)
    assert text.count("::: warning\nCall us.\n:::") == 2
    (tmp_path / "source").mkdir()
    damaged = write(tmp_path / "source", text, "wound-care.md")
    folder = build(damaged, BuildOptions(out_root=tmp_path / "out", formats=("html", "pdf", "epub", "braille"), quiet=True))
    for fmt in ("html", "pdf", "epub", "braille"):
        report = checks.check_format(fmt, doc, folder)
        assert not report.sections["call"].present, fmt
        assert re.search(r"words in a row are missing|of the words in order", report.sections["call"].detail), fmt
        assert report.sections["clean"].present and report.sections["shower"].present, fmt
