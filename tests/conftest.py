"""Shared fixtures: the real FAQ and the small fixture FAQ, each built once per test session.

Builds go to a temporary folder, so tests never touch output/; they share the project's build cache
(.cache/, keyed by content), so a voice speaks each sentence once for every test session.

With PIPELINE_TEST_LAYER=fast (`make test-fast`) a guard refuses, for the whole session, every way a
test could synthesise speech or start a browser, Node or a JVM: a test marked `fast` that does fails.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.engine.build import BuildOptions, build
from pipeline.source.reader import parse

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


# --- the fast layer's guard (PIPELINE_TEST_LAYER=fast) -------------------------------------------

FAST_LAYER = os.environ.get("PIPELINE_TEST_LAYER") == "fast"
# What a fast test may not start, by the basename of the program run: the browsers (Playwright
# starts its driver as `node`, Ace by DAISY is node_modules/.bin/ace-puppeteer), the JVM that runs
# EPUBCheck, and the speech synthesisers.
REFUSED_PROGRAMS = frozenset({"chromium", "chromium-browser", "chrome", "headless_shell", "node", "npx", "ace",
                              "ace-puppeteer", "java", "espeak-ng", "espeak", "piper"})
_CALL_FAILED = pytest.StashKey[bool]()


class _FastGuard:
    """The test running now, and what it started that the fast layer refuses."""

    test = "a session fixture"
    refused: list[str] = []


def _refuse(what: str) -> None:
    """Fail the running test loudly: it started something no fast test may start."""
    _FastGuard.refused.append(what)
    pytest.fail(f"PIPELINE_TEST_LAYER=fast: {_FastGuard.test} started {what}; a fast test may not synthesise "
                "speech or start a browser, Node, a JVM or Piper (take away its `fast` mark)")


def _program(args, kwargs: dict) -> str:  # noqa: ANN001  (Popen's own argument)
    """The basename of the program a Popen would start."""
    executable = kwargs.get("executable")
    if executable is None and isinstance(args, (str, bytes, os.PathLike)):
        executable = (os.fsdecode(args).split() or [""])[0] if kwargs.get("shell") else args
    elif executable is None:
        executable = next(iter(args), "")
    return os.path.basename(os.fsdecode(executable))


@pytest.fixture(scope="session", autouse=True)
def fast_layer_guard():
    """Under PIPELINE_TEST_LAYER=fast, for the whole session (so session and module fixtures too):
    `pipeline.audio.speech.get` and every engine's `load` fail the test, and so does any subprocess
    (`subprocess.run`, `Popen`, asyncio's, Playwright's driver) whose program is in REFUSED_PROGRAMS.
    Without the variable it does nothing."""
    if not FAST_LAYER:
        yield
        return
    from pipeline.audio import speech

    real_init = subprocess.Popen.__init__

    def guarded_init(self, args, *rest, **kwargs):  # noqa: ANN001, ANN202  (Popen's signature)
        program = _program(args, kwargs)
        if program in REFUSED_PROGRAMS:
            _refuse(f"the program {program!r} ({args!r})")
        real_init(self, args, *rest, **kwargs)

    def no_speech(called: str):  # noqa: ANN202  (stands in for a function of any signature)
        return lambda *args, **kwargs: _refuse(f"speech synthesis ({called}{args!r})")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", guarded_init)
        patch.setattr(speech, "get", no_speech("pipeline.audio.speech.get"))
        for engine in speech.ENGINES:
            module = importlib.import_module(f"{speech.__name__}.{engine}")
            patch.setattr(module, "load", no_speech(f"{module.__name__}.load"))
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201  (pytest's hook)
    """Remember whether a test's call failed (the guard's teardown check reads it)."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture(autouse=True)
def fast_layer_test(request: pytest.FixtureRequest):
    """Under PIPELINE_TEST_LAYER=fast: a refusal the code under test swallowed (an `except
    BaseException`, a thread of its own) still fails the test, at its teardown."""
    if not FAST_LAYER:
        yield
        return
    yield
    refused, _FastGuard.refused = _FastGuard.refused, []
    if refused and not request.node.stash.get(_CALL_FAILED, False):
        pytest.fail(f"PIPELINE_TEST_LAYER=fast: {request.node.nodeid} started {refused[0]} (the refusal was "
                    "swallowed, but a fast test may not start it)")


def pytest_runtest_logstart(nodeid: str, location: tuple) -> None:
    """Name the test now running in the guard's messages (its fixtures are set up after this)."""
    _FastGuard.test, _FastGuard.refused = nodeid, []
