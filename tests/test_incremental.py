"""Incremental builds, read from the build's own records: a no-op renders nothing, an edit redoes one
section's speech, and a failed build leaves the previous output byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline import formats
from pipeline.engine.build import STATE_FILE, BuildOptions, build
from pipeline.engine.cache import write_atomic
from pipeline.errors import PipelineError, SourceError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"
EDITED_SECTION = "getting-ready"
ADDED_SENTENCE = "Ask the staff if you have any questions about these steps."


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good build of every format of a copy of the fixture FAQ, with its own cache (never mutated)."""
    root = tmp_path_factory.mktemp("incremental")
    source = root / "sample-faq.md"
    shutil.copyfile(SAMPLE, source)
    build(source, BuildOptions(out_root=root / "out", cache_dir=root / "cache", quiet=True))
    return root


@pytest.fixture
def workspace(first_build: Path, tmp_path: Path) -> Path:
    """A private copy of the good build (source, output and cache) that a test may change."""
    for part in ("sample-faq.md", "out", "cache"):
        original = first_build / part
        copy = shutil.copytree if original.is_dir() else shutil.copy2
        copy(original, tmp_path / part)
    return tmp_path


def options(root: Path, quiet: bool = True) -> BuildOptions:
    """Build options pointing at the workspace's output and cache."""
    return BuildOptions(out_root=root / "out", cache_dir=root / "cache", quiet=quiet)


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under a folder, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def mtimes(folder: Path) -> dict[str, int]:
    """Modification time of every built file (the build state file is rewritten on every run)."""
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != STATE_FILE
    }


def cache_log(root: Path) -> list[dict]:
    """The cache's own log: one event per section synthesised or reused."""
    log = root / "cache" / "log.jsonl"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def section_of(event: dict) -> str:
    """The section a logged audio event is about."""
    return str(event.get("section") or event.get("section_id") or "")


def edit_section(source: Path, section_id: str, sentence: str) -> None:
    """Add one sentence to the first paragraph of one section, as a clinic's small edit would."""
    text = source.read_text(encoding="utf-8")
    heading_end = text.index("\n", text.index(f"{{#{section_id}}}"))
    paragraph_end = text.index("\n\n", heading_end + 2)
    source.write_text(text[:paragraph_end] + f" {sentence}" + text[paragraph_end:], encoding="utf-8")


