"""End to end through the CLI: every section in every format, and the check is not blind."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline import formats

ROOT = Path(__file__).resolve().parent.parent
FAQ = ROOT / "source" / "breast-cancer-recurrence.md"
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"


def run_check(folder: Path, source: Path, *formats: str) -> subprocess.CompletedProcess[str]:
    """`python -m pipeline check` on a built folder, as a user runs it."""
    extra = ["--formats", ",".join(formats)] if formats else []
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "check", str(folder), str(source), *extra],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )


@pytest.mark.parametrize("which", ["faq", "sample"])
def test_every_section_is_in_every_format(request, which):
    folder = request.getfixturevalue(f"{which}_built")
    doc = request.getfixturevalue(f"{which}_doc")
    source = FAQ if which == "faq" else SAMPLE
    for name in formats.names():
        for publication in formats.published(name, doc.name):
            assert (folder / publication.path).is_file(), publication.path
    assert len(list((folder / "audio").glob("[0-9][0-9]-*.mp3"))) == len(doc.sections) + 2 + bool(doc.meta.glossary)  # + opening, glossary, closing
    result = run_check(folder, source)
    assert result.returncode == 0, result.stdout + result.stderr
    header, *rows = result.stdout.splitlines()[: len(doc.sections) + 1]
    assert header.split() == ["section", *formats.names()]
    assert [row.split() for row in rows] == [[s.id, *["yes"] * len(formats.names())] for s in doc.sections]
    report = json.loads((folder / "report.json").read_text())
    assert report["ok"] is True and report["sections"] == [s.id for s in doc.sections]
    assert all(isinstance(f["figures"]["check_seconds"], float) for f in report["formats"].values())


def test_dropped_audio_file_is_named(sample_built, sample_doc, copy_of):
    folder = copy_of(sample_built)
    section = sample_doc.sections[1]
    (folder / "audio" / f"{section.number:02d}-{section.id}.mp3").unlink()
    result = run_check(folder, SAMPLE, "audio")
    assert result.returncode == 1
    assert f"section '{section.id}' missing from audio" in result.stderr


def test_deleted_html_section_is_named(sample_built, sample_doc, copy_of):
    folder = copy_of(sample_built)
    section = sample_doc.sections[-1]
    page = (folder / "index.html").read_text(encoding="utf-8")
    cut = re.sub(rf'<h2[^>]*id="{section.id}".*?</h2>', "", page, flags=re.S)
    assert cut != page
    (folder / "index.html").write_text(cut, encoding="utf-8")
    result = run_check(folder, SAMPLE, "html")
    assert result.returncode == 1
    assert f"section '{section.id}' missing from html" in result.stderr


def test_deleted_epub_chapter_is_named(sample_built, sample_doc, copy_of):
    folder = copy_of(sample_built)
    section = sample_doc.sections[0]
    book = folder / f"{sample_doc.name}.epub"
    with zipfile.ZipFile(book) as old:
        entries = [(info, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(book, "w") as new:
        for info, content in entries:
            if section.id in Path(info.filename).stem and info.filename.endswith(".xhtml"):
                continue
            new.writestr(info, content)
    result = run_check(folder, SAMPLE, "epub")
    assert result.returncode == 1
    assert f"section '{section.id}' missing from epub" in result.stderr


@pytest.mark.fast
def test_pdf_built_without_a_section_is_named(tmp_path, sample_doc):
    from pipeline.engine.build import BuildOptions, build

    text = SAMPLE.read_text(encoding="utf-8")
    section = sample_doc.sections[1]
    start = text.index(f"## {section.title}")
    end = text.index("## ", start + 3)
    source = tmp_path / SAMPLE.name
    source.write_text(text[:start] + text[end:], encoding="utf-8")
    folder = build(source, BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", formats=("pdf",), quiet=True))
    result = run_check(folder, SAMPLE, "pdf")
    assert result.returncode == 1
    assert f"section '{section.id}' missing from pdf" in result.stderr
