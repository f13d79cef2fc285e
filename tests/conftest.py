"""Shared fixtures: the real FAQ and the small fixture FAQ, each built once per test session.

Builds go to a temporary folder, so tests never touch output/; they share the project's build cache
(.cache/, keyed by content), so a voice speaks each sentence once for every test session.
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
    """Build every format of a source into root/out, with the project's own cache as `make all`
    uses it (content-keyed, so one speech synthesis serves every test session and the corpus)."""
    return build(source, BuildOptions(out_root=root / "out", quiet=True))


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


class Margins:
    """Per rule, the lowest score of a correct section and the highest of a negative control (or,
    for a rule where lower is better, the other way round), collected over a test session."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, tuple[float, str]]] = {}

    def correct(self, rule: str, value: float, where: str) -> None:
        """A correct section's score."""
        self._keep(rule, "correct", value, where)

    def control(self, rule: str, value: float, where: str) -> None:
        """A negative control's score."""
        self._keep(rule, "control", value, where)

    def _keep(self, rule: str, side: str, value: float, where: str) -> None:
        """Keep the score nearest the other side: for a rule where higher passes, the lowest correct
        and highest control; where lower passes (words missing in a row), the reverse."""
        lower_passes = "missing" in rule
        worst_is_high = (side == "correct") == lower_passes
        held = self.rows.setdefault(rule, {}).get(side)
        if held is None or (value > held[0] if worst_is_high else value < held[0]):
            self.rows[rule][side] = (value, where)

    def table(self) -> list[str]:
        """The margins as Markdown table rows."""
        lines = ["| rule | worst correct section | best negative control |", "| --- | --- | --- |"]
        for rule in sorted(self.rows):
            cells = [f"{v:.3g} ({w})" if (v, w) != (None, None) else "—"
                     for v, w in (self.rows[rule].get(side, (None, None)) for side in ("correct", "control"))]
            lines.append(f"| {rule} | {cells[0]} | {cells[1]} |")
        return lines


_MARGINS = Margins()


@pytest.fixture(scope="session")
def margins() -> Margins:
    """The session's margins table (printed at the end of the run)."""
    return _MARGINS


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001  (pytest's hook)
    """Print the margins of every rule measured this session."""
    if _MARGINS.rows:
        terminalreporter.write_sep("-", "check margins: worst correct section against best negative control")
        for line in _MARGINS.table():
            terminalreporter.write_line(line)