def leftovers(out: Path) -> list[str]:
    """Staging or retired folders a build left behind."""
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def test_a_noop_rebuild_renders_nothing(workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Nothing changed: every format says "up to date", no format code runs, no file is rewritten."""
    folder = workspace / "out" / "sample-faq"
    state = json.loads((folder / STATE_FILE).read_text())
    before, times, events = snapshot(folder), mtimes(folder), len(cache_log(workspace))

    def must_not_run(*args, **kwargs):
        raise AssertionError("a no-op rebuild called a format's build")

    chosen = options(workspace, quiet=False)
    for name in chosen.formats:
        monkeypatch.setattr(formats.get(name), "build", must_not_run)
    capsys.readouterr()
    build(workspace / "sample-faq.md", chosen)

    progress = capsys.readouterr().err
    assert set(state) == set(chosen.formats)
    for name in chosen.formats:
        assert f"[sample-faq] {name}: up to date" in progress
    assert json.loads((folder / STATE_FILE).read_text()) == state
    assert mtimes(folder) == times
    assert snapshot(folder) == before
    assert len(cache_log(workspace)) == events
    assert leftovers(workspace / "out") == []


def test_editing_one_section_synthesises_only_that_section(workspace: Path) -> None:
    """One sentence added to one section: the cache log shows that section synthesised, every other one reused."""
    source = workspace / "sample-faq.md"
    folder = workspace / "out" / "sample-faq"
    audio_before = {p.name: p.read_bytes() for p in (folder / "audio").glob("[0-9][0-9]-*.mp3")}
    already = len(cache_log(workspace))
    edit_section(source, EDITED_SECTION, ADDED_SENTENCE)
    build(source, options(workspace))

    new_events = cache_log(workspace)[already:]
    synthesised = {(e["rendition"], section_of(e)) for e in new_events if e["event"] == "synthesised"}
    reused = {(e["rendition"], section_of(e)) for e in new_events if e["event"] == "reused"}
    assert synthesised == {("full", EDITED_SECTION)}
    assert reused == {("full", "what-is-a-mammogram"), ("full", "called-back"),
                      ("plain", "what-is-a-mammogram"), ("plain", EDITED_SECTION), ("plain", "called-back"),
                      *((r, added) for r in ("full", "plain") for added in ("opening", "glossary", "closing"))}
    spoken = [e["utterances"] for e in new_events if e["event"] == "synthesised"]
    assert spoken == [1], "only the added sentence is spoken; the section's other utterances come from the cache"
    audio_after = {p.name: p.read_bytes() for p in (folder / "audio").glob("[0-9][0-9]-*.mp3")}
    assert audio_after.keys() == audio_before.keys()
    changed = {name for name in audio_after if audio_after[name] != audio_before[name]}
    assert changed == {f"02-{EDITED_SECTION}.mp3"}
    transcript = (folder / "audio" / f"02-{EDITED_SECTION}.vtt").read_text(encoding="utf-8")
    assert ADDED_SENTENCE in transcript
    pdf_text = " ".join(" ".join(page.extract_text() for page in PdfReader(folder / "sample-faq.pdf").pages).split())
    assert ADDED_SENTENCE in pdf_text


def test_editing_one_plain_sentence_revoices_only_that_sections_plain_narration(workspace: Path) -> None:
    """A sentence added to one section's plain rendition: only that section's plain narration is
    synthesised (one utterance spoken); the full narration and every other section are reused."""
    source = workspace / "sample-faq.md"
    folder = workspace / "out" / "sample-faq"
    text = source.read_text(encoding="utf-8")
    plain = text.index("::: plain", text.index("{#called-back}"))
    first_end = text.index("\n", plain + len("::: plain\n"))
    source.write_text(text[:first_end] + " Ask us if you are not sure." + text[first_end:], encoding="utf-8")
    already = len(cache_log(workspace))
    build(source, options(workspace))
    new_events = cache_log(workspace)[already:]
    synthesised = [(e["rendition"], section_of(e), e["utterances"]) for e in new_events if e["event"] == "synthesised"]
    assert synthesised == [("plain", "called-back", 1)]
    transcript = (folder / "audio" / "plain" / "03-called-back.vtt").read_text(encoding="utf-8")
    assert "Ask us if you are not sure." in transcript
    assert "Ask us if you are not sure." not in (folder / "audio" / "03-called-back.vtt").read_text(encoding="utf-8")


def test_an_invalid_source_after_a_good_build_keeps_the_previous_output(workspace: Path) -> None:
    """The source loses a section's plain div: the build stops with a SourceError and output/NAME/ is untouched."""
    source = workspace / "sample-faq.md"
    before = snapshot(workspace / "out" / "sample-faq")
    text = source.read_text(encoding="utf-8")
    start = text.index("::: plain", text.index("{#called-back}"))
    source.write_text(text[:start], encoding="utf-8")
    with pytest.raises(SourceError):
        build(source, options(workspace))
    assert snapshot(workspace / "out" / "sample-faq") == before
    assert leftovers(workspace / "out") == []


@pytest.mark.parametrize("failing", formats.names())
def test_a_format_failing_midway_keeps_the_previous_output(workspace: Path, failing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A format that has already written a broken file and then fails leaves the published folder byte-identical."""
    source = workspace / "sample-faq.md"
    folder = workspace / "out" / "sample-faq"
    before = snapshot(folder)
    module = formats.get(failing)

    def half_written(doc, out_dir, build_options):
        write_atomic(out_dir / f"{doc.name}.pdf", b"%PDF-1.7 half written")
        (out_dir / "index.html").unlink(missing_ok=True)
        raise PipelineError(f"{failing} failed halfway")

    monkeypatch.setattr(module, "build", half_written)
    edit_section(source, EDITED_SECTION, ADDED_SENTENCE)
    with pytest.raises(PipelineError, match="halfway"):
        build(source, options(workspace))
    assert snapshot(folder) == before
    assert leftovers(workspace / "out") == []


@pytest.mark.fast
def test_the_benchmark_library_is_valid_source_and_its_edit_changes_one_section(tmp_path: Path) -> None:
    """`make bench` builds what its generator writes and counts what its edit changes: both must hold."""
    from bench.generate import edit_one_section, write_library
    from pipeline.source.reader import parse

    sources = write_library(tmp_path, 3)
    docs = [parse(path) for path in sources]
    assert len({len(doc.sections) for doc in docs}) == 3
    assert len({doc.meta.title for doc in docs}) == 3
    before = {s.id: s.narration for s in docs[0].sections}
    edited = edit_one_section(sources[0])
    after = {s.id: s.narration for s in parse(sources[0]).sections}
    assert after.keys() == before.keys()
    assert {sid for sid in after if after[sid] != before[sid]} == {edited}
    assert write_library(tmp_path / "again", 3)[1].read_bytes() == sources[1].read_bytes()


@pytest.mark.fast
def test_make_job_count_reaches_the_build(tmp_path: Path) -> None:
    """Real make passes its -j to the pipeline: every core under plain make, one thread per document under -j."""
    import os
    import subprocess
    import sys

    makefile = tmp_path / "Makefile"
    probe = f"{sys.executable} -c 'from pipeline.config import default_jobs; print(default_jobs())'"
    makefile.write_text(f"all:\n\t@{probe}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PYTHONPATH"] = str(ROOT)

    def jobs(*flags: str) -> int:
        return int(subprocess.run(["make", "-s", "-C", str(tmp_path), *flags], env=env, capture_output=True,
                                  text=True, check=True).stdout.strip())

    cores = len(os.sched_getaffinity(0))
    assert jobs() == cores
    assert jobs("-j1") == 1
    assert jobs("-j2") == 1
    assert jobs("-j") == 1


def _rebuilt(workspace: Path, capsys, **changed: object) -> set[str]:
    """Rebuild the workspace with `[tool.pipeline]` changed as given; the formats that were built again."""
    import pipeline.config

    real = pipeline.config.settings()
    changed_settings = {**real, **{k: ({**real[k], **v} if isinstance(v, dict) else v) for k, v in changed.items()}}
    chosen = options(workspace, quiet=False)
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline.config, "settings", lambda: changed_settings)
        build(workspace / "sample-faq.md", chosen)
    progress = capsys.readouterr().err
    return {name for name in chosen.formats if f"[sample-faq] {name}: up to date" not in progress}


@pytest.mark.parametrize("changed, rebuilt", [
    ({"bitrate": "96k"}, {"audio", "html", "epub"}),
    ({"voices": {"en": "espeak"}}, {"audio", "html", "epub"}),
    ({"rate_wpm": 170}, {"audio", "html", "epub"}),
    ({"braille_grade": 1}, {"braille", "html"}),  # the page says each download's size
    ({"paper": "a4"}, {"pdf", "easyread", "html"}),  # the Easy Read guide prints on the same paper
    ({"voices": {"es": "piper"}}, set()),   # the handout is English: the Spanish voice does not read it
    ({"asr_recall_min": 0.5}, set()),       # a check's threshold changes no output
], ids=["bitrate", "voices.en", "rate_wpm", "braille_grade", "paper", "voices.es", "check-threshold"])
def test_changing_a_setting_rebuilds_the_formats_that_read_it_and_only_those(workspace: Path, capsys, changed, rebuilt) -> None:
    """A setting in pyproject is part of the key of every format that declares it (resolved: "auto"
    as the voice it picks for this language), and of the formats that read that format's files; the
    new value reaches the file (the MP3's bitrate, the braille grade)."""
    assert _rebuilt(workspace, capsys, **changed) == rebuilt
    folder = workspace / "out" / "sample-faq"
    if "bitrate" in changed:
        from mutagen.mp3 import MP3
        assert MP3(next((folder / "audio").glob("01-*.mp3"))).info.bitrate == 96000
    if "voices" in changed and rebuilt:
        assert "espeak" in (folder / "audio" / "timings.json").read_text(encoding="utf-8")


def test_a_module_nothing_imports_rebuilds_nothing(workspace: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new module under pipeline/ that no format imports leaves every format up to date. Negative
    control: once the source reader imports it (as `provenance` reads imports), every format rebuilds."""
    from pipeline.engine import provenance

    probe = ROOT / "pipeline" / "_unrelated_probe.py"
    probe.write_text('"""A module no format imports (written by a test)."""\n', encoding="utf-8")
    try:
        provenance._digest.cache_clear()
        assert _rebuilt(workspace, capsys) == set()
        monkeypatch.setattr(provenance, "ALWAYS", (*provenance.ALWAYS, "pipeline._unrelated_probe"))
        provenance._digest.cache_clear()
        assert _rebuilt(workspace, capsys) == set(formats.names())
    finally:
        probe.unlink()
        provenance._digest.cache_clear()


def test_a_narration_of_an_older_text_is_never_handed_on(workspace: Path) -> None:
    """Built alone, the page and e-book take the narration only while it is of the source as it is:
    with nothing changed, `--formats html` keeps the players; after a new section is added, building
    the page and e-book without the audio gives neither players nor read-aloud of the old text
    (before, the e-book failed: "the narration has no recording of section 'new'")."""
    source, folder = workspace / "sample-faq.md", workspace / "out" / "sample-faq"
    build(source, replace(options(workspace), formats=("html",)))
    assert 'src="audio/' in (folder / "index.html").read_text(encoding="utf-8")
    source.write_text(source.read_text(encoding="utf-8") + "\n## Is there more? {#new}\n\nAsk your nurse.\n\n"
                      "::: plain\nAsk your nurse.\n:::\n", encoding="utf-8")
    build(source, replace(options(workspace), formats=("html", "epub")))
    assert 'src="audio/' not in (folder / "index.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(folder / "sample-faq.epub") as book:
        assert not any(name.endswith(".smil") for name in book.namelist())
