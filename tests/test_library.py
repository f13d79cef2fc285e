"""The clinic's library page, read back with an HTML parser and checked by axe-core in real Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline import checks, formats
from pipeline.engine.build import BuildOptions, build
from pipeline.audio.tags import audio_seconds
from pipeline.library import build_index, human_length, human_size
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


class LibraryPage(HTMLParser):
    """What a reader of the page gets: its handouts (heading, links, sizes, lengths) and the page's frame."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.title = ""
        self.handouts: list[dict] = []
        self.skip_links: list[str] = []
        self.landmarks: list[str] = []
        self.h1 = 0
        self._open: list[str] = []
        self._link: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self._open.append(tag)
        if tag == "html":
            self.lang = attributes.get("lang") or ""
        elif tag in ("main", "header", "footer"):
            self.landmarks.append(tag)
        elif tag == "h1":
            self.h1 += 1
        elif tag == "article":
            self.handouts.append({"title": "", "lang": None, "links": [], "status": ""})
        elif tag == "h2" and self.handouts:  # the title is in the handout's language, the rest in the library's
            self.handouts[-1]["lang"] = attributes.get("lang")
        elif tag == "a" and attributes.get("href", "").startswith("#"):
            self.skip_links.append(attributes["href"])
        elif tag == "a" and self.handouts:
            self._link = {"href": attributes["href"], "text": "", "bytes": None, "size": "", "length": ""}
            self.handouts[-1]["links"].append(self._link)
        elif tag == "data" and self._link is not None:
            self._link["bytes"] = int(attributes["value"])

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()
        if tag == "li":
            self._link = None

    def handle_data(self, text: str) -> None:
        where = self._open[-1] if self._open else ""
        if where == "title":
            self.title += text
        elif where == "h2" and self.handouts:
            self.handouts[-1]["title"] += text
        elif where == "strong" and self.handouts:
            self.handouts[-1]["status"] += text
        elif self._link is not None and "a" in self._open:
            self._link["text"] += text
        elif self._link is not None and where == "data":
            self._link["size"] += text
        elif self._link is not None and where == "time":
            self._link["length"] += text


