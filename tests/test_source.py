"""The source format: the real FAQ parses into the model, and every kind of bad input gets one clear error."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.language import narration
from pipeline.errors import SourceError
from pipeline.source.reader import parse
from pipeline.rendering import section_html

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seeds" / "000_eb049f7e2a657680.txt"
HEAD = "---\ntitle: T\nlang: en-US\n---\n\n"
GOOD_SECTION = "## A question? {#a}\n\nSome text.\n\n::: plain\nSome plain text.\n:::\n"


def write(tmp_path: Path, text: str | bytes, name: str = "doc.md") -> Path:
    """A source file in tmp_path with this content."""
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_faq_has_question_sections_with_stable_ids(faq_doc):
    ids = [s.id for s in faq_doc.sections]
    assert 6 <= len(ids) <= 9
    assert ids[1] == "where"
    assert all(s.title.endswith("?") for s in faq_doc.sections)
    assert faq_doc.meta.lang == "en-US" and faq_doc.meta.title
    assert faq_doc.warnings == ()


@pytest.mark.skipif(not SEED.exists(), reason="the seed lives in ../shared")
def test_faq_keeps_the_seed_wording(faq_doc):
    full = " ".join(" ".join(s.full_text.split()) for s in faq_doc.sections)
    seed_lines = [line.strip(" •\u2022") for line in SEED.read_text(encoding="utf-8").splitlines()[1:]]
    sentences = [s for line in seed_lines for s in re.split(r"(?<=[.?!])\s+", " ".join(line.split())) if s]
    missing = [s for s in sentences if s not in full]
    assert not missing, missing[:3]
    positions = [full.index(s) for s in sentences]
    assert positions == sorted(positions), "seed sentences out of order"


def test_every_sentence_is_marked_and_narrated(faq_doc):
    for section in faq_doc.sections:
        span_ids = re.findall(r'<span id="([^"]+)" class="sentence">', section_html(faq_doc, section, "full"))
        targets = [u.target for u in section.narration]
        assert targets[0] == section.id
        assert targets[1:] == span_ids
        assert section.narration[0].text.startswith(f"Section {section.number} of {len(faq_doc.sections)}.")


def test_sentence_split_keeps_quotes_and_abbreviations(tmp_path):
    body = "## Q? {#q}\n\nThis is called a “recurrence,” because it is new. Ask Dr. Lee, e.g. today. Done!\n\n::: plain\nPlain words.\n:::\n"
    section = parse(write(tmp_path, HEAD + body)).sections[0]
    assert [u.text for u in section.narration[1:]] == [
        "This is called a recurrence, because it is new.",
        "Ask Doctor Lee, for example today.",
        "Done!",
    ]


@pytest.mark.parametrize(
    "written, expected",
    [
        ("In 30% to 60% of women", "In 30 to 60 percent of women."),
        ("Twenty to thirty percent", "Twenty to thirty percent."),
        ("breast cancer—even when it has spread—is", "breast cancer, even when it has spread, is."),
        ("surgery and/or radiation", "surgery and or radiation."),
        ("is NOT hopeless", "is NOT hopeless."),
        ("1 in 8 women & men", "1 in 8 women and men."),
    ],
)
def test_narration_says_numbers_and_symbols_as_words(written, expected):
    assert narration.spoken(written) == expected


BAD_SOURCES = {
    "empty file": (b"", 1, "file is empty"),
    "missing title": ("---\nlang: en-US\n---\n\n" + GOOD_SECTION, 1, "'title' is missing"),
    "empty lang": ("---\ntitle: T\nlang: ''\n---\n\n" + GOOD_SECTION, 3, "'lang' is missing or empty"),
    "invalid yaml": ("---\ntitle: [x\nlang: en-US\n---\n\n" + GOOD_SECTION, 3, "invalid YAML"),
    "no metadata block": (GOOD_SECTION, 1, "missing YAML metadata"),
    "section without id": (HEAD + "## A\n\nText.\n\n::: plain\nPlain words.\n:::\n", 6, "has no id"),
    "duplicate ids": (HEAD + GOOD_SECTION + "\n" + GOOD_SECTION, 14, "used twice"),
    "unsafe id": (HEAD + "## A {#../etc}\n\nText.\n\n::: plain\nPlain words.\n:::\n", 6, "not a safe file name"),
    "no plain div": (HEAD + "## A {#a}\n\nText.\n", 6, "has no ::: plain div"),
    "two plain divs": (HEAD + "## A {#a}\n\nText.\n\n::: plain\nPlain words.\n:::\n\n::: plain\nMore words.\n:::\n", 6, "two ::: plain divs"),
    "empty section": (HEAD + "## A {#a}\n\n::: plain\nPlain words.\n:::\n", 6, "has no text"),
    "empty plain div": (HEAD + "## A {#a}\n\nText.\n\n::: plain\n:::\n", 6, "empty ::: plain div"),
    "text before first section": (HEAD + "Stray words.\n\n" + GOOD_SECTION, 6, "before the first section"),
    "heading at wrong level": (HEAD + GOOD_SECTION + "\n### Deeper {#d}\n\nText.\n", 14, "level 3"),
    "level-1 heading": (HEAD + "# Title {#t}\n\nText.\n\n::: plain\nPlain words.\n:::\n", 6, "level 1"),
    "non-UTF-8 bytes": ((HEAD + "## A {#a}\n\nCaf\xe9.\n\n::: plain\nPlain words.\n:::\n").encode("latin-1"), 8, "not UTF-8"),
    "glossary entry not text": ("---\ntitle: T\nlang: en-US\nglossary:\n  a: [1, 2]\n---\n\n" + GOOD_SECTION, 4, "glossary entry"),
    "glossary not a mapping": ("---\ntitle: T\nlang: en-US\nglossary: [a, b]\n---\n\n" + GOOD_SECTION, 4, "'glossary' must be a mapping"),
    "no sections": (HEAD, 5, "no sections"),
}


@pytest.mark.parametrize("case", sorted(BAD_SOURCES))
def test_bad_source_names_file_line_and_problem(tmp_path, case):
    text, line, problem = BAD_SOURCES[case]
    path = write(tmp_path, text)
    with pytest.raises(SourceError) as caught:
        parse(path)
    assert caught.value.line == line, str(caught.value)
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_oversized_source_is_refused(tmp_path):
    path = write(tmp_path, HEAD + GOOD_SECTION + ("Word. " * 200_000))
    with pytest.raises(SourceError, match="over the limit"):
        parse(path)


def tree_digest(folder: Path) -> str:
    """One hash of every file's path and bytes under a folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("case", ["invalid yaml", "duplicate ids", "non-UTF-8 bytes", "empty file"])
