"""Read and hear the same words: the page's players, the plain narration, the e-book's plain
renditions and glossary, and Ace, on real built files (the fixture FAQ, built once per session)."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import lxml.html
import pypandoc
from lxml import etree

from pipeline.checks import audio as audio_check
from pipeline.checks import epub as epub_check
from pipeline.checks.presence import in_order_ratio
from pipeline.formats.audio import FULL, PLAIN, section_file
from pipeline.source.reading import plain_heading

X = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops", "smil": "http://www.w3.org/ns/SMIL"}


def _cues(vtt: Path, seconds: float | None = None) -> str:
    """The words of a WebVTT transcript (those that start within the first `seconds`)."""
    said = []
    for block in vtt.read_text(encoding="utf-8").split("\n\n")[1:]:
        lines = block.splitlines()
        if len(lines) >= 3 and " --> " in lines[1]:
            start = lines[1].split(" --> ")[0]
            h, m, s = start.split(":")
            if seconds is None or int(h) * 3600 + int(m) * 60 + float(s) < seconds:
                said.append(" ".join(lines[2:]))
    return " ".join(said)


def test_each_answer_plays_the_plain_words_beside_it_and_the_full_text_in_its_panel(sample_built, sample_doc):
    page = lxml.html.parse(str(sample_built / "index.html")).getroot()
    for section in sample_doc.sections:
        answer = page.xpath("//section[@aria-labelledby=$id]", id=section.id)[0]
        beside = answer.xpath(".//audio[not(ancestor::details)]")
        inside = answer.xpath(".//details//audio")
        assert [a.get("src") for a in beside] == [f"{PLAIN.folder}/{section_file(section)}"]
        assert [a.get("src") for a in inside] == [f"{FULL.folder}/{section_file(section)}"]
        assert "plain words" in beside[0].get("aria-label") and "full answer" in inside[0].get("aria-label")
        shown = " ".join(answer.xpath(".//div[@class='plain']")[0].itertext())
        heard = _cues(sample_built / PLAIN.folder / section_file(section, ".vtt"))
        assert in_order_ratio(shown, heard) >= 0.95, section.id  # the player says the words on the screen
    ways = page.xpath("//nav[contains(@class, 'other-ways')]//a")
    labels = {a.get("href"): a.text_content() for a in ways}
    assert labels[f"{PLAIN.folder}/sample-faq.mp3"] == "Listen to the whole guide in plain words"
    assert labels[f"{FULL.folder}/sample-faq.mp3"] == "Listen to the whole guide, full answers"


def test_the_plain_narration_is_heard_and_checked_like_the_full_one(sample_built, sample_doc):
    report = audio_check.check(sample_doc, sample_built)
    assert report.ok, [(r.name, r.detail) for r in report.rules if not r.ok]
    for section in sample_doc.sections:
        assert report.figures["recall"][f"{section.id} (plain)"] >= 0.6
        assert "plain: " in report.sections[section.id].detail
    timings = json.loads((sample_built / PLAIN.folder / "timings.json").read_text())
    assert [s["clips"][0]["target"] for s in timings["sections"]] == [plain_heading(s.id) for s in sample_doc.sections]
    assert any(r.name == "plain sample-faq.mp3 chapters" and r.ok for r in report.rules)


def test_swapping_two_sections_plain_audio_fails_the_check(sample_built, sample_doc, copy_of):
    folder = copy_of(sample_built)
    first, second = (folder / PLAIN.folder / section_file(s) for s in sample_doc.sections[:2])
    swap = first.with_suffix(".swap")
    shutil.move(first, swap)
    shutil.move(second, first)
    shutil.move(swap, second)
    report = audio_check.check(sample_doc, folder)
    for section in sample_doc.sections[:2]:
        presence = report.sections[section.id]
        assert not presence.present and "plain: " in presence.detail and "tagged" in presence.detail
    assert report.sections[sample_doc.sections[2].id].present


def test_the_ebook_carries_each_plain_rendition_and_ends_with_the_glossary(sample_built, sample_doc):
    with zipfile.ZipFile(sample_built / "sample-faq.epub") as book:
        for section in sample_doc.sections:
            chapter = etree.fromstring(book.read(f"EPUB/text/{section.id}.xhtml"))
            plain = chapter.xpath("//x:section[x:h2[@id=$id]]", namespaces=X, id=plain_heading(section.id))[0]
            assert plain.findtext("x:h2", namespaces=X) == "In plain words"
            assert in_order_ratio(section.plain_text, " ".join(plain.itertext())) >= 0.99
            smil = etree.fromstring(book.read(f"EPUB/overlays/{section.id}.smil"))
            sources = {a.get("src") for a in smil.xpath("//smil:audio", namespaces=X)}
            assert sources == {f"../audio/{section_file(section)}", f"../audio/plain/{section_file(section)}"}
            targets = {t.get("src").split("#")[1] for t in smil.xpath("//smil:text", namespaces=X)}
            # the plain narration's opening highlights the question with its "Section N of M" line (issue 28)
            assert f"{section.id}_question" in targets and f"{section.id}_ps1" in targets
        words = etree.fromstring(book.read("EPUB/words-to-know.xhtml"))
        spine = etree.fromstring(book.read("EPUB/content.opf")).xpath("//*[local-name()='itemref']/@idref")
    assert spine[-1] == "glossary"
    glossary = words.xpath("//x:section[@epub:type='glossary'][@role='doc-glossary']", namespaces=X)[0]
    terms = [" ".join(d.itertext()) for d in glossary.xpath(".//x:dt/x:dfn", namespaces=X)]
    assert sorted(terms, key=str.lower) == sorted(sample_doc.meta.glossary, key=str.lower)


def test_a_glossary_link_opens_its_definition_and_leads_back(sample_built, sample_doc):
    with zipfile.ZipFile(sample_built / "sample-faq.epub") as book:
        first = sample_doc.sections[0]
        chapter = etree.fromstring(book.read(f"EPUB/text/{first.id}.xhtml"))
        link = chapter.xpath("//x:a[@epub:type='noteref'][contains(@class, 'term')]", namespaces=X)[0]
        assert link.get("role") == "doc-noteref"
        target_file, fragment = link.get("href").split("#")
        words = etree.fromstring(book.read("EPUB/" + target_file.removeprefix("../")))
    meaning = words.xpath("//*[@id=$id]", id=fragment)[0]  # what a reading app shows as the pop-up
    definition = meaning.getparent()
    assert definition.tag.endswith("dd")
    term = " ".join(definition.getprevious().itertext())
    assert term.lower() == link.text.lower()
    assert sample_doc.meta.glossary[next(t for t in sample_doc.meta.glossary if t.lower() == term.lower())] in "".join(definition.itertext())
    back = definition.xpath(".//x:a", namespaces=X)
    assert f"text/{first.id}.xhtml#{link.get('id')}" in [a.get("href") for a in back]


def test_pandoc_reads_the_plain_renditions_and_the_glossary(sample_built, sample_doc):
    """A second, independent EPUB reader (pandoc's): every plain rendition and the glossary come through,
    a term link still points at its definition and the definition back at the term."""
    text = pypandoc.convert_file(str(sample_built / "sample-faq.epub"), "html", format="epub")
    page = lxml.html.fromstring(text)
    words = " ".join(page.itertext())
    for section in sample_doc.sections:
        assert in_order_ratio(section.plain_text, words) >= 0.95, section.id
    assert "Words to know" in words
    for term, meaning in sample_doc.meta.glossary.items():
        assert meaning in " ".join(words.split()), term
    ids = set(page.xpath("//@id"))
    to_glossary = [a.get("href") for a in page.xpath("//a[@href]") if "def-" in a.get("href")]
    back = [a.get("href") for a in page.xpath("//a[@href]") if re.search(r"_g\d+$", a.get("href"))]
    assert to_glossary and all(href.split("#")[-1] in ids for href in to_glossary)  # a term link lands...
    assert back and all(href.split("#")[-1] in ids for href in back)  # ...and the definition leads back


def test_ace_finds_no_violation_and_its_report_is_kept(sample_built, sample_doc, copy_of):
    folder = copy_of(sample_built)
    report = epub_check.check(sample_doc, folder)
    ace = [r for r in report.rules if r.name == "Ace by DAISY"]
    assert ace and ace[0].ok, ace
    kept = json.loads((folder / epub_check.ACE_REPORT).read_text())
    assert kept["earl:result"]["earl:outcome"] == "pass"
    opf = etree.fromstring(zipfile.ZipFile(folder / "sample-faq.epub").read("EPUB/content.opf"))
    assert opf.get("{http://www.w3.org/XML/1998/namespace}lang") == sample_doc.meta.lang


def test_ace_reports_a_package_without_its_language(sample_built, sample_doc, copy_of):
    folder = copy_of(sample_built)
    path = folder / "sample-faq.epub"
    with zipfile.ZipFile(path) as book:
        entries = [(info, book.read(info)) for info in book.infolist()]
    with zipfile.ZipFile(path, "w") as book:
        for info, data in entries:
            if info.filename == "EPUB/content.opf":
                data = re.sub(rb' xml:lang="[^"]*"', b"", data, count=1)
            book.writestr(info, data)
    report = epub_check.check(sample_doc, folder)
    ace = next(r for r in report.rules if r.name == "Ace by DAISY")
    assert not ace.ok and "epub-lang" in ace.detail and "serious" in ace.detail