def read_page(path: Path) -> LibraryPage:
    """Parse the built library page."""
    page = LibraryPage()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def page_title(built_page: Path) -> str:
    """A built handout's own <title>, read the way a browser tab shows it."""
    match = re.search(r"<title>(.*?)</title>", built_page.read_text(encoding="utf-8"), re.S)
    return " ".join(match.group(1).split()) if match else ""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real handouts built into one output folder: the fixture FAQ (checked) and a shorter one (failing check)."""
    root = tmp_path_factory.mktemp("library")
    shorter = root / "screening-visit.md"
    text = SAMPLE.read_text(encoding="utf-8").replace("Getting Ready for a Mammogram", "Your Screening Visit")
    shorter.write_text(text[: text.index("## What if I am called back")], encoding="utf-8")
    options = BuildOptions(out_root=root / "out", cache_dir=root / "cache", quiet=True)
    for source in (SAMPLE, shorter):
        folder = build(source, options)
    checks.run(parse(SAMPLE), root / "out" / SAMPLE.stem)
    # The second handout loses a section's audio after its build, so its last check fails for real.
    doc = parse(shorter)
    next((folder / "audio").glob(f"*-{doc.sections[-1].id}.mp3")).unlink()
    checks.run(doc, folder)
    build_index(root / "out")
    return root / "out"


def test_every_handout_is_listed_with_its_title_from_the_built_page(library: Path) -> None:
    """One entry per built folder, titled as its own page is, sorted by title."""
    page = read_page(library / "index.html")
    folders = sorted(p for p in library.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(page.handouts) == len(folders) == 2
    titles = sorted(page_title(folder / "index.html") for folder in folders)
    assert [h["title"] for h in page.handouts] == titles
    assert all(h["lang"] == "en-US" for h in page.handouts)


def test_every_link_opens_a_built_file_and_states_its_true_size(library: Path) -> None:
    """Each handout links every file its formats publish; sizes match the files on disk."""
    page = read_page(library / "index.html")
    for handout in page.handouts:
        hrefs = [link["href"] for link in handout["links"]]
        name = hrefs[0].split("/")[0]
        for wanted in (p.path for fmt in formats.names() for p in formats.published(fmt, name)):
            assert f"{name}/{wanted}" in hrefs, f"{handout['title']}: no link to {wanted}"
        for link in handout["links"]:
            target = library / link["href"]
            assert target.is_file(), link["href"]
            assert link["bytes"] == os.path.getsize(target)
            assert link["size"] == human_size(os.path.getsize(target))
            if target.suffix in (".mp3", ".m4b"):
                assert link["length"] == human_length(audio_seconds(target))
                assert audio_seconds(target) > 5


def test_the_last_check_result_is_shown_in_words(library: Path) -> None:
    """A passing handout says so; one whose audio lost a section says it failed and names the section."""
    page = read_page(library / "index.html")
    by_title = {h["title"]: h for h in page.handouts}
    assert by_title[page_title(library / SAMPLE.stem / "index.html")]["status"] == "Check passed:"
    assert by_title[page_title(library / "screening-visit" / "index.html")]["status"] == "Check failed:"
    html = (library / "index.html").read_text(encoding="utf-8")
    assert f"section getting-ready is missing from the {formats.label('audio')}" in html


def test_the_page_is_a_calm_accessible_frame(library: Path) -> None:
    """Language, one h1, landmarks, a skip link to main, and nothing that changes between rebuilds."""
    page = read_page(library / "index.html")
    assert page.lang == "en" and page.title.strip() and page.h1 == 1
    assert {"header", "main", "footer"} <= set(page.landmarks)
    assert page.skip_links == ["#main"]
    before = (library / "index.html").read_bytes()
    build_index(library)
    assert (library / "index.html").read_bytes() == before
    assert not re.search(rb"\d{4}-\d{2}-\d{2}", before), "a date without SOURCE_DATE_EPOCH makes rebuilds differ"


def test_a_reproducible_build_dates_the_page(library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With SOURCE_DATE_EPOCH the page carries that day, and only that day."""
    copy = tmp_path / "out"
    shutil.copytree(library, copy)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795564800")
    assert 'datetime="2026-11-25"' in build_index(copy).read_text(encoding="utf-8")


@pytest.mark.fast
def test_sizes_and_lengths_read_as_people_say_them() -> None:
    """The wording a patient reads next to each link."""
    assert human_size(412 * 1024) == "412 KB"
    assert human_size(1.6 * 1024 * 1024 // 1) == "1.6 MB"
    assert human_size(900) == "900 bytes"
    assert human_length(209.4) == "3 min 29 s"
    assert human_length(45) == "45 s"
    assert human_length(3725) == "1 h 2 min"


def test_cli_index_writes_the_page_and_refuses_a_missing_folder(library: Path, tmp_path: Path) -> None:
    """`python -m pipeline index OUT` is what the Makefile runs after every document is checked."""
    copy = tmp_path / "out"
    shutil.copytree(library, copy)
    (copy / "index.html").unlink()
    run = subprocess.run([sys.executable, "-m", "pipeline", "index", str(copy)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (copy / "index.html").read_bytes() == (library / "index.html").read_bytes()
    missing = subprocess.run([sys.executable, "-m", "pipeline", "index", str(tmp_path / "nowhere")], cwd=ROOT, capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_wcag_22_aa_violation_and_the_page_reflows_at_320_px(library: Path, scheme: str) -> None:
    """axe-core in real Chromium: 0 WCAG 2.2 A/AA violations, in light and dark mode, and no sideways scroll."""
    playwright = pytest.importorskip("playwright.sync_api")
    from axe_playwright_python.sync_playwright import Axe

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
            page.goto((library / "index.html").as_uri())
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
            assert results.violations_count == 0, results.generate_snapshot()
            page.set_viewport_size({"width": 320, "height": 640})
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
            page.screenshot(path=str(library / f"library-320-{scheme}.png"), full_page=True)
        finally:
            browser.close()
