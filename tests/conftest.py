"""Shared fixtures: the real FAQ and the small fixture FAQ, each built once per test session.

Builds go to a temporary folder with their own cache, so tests never touch output/ or .cache/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.build import BuildOptions, build
from pipeline.source import parse

ROOT = Path(__file__).resolve().parent.parent
FAQ = ROOT / "source" / "breast-cancer-recurrence.md"
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"
CLINIC = ROOT / "tests" / "fixtures" / "clinic-handout.md"  # a table, a note, pictures, a one-line answer, ids a and a-s1


@pytest.fixture(scope="session")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scratch folder for every session-wide build."""
    return tmp_path_factory.mktemp("builds")


def _built(source: Path, root: Path) -> Path:
    """Build every format of a source into root/out with root/cache."""
    return build(source, BuildOptions(out_root=root / "out", cache_dir=root / "cache", quiet=True))


@pytest.fixture(scope="session")
def faq_doc():
    """The real FAQ, parsed."""
    return parse(FAQ)


@pytest.fixture(scope="session")
def sample_doc():
    """The small fixture FAQ, parsed."""
    return parse(SAMPLE)


@pytest.fixture(scope="session")
def faq_built(build_root: Path) -> Path:
    """output folder of the real FAQ with all four formats (read-only: copy before mutating)."""
    return _built(FAQ, build_root / "faq")


@pytest.fixture(scope="session")
def sample_built(build_root: Path) -> Path:
    """output folder of the fixture FAQ with all four formats (read-only: copy before mutating)."""
    return _built(SAMPLE, build_root / "sample")


@pytest.fixture
def copy_of(tmp_path: Path):
    """Copy a built folder so a test may corrupt it."""

    def copy(folder: Path) -> Path:
        target = tmp_path / folder.name
        shutil.copytree(folder, target)
        return target

    return copy


@pytest.fixture(scope="session")
def clinic_doc():
    """The clinic handout (table, footnote, pictures, one-line answer), parsed."""
    return parse(CLINIC)


@pytest.fixture(scope="session")
def clinic_built(build_root: Path) -> Path:
    """output folder of the clinic handout with all four formats (read-only: copy before mutating)."""
    return _built(CLINIC, build_root / "clinic")
