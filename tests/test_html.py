"""The plain-language page: built for real, read back by the check, and used in real Chromium
(Debian's /usr/bin/chromium under Playwright) with axe-core, a phone-sized window, 200 % text,
the keyboard, dark mode and print."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import struct
import zipfile
from pathlib import Path

import lxml.html
import pytest

from pipeline import checks
from pipeline.engine.build import BuildOptions, build
from pipeline.checks import html as html_check
from pipeline.formats import html as html_format
from pipeline.rendering import section_html
from pipeline.screenshots import chromium, save, served
from pipeline.source.reader import parse


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
HOSTILE_SOURCE = """---
title: "A pasted page"
lang: en-US
glossary:
  tumor: "A lump of cells."
---

## Is this safe? {#safe}

Some text <script>alert('full')</script> with a [bad link](javascript:alert('link')) and
<img src="x" onerror="alert('img')"> an image, then <iframe src="https://example.org/"></iframe>.

<div onclick="alert('div')">A div with a handler.</div>

::: plain
A tumor is a lump. <script>alert('plain')</script> Click [here](javascript:alert('plain-link')).

<a href="#" onmouseover="alert('hover')">hover me</a>
:::
"""


def page_text(folder: Path) -> str:
    """The built page as text."""
    return (folder / "index.html").read_text(encoding="utf-8")


def rules(report) -> dict[str, checks.Rule]:
    """A format report's rules by name."""
    return {rule.name: rule for rule in report.rules}


# --- the check reads the built page -----------------------------------------------------------


@pytest.mark.parametrize("which", ["faq", "sample"])
def test_check_passes_with_figures_for_every_section(which: str, request) -> None:
    """Every section present, every rule kept, and a grade measured from the page for each section."""
    doc = request.getfixturevalue(f"{which}_doc")
    folder = request.getfixturevalue(f"{which}_built")
    report = html_check.check(doc, folder)
    print("\n" + checks.table(doc, [report]))
    assert report.ok, checks.failures(doc, [report])
    figures = report.figures["readability"]
    assert list(figures) == [s.id for s in doc.sections]
    for section in doc.sections:
        assert figures[section.id]["grade"] <= 8.0
        assert figures[section.id]["sentence_words"] <= 15.0
        assert f"FK grade {figures[section.id]['grade']:.1f}" in rules(report)[f"readability {section.id}"].detail
    assert report.figures["grade_median"] <= 6.0
    assert "median FK grade" in rules(report)["readability median"].detail


def test_removed_section_is_reported_missing(copy_of, faq_built: Path, faq_doc) -> None:
    """Cut one answer out of a built page: the check names that section and the html format."""
    folder = copy_of(faq_built)
    page = page_text(folder)
    cut = re.sub(r'<section class="answer measure" aria-labelledby="where">.*?</section>\n', "", page, flags=re.S)
    assert cut != page
    (folder / "index.html").write_text(cut, encoding="utf-8")
    report = html_check.check(faq_doc, folder)
    assert not report.sections["where"].present
    assert all(p.present for sid, p in report.sections.items() if sid != "where")
    assert any("'where' missing from html" in line for line in checks.failures(faq_doc, [report]))


def test_retitled_heading_is_reported_missing(copy_of, faq_built: Path, faq_doc) -> None:
    """The heading must carry the section's own title, not just its id."""
    folder = copy_of(faq_built)
    page = page_text(folder).replace(">How likely is breast cancer to spread?</h2>", ">Odds</h2>")
    (folder / "index.html").write_text(page, encoding="utf-8")
    report = html_check.check(faq_doc, folder)
    assert not report.sections["how-likely"].present
    assert "heading" in report.sections["how-likely"].detail


def test_readability_gate_fails_on_the_original_wording(copy_of, faq_built: Path, faq_doc) -> None:
    """Put a section's original, harder text where its plain answer was: the grade rule fails."""
    folder = copy_of(faq_built)
    section = faq_doc.section("same-or-new")
    page = page_text(folder)
    start = page.index('<div class="plain">', page.index('<h2 id="same-or-new">'))
    end = page.index("</div>", start)
    page = page[:start] + f'<div class="plain">\n{section_html(faq_doc, section, "full")}\n' + page[end:]
    (folder / "index.html").write_text(page, encoding="utf-8")
    report = html_check.check(faq_doc, folder)
    gate = rules(report)["readability same-or-new"]
    assert not gate.ok, gate.detail
    assert report.figures["readability"]["same-or-new"]["grade"] > 8.0


