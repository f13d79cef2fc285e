"""Fast units no other test covers: the formats' settings have valid defaults in pyproject's [tool.pipeline],
a format's up-to-date key reads its own code and not another format's, the build flags come from
the formats' settings, and the fast layer's own guard refuses what it says it refuses."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from pipeline import cli, formats
from pipeline.engine import provenance
from pipeline.audio import speech

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent


def _tool_pipeline() -> dict:
    """pyproject.toml's [tool.pipeline], read here rather than through pipeline.config."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["tool"]["pipeline"]


def _wrong(settings: list[formats.Setting], table: dict) -> list[str]:
    """What is wrong with each setting's default in `table`: missing, not of its type, or outside its choices."""
    found = []
    for declared in settings:
        if declared.name not in table:
            found.append(f"{declared.name}: not in [tool.pipeline]")
            continue
        value = table[declared.name]
        try:
            value = value if isinstance(value, (list, dict)) else declared.type(value)
        except (TypeError, ValueError):
            found.append(f"{declared.name}: {value!r} is not {declared.type.__name__}")
            continue
        if declared.choices and value not in declared.choices:
            found.append(f"{declared.name}: {value!r} not among {declared.choices}")
    return found


def test_every_format_setting_has_its_default_in_pyproject_among_its_choices() -> None:
    """Each Setting a format declares has its default in pyproject.toml's [tool.pipeline] (read here
    with tomllib, not through pipeline.config), of its type and among its choices, so `build`
    without the flag takes a value the flag itself would accept. Negative control: a setting named
    after no key, and one whose default is not among its choices, are both reported."""
    table = _tool_pipeline()
    declared = [s for name in formats.names() for s in formats.settings_of(name)]
    assert {"paper", "braille_grade", "rate_wpm", "engine"} <= {s.name for s in declared}
    assert _wrong(declared, table) == []
    controls = [formats.Setting("paper_size", "a name pyproject does not have"),
                formats.Setting("paper", "PDF paper size", choices=("a5",))]
    assert _wrong(controls, table) == ["paper_size: not in [tool.pipeline]", f"paper: {table['paper']!r} not among ('a5',)"]


def test_the_braille_key_holds_the_braille_code_and_not_the_pdf_or_audio_code() -> None:
    """`provenance.files_of` for the braille format: its own module and the source reader, never the
    PDF's or the audio's module (so changing those does not rebuild braille). Negative control: the
    PDF format's files do hold pdf.py, so the paths compared are of the same form."""
    formats_dir = ROOT / "pipeline" / "formats"
    braille = {path.resolve() for path in provenance.files_of("pipeline.formats.braille")}
    assert formats_dir / "braille.py" in braille
    assert ROOT / "pipeline" / "source" / "reader.py" in braille
    assert formats_dir / "pdf.py" not in braille and formats_dir / "audio.py" not in braille
    pdf = {path.resolve() for path in provenance.files_of("pipeline.formats.pdf")}
    assert formats_dir / "pdf.py" in pdf and formats_dir / "braille.py" not in pdf


def test_build_flags_come_from_the_formats_settings() -> None:
    """`build --paper a4 --braille-grade 1` parses to the settings' names and types, every format
    flag is offered, and an unset flag takes [tool.pipeline]'s value. Negative control: a value
    outside a setting's choices (--paper a3, --braille-grade 3) is refused with exit 2."""
    args = cli.parser().parse_args(["build", "handout.md", "--paper", "a4", "--braille-grade", "1"])
    assert (args.paper, args.braille_grade) == ("a4", 1)
    assert {"--paper", "--braille-grade"} <= {s.flag for s in formats.flags()}
    table = _tool_pipeline()
    defaults = cli.parser().parse_args(["build", "handout.md"])
    for setting in formats.flags():
        assert getattr(defaults, setting.name) == setting.type(table[setting.name]), setting.name
    for wrong in (["--paper", "a3"], ["--braille-grade", "3"]):
        with pytest.raises(SystemExit) as refused:
            cli.parser().parse_args(["build", "handout.md", *wrong])
        assert refused.value.code == 2, wrong


def test_the_fast_layer_guard_refuses_speech_browsers_node_and_java() -> None:
    """Under PIPELINE_TEST_LAYER=fast: speech synthesis and the refused programs fail the test with a
    message naming what was started; an allowed program (git) runs. Negative control: the same calls
    not refused would start the programs (the guard stops them before they start)."""
    from conftest import FAST_LAYER, _FastGuard

    if not FAST_LAYER:
        pytest.skip("the guard is active only under PIPELINE_TEST_LAYER=fast (make test-fast)")
    try:
        with pytest.raises(pytest.fail.Exception, match=r"PIPELINE_TEST_LAYER=fast: .* speech synthesis .*'piper'"):
            speech.get("piper", "en-US", 150)
        for argv in (["java", "-version"], ["/usr/bin/chromium", "--version"], ["node", "-v"], ["espeak-ng", "hi"],
                     [str(ROOT / "node_modules" / ".bin" / "ace-puppeteer"), "--version"]):
            program = Path(argv[0]).name
            with pytest.raises(pytest.fail.Exception, match=rf"started the program '{program}'"):
                subprocess.run(argv, capture_output=True, check=False)
        with pytest.raises(pytest.fail.Exception, match="started the program 'java'"):
            subprocess.Popen("java -version", shell=True)
        assert subprocess.run(["git", "--version"], capture_output=True, check=True).stdout.startswith(b"git")
    finally:
        _FastGuard.refused.clear()  # refused on purpose: not a swallowed refusal for the teardown to report
