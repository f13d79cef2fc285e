"""The shapes that keep the package easy to change, read from its code: the model imports nothing
of the project and holds no rendered HTML; no format imports another; every format's build hands
back a manifest."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipeline import formats

pytestmark = pytest.mark.fast

PIPELINE = Path(__file__).resolve().parent.parent / "pipeline"


def _project_imports(path: Path) -> set[str]:
    """The project modules a file imports (relative imports, as written), anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = "." * node.level + (node.module or "")
            found.update(f"{base}.{alias.name}" if not node.module else base for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("pipeline"))
    return found


def test_the_model_imports_nothing_of_the_project_and_holds_no_html() -> None:
    """`model.py` stands below everything: no project import, no rendered HTML field (the renditions
    are blocks; `rendering` writes their HTML). Negative control: the same reading finds the
    source reader's imports."""
    model = PIPELINE / "model.py"
    assert _project_imports(model) == set()
    assert not re.search(r"^\s+\w*_html\s*:", model.read_text(encoding="utf-8"), re.M)
    assert _project_imports(PIPELINE / "source" / "reader.py")


def test_no_format_imports_another_format() -> None:
    """A format module imports no sibling format (what it needs is handed over as a manifest).
    Negative control: the reading sees the formats package's own import of `..language.words`."""
    names = set(formats.names())
    for name in names:
        imported = _project_imports(PIPELINE / "formats" / f"{name}.py")
        siblings = {i for i in imported if re.fullmatch(r"\.(\w+)", i) and i[1:] in names}
        siblings |= {i for i in imported if re.fullmatch(r"\.\.formats\.(\w+)", i) and i.rsplit(".", 1)[1] in names}
        assert not siblings, f"{name} imports {siblings}"
    assert "..language.words" in _project_imports(PIPELINE / "formats" / "__init__.py")


def test_every_format_declares_its_settings_and_each_is_in_pyproject() -> None:
    """Each declared setting has a default in `[tool.pipeline]`, help, and a value of its type."""
    from pipeline.config import settings

    for name in formats.names():
        for declared in formats.settings_of(name):
            assert declared.name in settings(), f"{name}: {declared.name} has no default"
            assert declared.help
            declared.value({})


def test_the_catalog_template_reads_every_folder_of_the_package() -> None:
    """`make catalog` extracts the words of every module, wherever it lies: the page's "Listen to
    this answer" (formats/), the check's table words (checks/) and the narration's "percent"
    (language/). Negative control: after the layout move it read language/ alone (12 messages)."""
    from pipeline.language import words

    messages = {message.id for message in words.template() if message.id}
    assert {"Listen to this answer", "percent"} <= messages
    assert len(messages) > 100
