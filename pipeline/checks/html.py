"""Check the built web page (`index.html`) from the file alone: every section's plain answer is
under its heading, each answer reads at the grade the readers need, and the page keeps the rules
a screen reader, a keyboard and a hostile source depend on.

Readability is measured on the text the page shows (the plain answer, not the folded-away full
text), one paragraph or list item at a time, with `pipeline.language.readability`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
from lxml import etree

from ..language import readability
from ..engine.cache import check_memo, file_digest, fingerprint
from ..config import setting
from ..formats.audio import RENDITIONS, section_file
from ..model import Document, Section
from ..language.scripts import counting_unit
from . import FormatReport, interface_words, presence

FORMAT = "html"
PAGE = "index.html"
BLOCKS = {"p", "li", "dt", "dd", "blockquote", "h3", "h4", "h5", "h6", "td", "th", "pre", "caption", "figcaption"}
ACTIVE_ELEMENTS = ("script", "iframe", "frame", "object", "embed", "applet", "base", "portal")
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
LANDMARKS = ("header", "nav", "main", "footer")
# Readability is remembered by the page's bytes AND the code that measures it, so a change to how
# answers are found or graded never reuses figures measured the old way.
_CODE_DIGEST = fingerprint(file_digest(Path(__file__)), file_digest(Path(readability.__file__)))


def check(doc: Document, out_dir: Path) -> FormatReport:
    """Presence per section, readability per section, and the page's own rules."""
    report = FormatReport(FORMAT)
    path = out_dir / PAGE
    if not path.is_file():
        return report.missing(doc, f"{PAGE} not found")
    content = path.read_bytes()
    try:
        page = lxml.html.fromstring(content)
    except (etree.ParserError, ValueError) as exc:
        return report.missing(doc, f"{PAGE} cannot be parsed: {exc}")
    report.figures["bytes"] = path.stat().st_size
    regions = {section.id: answer_region(page, section) for section in doc.sections}
    for section in doc.sections:
        region = regions[section.id]
        found = text_of(region) + " " + " ".join(region.xpath(".//img/@alt")) if region is not None else ""
        report.sections[section.id] = presence.judge(section.title, section.plain_passages, region is not None, found)
    with report.guard("readability"):
        measured = measure_answers(hashlib.sha256(content).hexdigest(), doc, regions)
        readability_rules(report, doc, measured)
    page_rules(report, doc, page, out_dir)
    with report.guard("no English interface words"):
        interface_words.check(report, doc, [interface_words.shown(page, doc.meta.lang)])
    return report


def measure_answers(page_digest: str, doc: Document, regions: dict[str, lxml.html.HtmlElement | None]
                    ) -> dict[str, readability.Readability]:
    """Each found answer's readability, remembered by the page's bytes (loading the dictionary is slow)."""
    titles = [(section.id, section.title) for section in doc.sections]
    key = fingerprint("readability", page_digest, titles, doc.meta.lang, _CODE_DIGEST)
    found = check_memo().remember("readability", key, lambda: {
        sid: asdict(readability.measure(blocks(region), doc.meta.lang)) for sid, region in regions.items() if region is not None
    })
    return {sid: readability.Readability(**found[sid]) for sid in regions if sid in found}


def answer_region(page: lxml.html.HtmlElement, section: Section) -> lxml.html.HtmlElement | None:
    """The plain answer under the section's h2 (None when the heading is missing or retitled)."""
    for h2 in page.xpath("//h2[@id=$id]", id=section.id):
        if squash(h2.text_content()) != squash(section.title):
            continue
        container = h2.getparent()
        plain = container.xpath("./div[contains(concat(' ', normalize-space(@class), ' '), ' plain ')]")
        if plain:
            return plain[0]
    return None


def squash(value: str) -> str:
    """Text with runs of white space made one space."""
    return " ".join(value.split())


def text_of(element: lxml.html.HtmlElement) -> str:
    """The visible words of an element, block by block."""
    return "\n\n".join(blocks(element))


def blocks(element: lxml.html.HtmlElement) -> list[str]:
    """The text of each paragraph or list item in reading order (a block's own words, not its sub-blocks)."""
    found = [squash(_own_text(element))]
    for block in element.iterdescendants(*BLOCKS):
        found.append(squash(_own_text(block)))
    return [b for b in found if b]


