"""A format is declared once, in its module: a new module (here a plain-text edition written into a
temporary folder on the package's path) is built, checked, offered on the page and listed in the
library without a line changed anywhere else."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

import pipeline.checks
import pipeline.formats
from pipeline import checks, cli, formats
from pipeline.engine.build import BuildOptions, build
from pipeline.library import build_index
from pipeline.source.reader import parse

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"

TEXT_FORMAT = '''
"""A plain-text edition, for the test of the registry."""
from pipeline import formats
from pipeline.engine.cache import write_atomic

NAME = "text"
LABEL = "plain-text edition"
RANK = 60
NEEDS = ()
SETTINGS = (formats.Setting("text_width", "line width of the text edition", int, flag="--text-width"),)


def published(name):
    return (formats.Publication(f"{name}.txt", "Plain text", "TXT", "text, for any device"),)


def build(doc, out_dir, options):
    lines = [doc.meta.title, ""]
    for section in doc.sections:
        lines += [section.title, section.full_text, ""]
    text = "\\n".join(lines)[: 10 ** 6]
    return write_atomic(out_dir / published(doc.name)[0].path, f"width {options.value('text_width')}\\n{text}".encode())
'''

TEXT_CHECK = '''
from pipeline import formats
from pipeline.checks import FormatReport
from pipeline.checks.presence import judge

FORMAT = "text"


def check(doc, out_dir):
    report = FormatReport(FORMAT)
    path = out_dir / formats.main_file(FORMAT, doc.name)
    if not path.is_file():
        return report.missing(doc, "not built")
    text = path.read_text()
    for section in doc.sections:
        report.sections[section.id] = judge(section.title, section.full_text, section.title in text, text)
    return report
'''


@pytest.fixture
def text_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A sixth format and its check, in folders added to the two packages' paths."""
    for package, code in ((pipeline.formats, TEXT_FORMAT), (pipeline.checks, TEXT_CHECK)):
        folder = tmp_path / package.__name__.split(".")[-1]
        folder.mkdir()
        (folder / "text.py").write_text(textwrap.dedent(code), encoding="utf-8")
        monkeypatch.setattr(package, "__path__", [*package.__path__, str(folder)])
    monkeypatch.setattr("pipeline.config.settings", lambda: {**_settings(), "text_width": 72})
    formats._modules.cache_clear()
    yield "text"
    formats._modules.cache_clear()
    for module in ("pipeline.formats.text", "pipeline.checks.text"):
        sys.modules.pop(module, None)


def _settings() -> dict:
    """The real `[tool.pipeline]`."""
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["tool"]["pipeline"]


def test_a_new_format_module_is_discovered_built_checked_offered_and_listed(text_format, tmp_path):
    assert formats.names()[-1] == text_format
    args = cli.parser().parse_args(["build", str(SAMPLE), "--text-width", "60"])
    assert args.formats == formats.names() and args.text_width == 60
    options = BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", quiet=True,
                           formats=("html", "text"), settings={"text_width": args.text_width})
    folder = build(SAMPLE, options)
    assert (folder / "sample-faq.txt").read_text().startswith("width 60\n")
    report = checks.run(parse(SAMPLE), folder, ("html", "text"))
    assert [r.format for r in report] == ["html", "text"] and report[1].ok
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="sample-faq.txt">Plain text</a> <span class="note">\(text, for any device(, \d+ KB)?\)</span>', page)
    library = build_index(tmp_path / "out").read_text(encoding="utf-8")
    assert "sample-faq/sample-faq.txt" in library and "a plain-text edition" in library
    assert BuildOptions().value("text_width") == 72  # the setting's default comes from [tool.pipeline]
