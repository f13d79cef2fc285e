"""Past one machine: a library built on a Dask LocalCluster of 2 worker processes gives the same
bytes as a local build, still does when a worker is killed mid-build, and reports a bad document
without stopping the others."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench.generate import write_library
from pipeline.engine.build import BuildOptions, build

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
EPOCH = 1764028800  # 2025-11-25: both builds stamp the same time



def _library(folder: Path) -> list[Path]:
    """Three small handouts (at most 2 sections each) made from the real FAQ's sentences, as the
    benchmark makes them: each passes its check."""
    return write_library(folder, 3, seed=8, sections=2)


def _digests(out: Path) -> dict[str, str]:
    """SHA-256 of every file under out/, by its path (staging leftovers would show here too). In
    report.json the one wall-clock figure, how long each format's check took, is left out."""
    found = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            content = path.read_bytes()
            if path.name == "report.json":
                report = json.loads(content)
                for entry in report["formats"].values():
                    entry.get("figures", {}).pop("check_seconds", None)
                content = json.dumps(report, sort_keys=True).encode()
            found[str(path.relative_to(out))] = hashlib.sha256(content).hexdigest()
    return found


def _cluster_build(sources: list[Path], out: Path, cache: Path, *extra: str) -> subprocess.Popen[str]:
    """`python -m pipeline build --cluster local:2` as a user runs it."""
    # The check's memo lives with the cache given, so the workers really listen to the audio here.
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH), "PIPELINE_CACHE": str(cache)}
    return subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--cluster", "local:2", *map(str, sources),
                             "--out", str(out), "--cache", str(cache), *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def local_library(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], dict[str, str]]:
    """The three handouts built and checked locally, one after another: the reference bytes."""
    from pipeline import checks
    from pipeline.source.reader import parse

    root = tmp_path_factory.mktemp("local")
    sources = _library(root / "source")
    options = BuildOptions(out_root=root / "out", cache_dir=root / "cache", quiet=True, source_date_epoch=EPOCH)
    for source in sources:
        folder = build(source, options)
        checks.run(parse(source), folder)
    return sources, _digests(root / "out")


def test_a_local_cluster_builds_the_same_bytes_as_a_local_build(local_library, tmp_path: Path) -> None:
    """Two worker processes, three documents: every output file has the local build's SHA-256, and the client prints a line per document and a summary."""
    sources, expected = local_library
    run = _cluster_build(sources, tmp_path / "out", tmp_path / "cache")
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    assert "cluster local:2: 2 workers" in stderr
    assert sorted(line.split("] ")[1].split(":")[0] for line in stderr.splitlines() if line.startswith("[")) == sorted(
        source.stem for source in sources)
    assert "built 3 of 3 handouts on local:2" in stderr and "0 failed, 0 retried" in stderr
    assert _digests(tmp_path / "out") == expected


def test_a_worker_killed_mid_build_has_its_document_rebuilt_elsewhere(local_library, tmp_path: Path) -> None:
    """SIGKILL a worker process while it voices a handout: Dask reruns that document on another
    worker, the library completes, every file matches the local build, and the retry is counted."""
    sources, expected = local_library
    out = tmp_path / "out"
    run = _cluster_build(sources, out, tmp_path / "cache")
    killed = _kill_a_building_worker(out, run)
    _, stderr = run.communicate(timeout=600)
    assert killed, "no worker was caught building"
    assert run.returncode == 0, stderr
    assert "built 3 of 3 handouts" in stderr
    retried = int(stderr.rsplit("failed, ", 1)[1].split(" retried")[0])
    assert retried >= 1, stderr
    assert _digests(out) == expected


def _kill_a_building_worker(out: Path, run: subprocess.Popen[str]) -> bool:
    """Wait for a staging folder (`.NAME.building-HOST-PID`: a worker mid-build) and SIGKILL that PID."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and run.poll() is None:
        for staging in out.glob(".*.building-*"):
            pid = int(staging.name.rsplit("-", 1)[1])
            if (staging / "audio").exists() or any(staging.iterdir()):
                os.kill(pid, signal.SIGKILL)
                return True
        time.sleep(0.05)
    return False


def test_a_bad_document_is_reported_and_the_others_are_built(tmp_path: Path) -> None:
    """One source with no id on a heading: its line names the file and line, the other two are
    built and checked, and the exit code is the bad source's (2)."""
    sources = _library(tmp_path / "source")
    broken = tmp_path / "source" / "broken.md"
    broken.write_text("---\ntitle: Broken\nlang: en-US\n---\n\n## No id here\n\nText.\n", encoding="utf-8")
    run = _cluster_build([*sources, broken], tmp_path / "out", tmp_path / "cache", "--formats", "html,pdf")
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 2, stderr
    assert f"broken: FAILED (exit 2): {broken}:6: section 'No id here' has no id" in stderr
    assert "built 3 of 4 handouts" in stderr and "1 failed" in stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == sorted(
        source.stem for source in sources)
    assert "Traceback" not in stderr


def test_a_cluster_that_cannot_be_reached_is_one_line(tmp_path: Path) -> None:
    """A scheduler address nobody listens on, and a malformed one: one line each, no traceback."""
    sources = _library(tmp_path / "source")
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    nobody = subprocess.run([sys.executable, "-m", "pipeline", "build", "--cluster", "tcp://127.0.0.1:9",
                             str(sources[0]), "--out", str(tmp_path / "out")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert nobody.returncode == 6 and nobody.stderr.startswith("error: cannot reach the Dask scheduler"), nobody.stderr
    assert "Traceback" not in nobody.stderr
    wrong = subprocess.run([sys.executable, "-m", "pipeline", "build", "--cluster", "my laptop", str(sources[0])],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 6 and "give a scheduler address" in wrong.stderr


@pytest.mark.fast
def test_a_local_build_never_imports_dask(tmp_path: Path) -> None:
    """Without --cluster, Dask is not imported (a single `make all` behaves exactly as before)."""
    sources = _library(tmp_path / "source")
    probe = ("import sys, runpy; sys.argv = ['pipeline', 'build', sys.argv[1], '--out', sys.argv[2], '--formats', 'html',"
             " '--quiet'];\ntry:\n    runpy.run_module('pipeline', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    run = subprocess.run([sys.executable, "-c", probe, str(sources[0]), str(tmp_path / "out")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.stdout.strip().splitlines()[-1] == "[]", run.stdout + run.stderr