def test_cli_bad_source_exits_2_with_one_line_and_keeps_output(tmp_path, case):
    text, line, problem = BAD_SOURCES[case]
    source = write(tmp_path, text, "handout.md")
    previous = tmp_path / "out" / "handout"
    previous.mkdir(parents=True)
    (previous / "handout.pdf").write_bytes(b"%PDF- the last good handout")
    before = tree_digest(tmp_path / "out")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", str(source), "--out", str(tmp_path / "out"),
         "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {source}:{line}: ") and problem in lines[0]
    assert tree_digest(tmp_path / "out") == before


def test_hostile_html_never_reaches_the_model(tmp_path):
    body = (
        "## A {#a}\n\nHello <script>alert('x')</script> there. <iframe src=\"https://evil.test\"></iframe>\n\n"
        "<div onclick=\"steal()\">Click</div>\n\n[a link](javascript:alert(1)).\n\n| a | b |\n|---|---|\n"
        "| <b onclick=x>c</b> | [d](vbscript:y) |\n\n::: plain\nSafe <img src=x onerror=alert(1)> words.\n:::\n"
    )
    doc = parse(write(tmp_path, HEAD + body))
    section = doc.sections[0]
    everything = section_html(doc, section, "full") + section_html(doc, section, "plain") + section.narration_text \
        + section.full_text + section.full_blocks + section.plain_blocks
    for needle in ("<script", "alert", "<iframe", "onclick", "javascript:", "onerror", "file://", "evil.test"):
        assert needle not in everything, needle
    assert "a link" in section.full_text and "Safe" in section.plain_text
    assert any("raw html removed" in w for w in doc.warnings)
    assert any("unsafe link" in w for w in doc.warnings)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.sampled_from(list("#{}:-*>`~[]()<>!/ \n\tab.?é") + ["::: plain\n", ":::\n", "## Q {#q}\n", "\n\n"]), max_size=120).map("".join))
def test_any_source_gives_a_document_or_the_clear_error(tmp_path, body):
    path = write(tmp_path, HEAD + body)
    try:
        doc = parse(path)
    except SourceError as error:
        assert str(error).startswith(str(path))
    else:
        assert doc.sections and all(s.id and s.full_text.strip() for s in doc.sections)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(meta=st.text(max_size=120))
def test_any_metadata_gives_a_document_or_the_clear_error(tmp_path, meta):
    path = write(tmp_path, f"---\n{meta}\n---\n\n" + GOOD_SECTION)
    try:
        parse(path)
    except SourceError as error:
        assert str(error).startswith(str(path))