def _own_text(element: lxml.html.HtmlElement) -> str:
    """Words directly in this block and its inline children, leaving nested blocks to themselves."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in BLOCKS and not any(
            isinstance(d.tag, str) and d.tag in BLOCKS for d in child.iterdescendants()
        ):
            parts.append(_inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _inline_text(element: lxml.html.HtmlElement) -> str:
    """An inline element's words, a note's number apart from the word it follows ("Word" and "1",
    not "word1": a sentence with two notes fell under the presence ratio)."""
    if element.get("role") == "doc-noteref":
        return f" {element.text_content()} "
    return (element.text or "") + "".join(_inline_text(child) + (child.tail or "") for child in element
                                          if isinstance(child.tag, str))


def readability_rules(report: FormatReport, doc: Document, measured: dict[str, readability.Readability]) -> None:
    """Each section's score by its language's formula, sentence length, and the median score,
    against `[tool.pipeline.readability]`; without a formula, sentence length alone (and said so)."""
    formula = readability.formula_for(doc.meta.lang)
    limits = setting("readability").get(doc.meta.lang.split("-")[0].lower()) if formula else None
    unit = counting_unit(doc.meta.lang)
    words_max = float(setting(f"sentence_{unit}s_max"))
    lower = readability.EASIER[formula] == "lower"
    name = {"flesch-kincaid": "FK grade", "szigriszt-pazos": "INFLESZ"}.get(formula, "")

    def fits(score: float, limit: float) -> bool:
        return score <= limit if lower else score >= limit

    bound = "max" if lower else "min"
    for section in doc.sections:
        figures = measured.get(section.id)
        if figures is None:
            report.rule(f"readability {section.id}", False, "no plain answer found on the page to measure")
            continue
        ok = figures.sentence_words <= words_max and figures.sentences > 0
        detail = f"{figures.sentence_words:.1f} {unit}s per sentence (max {words_max:g}), {figures.sentences} sentences"
        if limits:
            ok = ok and fits(figures.grade, float(limits["limit"]))
            detail = f"{name} {figures.grade:.1f} ({bound} {float(limits['limit']):g}), " + detail
        else:
            detail = f"sentence length only: no readability formula for {doc.meta.lang} here; " + detail
        report.rule(f"readability {section.id}", ok, detail)
    median = readability.median_grade(measured.values())
    if limits:
        report.rule(
            "readability median", bool(measured) and fits(median, float(limits["median"])),
            f"median {name} {median:.1f} ({bound} {float(limits['median']):g}) over {len(measured)} sections",
        )
    report.figures["readability"] = {sid: m.as_dict() for sid, m in measured.items()}
    report.figures["readability_formula"] = formula or "sentence length only"
    report.figures["grade_median"] = round(median, 1)


def page_rules(report: FormatReport, doc: Document, page: lxml.html.HtmlElement, out_dir: Path) -> None:
    """Language, outline, landmarks, no active content, players and links that work."""
    lang = page.get("lang", "")
    report.rule("lang", lang == doc.meta.lang, f'<html lang="{lang}"> (source says {doc.meta.lang})')
    h1 = page.xpath("//h1")
    report.rule("one h1", len(h1) == 1, f"{len(h1)} h1 element(s)")
    report.rule("headings in order", *_heading_order(page))
    missing = [name for name in LANDMARKS if not page.xpath(f"//{name}")]
    skip = page.xpath("//body//a[1]/@href")
    main_id = page.xpath("//main/@id")
    skip_ok = bool(skip and main_id and skip[0] == f"#{main_id[0]}")
    report.rule(
        "landmarks and skip link", not missing and skip_ok,
        ("missing " + ", ".join(missing) + "; " if missing else f"{', '.join(LANDMARKS)} present; ")
        + ("first link skips to main" if skip_ok else "first link does not skip to <main id>"),
    )
    for name, rule, arguments in (
        ("no scripts", _no_active_content, (page,)),
        ("audio players", _players, (doc, page, out_dir)),
        ("links resolve", _links, (page, out_dir)),
        ("glossary", _glossary, (doc, page)),
        ("tables and pictures", _tables_and_pictures, (page, out_dir)),
        ("ids unique", _ids_unique, (page,)),
        ("download sizes", _download_sizes, (page, out_dir)),
        ("editions", _editions, (page, out_dir)),
    ):
        with report.guard(name):
            report.rule(name, *rule(*arguments))


def _heading_order(page: lxml.html.HtmlElement) -> tuple[bool, str]:
    """The outline starts at h1 and never skips a level going down."""
    levels = [int(h.tag[1]) for h in page.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    if not levels or levels[0] != 1:
        return False, f"outline starts at h{levels[0] if levels else '?'} instead of h1"
    for before, after in zip(levels, levels[1:]):
        if after > before + 1:
            return False, f"h{before} followed by h{after}"
    return True, f"{len(levels)} headings, levels " + "/".join(f"h{n}×{levels.count(n)}" for n in sorted(set(levels)))


def _no_active_content(page: lxml.html.HtmlElement) -> tuple[bool, str]:
    """No script, frame or plug-in element, no event handler attribute, no script URL."""
    found: list[str] = [f"<{e.tag}>" for e in page.iter(*ACTIVE_ELEMENTS)]
    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{name}= on <{element.tag}>")
            elif "".join(value.split()).lower().startswith(SCRIPT_SCHEMES):
                found.append(f"{name}={value[:30]!r} on <{element.tag}>")
    if found:
        return False, "active content: " + ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
    return True, "no script, frame, handler or script URL"


def _local_file(out_dir: Path, href: str) -> Path | None:
    """The file a relative link points to, if it stays inside the built folder."""
    target = (out_dir / unquote(urlsplit(href).path)).resolve()
    root = out_dir.resolve()
    return target if target.is_relative_to(root) else None


def _players(doc: Document, page: lxml.html.HtmlElement, out_dir: Path) -> tuple[bool, str]:
    """Every player's file exists and has a name; every section MP3 on disk has its player, the plain
    narration beside the plain answer and the full narration inside the full answer."""
    players = page.xpath("//audio")
    problems: list[str] = []
    sources = set()
    for player in players:
        src = player.get("src") or next(iter(player.xpath("./source/@src")), "")
        sources.add(src)
        target = _local_file(out_dir, src) if src else None
        if target is None or not target.is_file():
            problems.append(f"{src or '(no src)'} not found")
        if player.get("controls") is None:
            problems.append(f"{src} has no controls")
        if not (player.get("aria-label") or player.get("aria-labelledby")):
            problems.append(f"{src} has no accessible name")
        if player.get("preload", "auto") == "none":
            problems.append(f"{src} loads nothing until pressed (it shows 0:00 / 0:00)")
    for section in doc.sections:
        for rendition in RENDITIONS:
            href = f"{rendition.folder}/{section_file(section, '.mp3', len(doc.sections))}"
            if not (out_dir / href).is_file():
                continue
            if href not in sources:
                problems.append(f"section '{section.id}' has {href} but no player")
            inside = "ancestor::details" if rendition.name == "full" else "not(ancestor::details)"
            placed = page.xpath(f"//section[@aria-labelledby=$id]//audio[{inside}]/@src", id=section.id)
            if placed and placed[0] != href:
                where = "in the full answer" if rendition.name == "full" else "beside the plain answer"
                problems.append(f"section '{section.id}': the player {where} plays {placed[0]}, not {href}")
    if problems:
        return False, "; ".join(problems[:5])
    if not players:
        return True, "no audio built beside the page, so no players"
    return True, f"{len(players)} players, every file present"


def _links(page: lxml.html.HtmlElement, out_dir: Path) -> tuple[bool, str]:
    """Every in-page link lands on an id and every relative link on a file beside the page."""
    ids = set(page.xpath("//@id"))
    broken: list[str] = []
    local = external = 0
    for href in page.xpath("//a[not(@hreflang)]/@href"):  # links to other language editions: their own rule
        parts = urlsplit(href)
        if parts.scheme or parts.netloc:
            external += 1
            continue
        if not parts.path:
            if unquote(parts.fragment) not in ids:
                broken.append(href)
            continue
        local += 1
        target = _local_file(out_dir, href)
        if target is None or not target.is_file():
            broken.append(href)
    if broken:
        return False, "broken: " + ", ".join(broken[:5])
    return True, f"{local} file links and every in-page link resolve ({external} external)"


def _download_sizes(page: lxml.html.HtmlElement, out_dir: Path) -> tuple[bool, str]:
    """Every file the "other ways to read" list offers says how big it is, within its rounding
    ("5.3 MB", "240 KB"), so a reader on a phone plan knows before tapping."""
    wrong: list[str] = []
    items = page.xpath("//nav[contains(concat(' ', @class, ' '), ' other-ways ')]//li[a]")
    for item in items:
        href = item.xpath("./a/@href")[0]
        target = _local_file(out_dir, href)
        said = re.search(r"(\d+(?:[.,]\d)?)\s*(MB|KB)", item.text_content())
        if target is None or not target.is_file():
            continue  # "links resolve" names it
        size = target.stat().st_size
        if not said:
            wrong.append(f"{href} gives no size")
            continue
        shown = float(said.group(1).replace(",", ".")) * (1e6 if said.group(2) == "MB" else 1e3)
        if abs(shown - size) > (0.05e6 if said.group(2) == "MB" else 500) + 1:
            wrong.append(f"{href} says {said.group(0)}, is {size} bytes")
    if wrong:
        return False, "; ".join(wrong[:5])
    return True, f"{len(items)} downloads, each with its size" if items else "no other formats offered"


def _editions(page: lxml.html.HtmlElement, out_dir: Path) -> tuple[bool, str]:
    """Each link to another language edition names its language and leads to a built page beside
    this one's folder; one not built yet (an edition built after this one) is said, not failed."""
    links = page.xpath("//a[@hreflang]")
    unnamed = [a.get("href") for a in links if a.get("lang") != a.get("hreflang")]
    waiting = [a.get("href") for a in links if not (out_dir / unquote(a.get("href", ""))).resolve().is_file()]
    if unnamed:
        return False, f"edition links without their language: {', '.join(unnamed)}"
    if not links:
        return True, "no other language edition"
    built = len(links) - len(waiting)
    return True, f"{built} of {len(links)} edition links lead to a built page" + (
        f"; not built yet here: {', '.join(waiting)}" if waiting else "")