def test_remembered_readability_equals_a_fresh_reading_and_follows_the_bytes(
        copy_of, faq_built: Path, faq_doc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second check reuses the measured grades with the same report; an edited page is measured again."""
    monkeypatch.setenv("PIPELINE_CACHE", str(tmp_path / "memo"))
    folder = copy_of(faq_built)
    fresh = html_check.check(faq_doc, folder)
    assert list((tmp_path / "memo" / "readability").rglob("*.json")), "the grades were not remembered"
    assert dataclasses.asdict(html_check.check(faq_doc, folder)) == dataclasses.asdict(fresh)
    section = faq_doc.section("same-or-new")
    page = page_text(folder)
    start = page.index('<div class="plain">', page.index('<h2 id="same-or-new">'))
    page = page[:start] + f'<div class="plain">\n{section_html(faq_doc, section, "full")}\n' + page[page.index("</div>", start):]
    (folder / "index.html").write_text(page, encoding="utf-8")
    edited = html_check.check(faq_doc, folder)
    assert edited.figures["readability"]["same-or-new"]["grade"] > fresh.figures["readability"]["same-or-new"]["grade"]
    assert not rules(edited)["readability same-or-new"].ok


def test_deleted_audio_file_breaks_the_player_rule(copy_of, faq_built: Path, faq_doc) -> None:
    """A player whose MP3 is gone is caught."""
    folder = copy_of(faq_built)
    (folder / "audio" / "03-same-or-new.mp3").unlink()
    rule = rules(html_check.check(faq_doc, folder))["audio players"]
    assert not rule.ok and "03-same-or-new.mp3" in rule.detail


@pytest.mark.parametrize("breakage, rule_name", [
    ("sizes dropped", "download sizes"),       # "E-book (EPUB, ...)" with no size
    ("size wrong", "download sizes"),          # a size that is not the file's
    ("players unloaded", "audio players"),     # preload="none": "0:00 / 0:00" until pressed
])
def test_downloads_without_sizes_or_players_without_lengths_fail(copy_of, faq_built: Path, faq_doc,
                                                                  breakage: str, rule_name: str) -> None:
    folder = copy_of(faq_built)
    assert rules(html_check.check(faq_doc, folder))[rule_name].ok
    page = page_text(folder)
    if breakage == "sizes dropped":
        broken = re.sub(r", \d+(?:\.\d)? (?:MB|KB)\)", ")", page)
    elif breakage == "size wrong":
        broken = re.sub(r"(\d+(?:\.\d)?) MB\)", lambda m: f"{float(m.group(1)) * 3:.1f} MB)", page, count=1)
    else:
        broken = page.replace('preload="metadata"', 'preload="none"')
    assert broken != page
    (folder / "index.html").write_text(broken, encoding="utf-8")
    assert not rules(html_check.check(faq_doc, folder))[rule_name].ok


def test_injected_script_breaks_the_no_script_rule(copy_of, faq_built: Path, faq_doc) -> None:
    """A script or handler slipped into the page is caught by the check."""
    folder = copy_of(faq_built)
    page = page_text(folder).replace("</main>", '<script>alert(1)</script><p onclick="x()">hi</p></main>')
    (folder / "index.html").write_text(page, encoding="utf-8")
    rule = rules(html_check.check(faq_doc, folder))["no scripts"]
    assert not rule.ok and "<script>" in rule.detail and "onclick" in rule.detail


@pytest.mark.fast
def test_missing_page_marks_every_section_missing(tmp_path: Path, faq_doc) -> None:
    """No index.html: nothing is present."""
    report = html_check.check(faq_doc, tmp_path)
    assert not any(p.present for p in report.sections.values())


# --- what the page holds ------------------------------------------------------------------------


def test_page_structure_players_and_links(faq_built: Path, faq_doc) -> None:
    """lang, h2 per section, a player per section with its own MP3, and links to PDF, EPUB and MP3."""
    page = page_text(faq_built)
    assert page.startswith('<!DOCTYPE html>\n<html lang="en-US">')
    for section in faq_doc.sections:
        assert f'<h2 id="{section.id}">' in page
        mp3 = re.search(rf'<audio controls preload="metadata" src="(audio/\d+-{re.escape(section.id)}\.mp3)"', page)
        assert mp3 and (faq_built / mp3.group(1)).is_file()  # metadata: the player shows its length, not 0:00
    for href in ("breast-cancer-recurrence.pdf", "breast-cancer-recurrence.epub", "audio/breast-cancer-recurrence.mp3"):
        assert f'href="{href}"' in page and (faq_built / href).is_file()
    assert page.count("<details") == len(faq_doc.sections) + 2  # each full answer, the questions, the other ways
    assert '<dfn id="glossary-metastasis">metastasis</dfn>' in page


def test_other_ways_give_every_download_its_size_and_the_audiobooks(faq_built: Path) -> None:
    """Every file offered says how big it is ("E-book (EPUB, ..., 5.3 MB)"), and each M4B built is offered."""
    page = lxml.html.fromstring(page_text(faq_built))
    items = page.xpath("//nav[contains(@class, 'other-ways')]//li")
    assert items
    for item in items:
        href = item.xpath("./a/@href")[0]
        size = (faq_built / href).stat().st_size
        shown = re.search(r"(\d+(?:\.\d)?) (MB|KB)\)", item.text_content())
        assert shown, item.text_content()
        assert abs(float(shown.group(1)) * (1e6 if shown.group(2) == "MB" else 1e3) - size) <= (5e4 if shown.group(2) == "MB" else 500)
    offered = set(page.xpath("//nav[contains(@class, 'other-ways')]//li/a/@href"))
    m4b = {str(p.relative_to(faq_built)) for p in faq_built.glob("audio/**/*.m4b")}
    assert m4b and m4b <= offered


@pytest.mark.fast
def test_dotted_underline_is_explained_only_when_there_is_a_glossary(tmp_path: Path) -> None:
    """The welcome line names the dotted underline only when words are explained at the end."""
    source = tmp_path / "no-glossary.md"
    source.write_text(HOSTILE_SOURCE.replace('glossary:\n  tumor: "A lump of cells."\n', ""), encoding="utf-8")
    folder = build(source, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", formats=("html",), quiet=True))
    welcome = lambda folder: lxml.html.fromstring(page_text(folder)).xpath("string(//p[@class='welcome'])")  # noqa: E731
    assert "Take your time" in welcome(folder) and "dotted underline" not in welcome(folder)
    with_terms = tmp_path / "glossary.md"
    with_terms.write_text(HOSTILE_SOURCE, encoding="utf-8")
    folder = build(with_terms, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", formats=("html",), quiet=True))
    assert "dotted underline" in welcome(folder)


@pytest.mark.fast
def test_hostile_source_reaches_the_page_without_anything_active(tmp_path: Path) -> None:
    """Scripts, handlers, frames and javascript: links in a source never reach index.html."""
    source = tmp_path / "hostile.md"
    source.write_text(HOSTILE_SOURCE, encoding="utf-8")
    folder = build(source, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", formats=("html",), quiet=True))
    page = page_text(folder).lower()
    for bad in ("<script", "alert(", "javascript:", "onerror", "onclick", "onmouseover", "<iframe", "<img"):
        assert bad not in page, bad
    report = html_check.check(parse(source), folder)
    assert rules(report)["no scripts"].ok
    assert "a tumor is a lump." in re.sub(r"<[^>]+>", "", page)  # the words stay, only the danger goes


@pytest.mark.fast
def test_fragment_cleaner_is_a_second_lock() -> None:
    """Even if raw HTML got past the parser, the page builder strips it."""
    dirty = (
        '<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:alert(2)">link</a>'
        '<a href=" JaVa\tScript:alert(3)">b</a><iframe src="//x"></iframe><style>p{}</style>'
        '<a href="https://example.org/">ok</a><a href="#where">in page</a></p><h2>Demoted</h2>'
    )
    clean = html_format.safe_fragment(dirty)
    assert "script" not in clean.lower() and "onclick" not in clean and "iframe" not in clean
    assert "<style" not in clean
    assert 'href="https://example.org/"' in clean and 'href="#where"' in clean
    assert "<h3>Demoted</h3>" in clean


@pytest.mark.fast
def test_glossary_marks_first_use_of_whole_terms_outside_markup(sample_doc) -> None:
    """Longest term first, case-insensitive, whole words, once per section, never in headings or attributes."""
    glossary = {"lymph": "L.", "lymph nodes": "Glands.", "invasive": "Grown in.", "non-invasive": "Not grown in."}
    doc = dataclasses.replace(sample_doc, meta=dataclasses.replace(sample_doc.meta, glossary=glossary))
    ids = html_format.PageIds(doc)
    html = (
        '<h3>Lymph nodes</h3><p title="lymph nodes">Your Lymph\nnodes and lymph. '
        'Noninvasive, non-invasive, then invasive and invasive again. <a href="#x">lymph</a> '
        "lymph nodes.</p>"
    )
    marked = html_format.mark_glossary(html, doc.meta.glossary, ids.term_link)
    links = re.findall(r'<a class="term" href="#([^"]+)"[^>]*>([^<]+)</a>', marked)
    assert links == [
        ("glossary-lymph-nodes", "Lymph\nnodes"),
        ("glossary-lymph", "lymph"),
        ("glossary-non-invasive", "non-invasive"),
        ("glossary-invasive", "invasive"),
    ]
    assert marked.startswith('<h3>Lymph nodes</h3><p title="lymph nodes">')
    assert '<a href="#x">lymph</a>' in marked


@pytest.mark.fast
def test_page_ids_avoid_section_ids(sample_doc) -> None:
    """A section called "main" or "glossary" keeps its id; the page's own ids step aside."""
    sections = tuple(dataclasses.replace(s, id=new) for s, new in zip(sample_doc.sections, ("main", "glossary", "contents")))
    ids = html_format.PageIds(dataclasses.replace(sample_doc, sections=sections))
    assert (ids.main, ids.glossary, ids.contents) == ("main-2", "glossary-2", "contents-2")


@pytest.mark.fast
def test_same_source_gives_the_same_bytes(tmp_path: Path) -> None:
    """Two html builds of the same source, in different folders with different caches, are byte-identical."""
    source = Path(__file__).parent / "fixtures" / "sample-faq.md"
    digests = []
    for run in ("one", "two"):
        folder = build(source, BuildOptions(out_root=tmp_path / run, cache_dir=tmp_path / f"cache-{run}", formats=("html",), quiet=True))
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".build.json")
        digests.append({str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert "index.html" in digests[0] and "fonts/AtkinsonHyperlegible-Regular.woff2" in digests[0]
    assert digests[0] == digests[1]


# --- in a real browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, never downloaded."""
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def page_urls(faq_built: Path, sample_built: Path):
    """Each built page on its own local server (the two builds live in different folders)."""
    with served(faq_built) as faq_root, served(sample_built) as sample_root:
        yield {"faq": faq_root + "index.html", "sample": sample_root + "index.html"}


def open_page(browser, url: str, width: int = 1280, scheme: str = "light", scale: float = 1):
    """A fresh tab at this size and colour scheme, with the page and its fonts loaded."""
    context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme, device_scale_factor=scale)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("which", ["faq", "sample"])
def test_axe_finds_no_wcag22_aa_violations(browser, page_urls, which: str, width: int, scheme: str) -> None:
    """axe-core (WCAG 2.0-2.2 A/AA rules) reports 0 violations, and really checked contrast."""
    from axe_playwright_python.sync_playwright import Axe

    page = open_page(browser, page_urls[which], width, scheme)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    page.context.close()
    print(f"\naxe {which} {width}px {scheme}: {results.violations_count} violations, "
          f"{len(results.response['passes'])} rules passed")
    assert results.violations_count == 0, results.generate_snapshot()
    passed = {rule["id"] for rule in results.response["passes"]}
    assert {"color-contrast", "html-has-lang", "document-title", "bypass", "link-name"} <= passed


@pytest.mark.parametrize("which", ["faq", "sample"])
def test_no_sideways_scrolling_on_a_320px_phone(browser, page_urls, which: str) -> None:
    """Reflow (WCAG 1.4.10): at 320 CSS px nothing is wider than the screen."""
    page = open_page(browser, page_urls[which], 320)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    page.context.close()
    assert width <= client == 320


def test_text_at_200_percent_still_reflows(browser, page_urls) -> None:
    """Resize text to 200 % on a phone, and zoom a 1280 px window to 200 %: bigger text, no sideways scroll."""
    page = open_page(browser, page_urls["faq"], 320)
    before = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    after, width, client = page.evaluate(
        "[parseFloat(getComputedStyle(document.body).fontSize), document.documentElement.scrollWidth, "
        "document.documentElement.clientWidth]"
    )
    page.context.close()
    assert after == pytest.approx(2 * before)
    assert width <= client
    zoomed = open_page(browser, page_urls["faq"], 640, scale=2)  # 1280 device px at 200 % zoom
    width, client = zoomed.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    zoomed.context.close()
    assert width <= client == 640


def test_large_type_and_a_readable_measure(browser, page_urls) -> None:
    """Body text at least 1.125 rem (18 px) in Atkinson Hyperlegible, lines no longer than 70 characters."""
    page = open_page(browser, page_urls["faq"], 1280)
    size, family, loaded = page.evaluate(
        "[parseFloat(getComputedStyle(document.querySelector('.plain p')).fontSize), "
        "getComputedStyle(document.body).fontFamily, document.fonts.check('20px \"Atkinson Hyperlegible\"')]"
    )
    chars = page.evaluate(
        """() => { const p = document.querySelector('.plain p');
                   const probe = document.createElement('span'); probe.textContent = '0'.repeat(100);
                   probe.style.visibility = 'hidden'; probe.style.whiteSpace = 'nowrap'; p.appendChild(probe);
                   const ch = probe.getBoundingClientRect().width / 100; probe.remove();
                   return p.getBoundingClientRect().width / ch; }"""
    )
    page.context.close()
    assert size >= 18
    assert family.startswith('"Atkinson Hyperlegible"') and loaded
    print(f"\nmeasure: {chars:.1f} characters per line, body {size}px")
    assert 40 <= chars <= 70


def test_keyboard_tab_reaches_every_link_and_player(browser, page_urls, faq_doc) -> None:
    """Tab from the top visits the skip link first, then every link, every player and every summary
    (with every full answer opened, as a reader who wants them does: its player is inside)."""
    page = open_page(browser, page_urls["faq"], 1280)
    page.evaluate("document.querySelectorAll('details').forEach(panel => { panel.open = true; })")
    expected = set(page.evaluate(
        "[...document.querySelectorAll('a[href], audio[controls], summary')]"
        ".map(e => e.tagName + ' ' + (e.getAttribute('href') || e.getAttribute('src') || e.textContent.trim() + [...document.querySelectorAll('summary')].indexOf(e)))"
    ))
    describe = (
        "(() => { const e = document.activeElement; if (!e || e === document.body) return null;"
        " return e.tagName + ' ' + (e.getAttribute('href') || e.getAttribute('src') || e.textContent.trim() + [...document.querySelectorAll('summary')].indexOf(e)); })()"
    )
    visited: list[str] = []
    for _ in range(400):
        page.keyboard.press("Tab")
        current = page.evaluate(describe)
        if current is None or (visited and current == visited[0]):
            break
        if not visited or visited[-1] != current:
            visited.append(current)
    page.context.close()
    assert visited[0] == "A #main"
    assert expected - set(visited) == set()
    assert sum(1 for v in set(visited) if v.startswith("AUDIO ")) == 2 * len(faq_doc.sections)  # plain and full


def test_skip_link_and_focus_ring_are_visible(browser, page_urls) -> None:
    """The skip link appears on screen when focused, and focus draws a thick outline."""
    page = open_page(browser, page_urls["faq"], 320)
    page.keyboard.press("Tab")
    top, outline_width, outline_style = page.evaluate(
        "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return [e.getBoundingClientRect().top, parseFloat(s.outlineWidth), s.outlineStyle]; })()"
    )
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    in_main = page.evaluate("document.querySelector('main').contains(document.activeElement)")
    page.context.close()
    assert top >= 0
    assert outline_style == "solid" and outline_width >= 2
    assert in_main


def test_dark_mode_changes_colours(browser, page_urls) -> None:
    """prefers-color-scheme: dark gives a dark background and light text."""
    colours = {}
    for scheme in ("light", "dark"):
        page = open_page(browser, page_urls["faq"], 1280, scheme)
        colours[scheme] = page.evaluate(
            "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"
        )
        page.context.close()

    def luminance(css: str) -> float:
        r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert luminance(colours["light"][0]) > 200 > 60 > luminance(colours["dark"][0])
    assert luminance(colours["dark"][1]) > 200


def test_print_stylesheet_keeps_only_what_paper_needs(browser, page_urls) -> None:
    """Printed: black on white, no players, no navigation, answers and glossary kept."""
    page = open_page(browser, page_urls["faq"], 1280)
    page.emulate_media(media="print")
    shown = page.evaluate(
        "Object.fromEntries(['.listen', 'nav.contents', '.skip-link', '.plain', '.glossary']"
        ".map(s => [s, getComputedStyle(document.querySelector(s)).display]))"
    )
    colour = page.evaluate("getComputedStyle(document.querySelector('.plain p')).color")
    pdf = page.pdf()
    page.context.close()
    assert shown[".listen"] == shown["nav.contents"] == shown[".skip-link"] == "none"
    assert shown[".plain"] != "none" and shown[".glossary"] != "none"
    assert colour == "rgb(0, 0, 0)"
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("which", ["faq", "sample"])
def test_first_question_on_a_phones_first_screen(browser, page_urls, which: str, scheme: str, tmp_path: Path) -> None:
    """At 320 x 640 CSS px the first question's heading is inside the first screen (the questions and
    the other ways to read are folded to a line each above it), and the screenshot shows it."""
    context = browser.new_context(viewport={"width": 320, "height": 640}, color_scheme=scheme)
    page = context.new_page()
    page.goto(page_urls[which], wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    top, bottom = page.evaluate("(() => { const r = document.querySelector('main section h2').getBoundingClientRect();"
                                " return [r.top, r.bottom]; })()")
    shot = tmp_path / f"{which}-{scheme}-320x640.png"
    page.screenshot(path=str(shot))
    context.close()
    print(f"\n{which} {scheme}: first question at {top:.0f}-{bottom:.0f} px of 640 ({shot})")
    assert 0 <= top and bottom <= 640
    assert struct.unpack(">II", shot.read_bytes()[16:24]) == (320, 640)


def test_definition_terms_are_bold_on_the_page_and_in_the_ebook(browser, tmp_path: Path) -> None:
    """A definition list in an answer: each term drawn bold, on the page and by the e-book's stylesheet."""
    source = tmp_path / "terms.md"
    source.write_text(HOSTILE_SOURCE.split("## Is this safe?")[0] + (
        "## What do the words mean? {#words}\n\nSome words.\n\n::: plain\nPort\n:  A small disc under the skin.\n\n"
        "Line\n:  A thin tube.\n:::\n"), encoding="utf-8")
    folder = build(source, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", formats=("html", "epub"), quiet=True))
    with served(folder) as root:
        page = open_page(browser, root + "index.html", 320)
        weights = page.evaluate("[...document.querySelectorAll('.plain dt')].map(e => getComputedStyle(e).fontWeight)")
        page.context.close()
    assert weights and all(int(w) >= 700 for w in weights)
    with zipfile.ZipFile(folder / "terms.epub") as book:
        book.extractall(tmp_path / "book")
    with served(tmp_path / "book" / "EPUB") as root:
        page = open_page(browser, root + "text/words.xhtml", 320)
        weights = page.evaluate("[...document.querySelectorAll('section.plain dt')].map(e => getComputedStyle(e).fontWeight)")
        page.context.close()
    assert weights and all(int(w) >= 700 for w in weights)


def test_screenshots_at_phone_and_desktop_width(browser, faq_built: Path, tmp_path: Path) -> None:
    """The saved screenshots are PNGs 320 and 1280 px wide, light and dark."""
    saved = save(faq_built, tmp_path, browser)
    assert len(saved) == 4
    for path in saved:
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        width = struct.unpack(">I", header[16:20])[0]
        assert width == (320 if "-320-" in path.name else 1280)