def _tables_and_pictures(page: lxml.html.HtmlElement, out_dir: Path) -> tuple[bool, str]:
    """Every table's header cells are scoped to their column or row; every picture says what it
    shows and is a file beside the page."""
    problems: list[str] = []
    unscoped = page.xpath("//th[not(@scope='col' or @scope='row')]")
    if unscoped:
        problems.append(f"{len(unscoped)} header cell(s) without scope")
    tables = page.xpath("//table")
    headless = [t for t in tables if not t.xpath(".//th")]
    if headless:
        problems.append(f"{len(headless)} table(s) without header cells")
    images = page.xpath("//img")
    for image in images:
        src = image.get("src", "")
        if not (image.get("alt") or "").strip():
            problems.append(f"picture {src} has no alt text")
        target = _local_file(out_dir, src) if src else None
        if target is None or not target.is_file():
            problems.append(f"picture {src or '(no src)'} not found")
    if problems:
        return False, "; ".join(problems[:5])
    return True, f"{len(tables)} table(s) with scoped headers, {len(images)} picture(s) described and present"


def _ids_unique(page: lxml.html.HtmlElement) -> tuple[bool, str]:
    """No id is given to two elements, so every link lands where it says."""
    ids = page.xpath("//@id")
    twice = sorted(i for i, uses in Counter(ids).items() if uses > 1)
    return (not twice, f"used twice: {', '.join(twice[:5])}" if twice else f"{len(ids)} ids, each used once")


def _glossary(doc: Document, page: lxml.html.HtmlElement) -> tuple[bool, str]:
    """Each glossary term is a <dfn id> in a list of definitions, and each term link lands on one."""
    if not doc.meta.glossary:
        return True, "the source has no glossary"
    defined = {squash(d.text_content()).lower(): d.get("id") for d in page.xpath("//dl//dfn[@id]")}
    missing = [t for t in doc.meta.glossary if t.lower() not in defined]
    targets = {f"#{i}" for i in defined.values()}
    links = page.xpath("//a[contains(concat(' ', normalize-space(@class), ' '), ' term ')]/@href")
    stray = [h for h in links if h not in targets]
    if missing or stray:
        return False, f"undefined: {', '.join(missing) or 'none'}; term links to nowhere: {', '.join(stray) or 'none'}"
    return True, f"{len(defined)} terms defined, {len(links)} first uses linked"
