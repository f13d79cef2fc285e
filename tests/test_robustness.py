"""The edges of a build, with real files and the real command line: a source that is not a file, an
output that cannot be written, a full disk, a build killed outright and a bug each end in one line
and their exit code, and the last good output stays byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import cli, formats
from pipeline.engine.build import LEFTOVER, _host

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"
MEMORY_CAP = 1 << 30  # address space a refused source may use: reading /dev/zero would pass it at once


def cli_run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m pipeline ARGS` as a user runs it, from the project folder."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def build_args(source: Path, out: Path, cache: Path, chosen: str = "html") -> list[str]:
    """A quiet build of some formats of one source into out/ with its own cache."""
    return ["build", str(source), "--out", str(out), "--cache", str(cache), "--formats", chosen, "--quiet"]


def the_one_line(stderr: str) -> str:
    """The single `error: ...` line a failure must print (and no traceback)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under a folder, by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def staging_folders(out: Path, name: str = "sample-faq") -> list[str]:
    """The staging and retired folders of one document beside its output."""
    found = [p.name for p in out.iterdir() if LEFTOVER.fullmatch(p.name)] if out.is_dir() else []
    return sorted(n for n in found if LEFTOVER.fullmatch(n)["name"] == name)


def dead_pid() -> int:
    """The pid of a process that has just ended (so no process has it now)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# --- sources that are not regular files -------------------------------------------------------


# The launcher runs the CLI under an address-space ceiling and reports its child's peak memory. It is
# a process of its own because a child forked straight from pytest (a gigabyte after the session's
# builds) inherits pytest's high-water mark: ru_maxrss survives fork and exec.
LAUNCHER = """
import json, resource, subprocess, sys, time
cap, timeout = int(sys.argv[1]), float(sys.argv[2])
def ceiling():
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
started = time.perf_counter()
try:
    code = subprocess.run(sys.argv[3:], preexec_fn=ceiling, timeout=timeout, stdout=subprocess.DEVNULL).returncode
except subprocess.TimeoutExpired:
    code = -9
print(json.dumps({"code": code, "seconds": time.perf_counter() - started,
                  "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def run_bounded(args: list[str], folder: Path, timeout: float = 30) -> tuple[int, str, float, float]:
    """The CLI under a memory ceiling and a time limit: (exit code, stderr, seconds, its own peak resident MiB)."""
    done = subprocess.run([sys.executable, "-c", LAUNCHER, str(MEMORY_CAP), str(timeout), sys.executable, "-m",
                           "pipeline", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout + 30)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found["code"], done.stderr, found["seconds"], found["peak_kib"] / 1024


def _zero_link(folder: Path) -> Path:
    """A source that is a link to /dev/zero: endless bytes."""
    link = folder / "zero.md"
    link.symlink_to("/dev/zero")
    return link


def _fifo(folder: Path) -> Path:
    """A source that is a named pipe nobody writes to: opening it would wait forever."""
    fifo = folder / "pipe.md"
    os.mkfifo(fifo)
    return fifo


def _folder(folder: Path) -> Path:
    """A source that is a folder."""
    (folder / "folder.md").mkdir()
    return folder / "folder.md"


def _link_to_fifo(folder: Path) -> Path:
    """A link to a named pipe: refused like the pipe itself."""
    link = folder / "link.md"
    link.symlink_to(_fifo(folder))
    return link


@pytest.mark.parametrize("make, kind", [(_zero_link, "a device"), (_fifo, "a named pipe"), (_folder, "a folder"), (_link_to_fifo, "a named pipe")],
                         ids=["link-to-dev-zero", "fifo", "folder", "link-to-fifo"])
def test_a_source_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, make, kind: str) -> None:
    """Exit 2 with one line saying what the path is, within seconds and without reading it into memory."""
    source = make(tmp_path)
    code, stderr, seconds, peak_mib = run_bounded(build_args(source, tmp_path / "out", tmp_path / "cache"), tmp_path)
    line = the_one_line(stderr)
    assert code == 2, stderr
    assert line == f"error: {source}: not a regular file ({kind}); give the path of a Markdown file"
    assert seconds < 20 and peak_mib < 200, (seconds, peak_mib)
    assert not (tmp_path / "out" / source.stem).exists()


def test_a_link_to_a_regular_file_is_a_good_source(tmp_path: Path) -> None:
    """A symbolic link to a real source builds like the source itself."""
    link = tmp_path / "linked.md"
    link.symlink_to(SAMPLE)
    result = cli_run(*build_args(link, tmp_path / "out", tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "linked" / "index.html").is_file()


def test_an_oversized_source_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    """A sparse file far over the limit is refused by its size, in one line, without being read whole."""
    huge = tmp_path / "huge.md"
    with open(huge, "wb") as handle:
        handle.truncate(8 << 30)  # 8 GiB of holes: reading it all would pass the memory ceiling
    code, stderr, seconds, peak_mib = run_bounded(build_args(huge, tmp_path / "out", tmp_path / "cache"), tmp_path)
    assert code == 2 and "over the limit" in the_one_line(stderr), stderr
    assert f"file is {8 << 30} bytes" in stderr
    assert seconds < 20 and peak_mib < 200, (seconds, peak_mib)


# --- outputs that cannot be written -----------------------------------------------------------


def test_out_under_a_regular_file_is_an_output_error(tmp_path: Path) -> None:
    """--out below a file: exit 4, one line naming the path and what is wrong with it."""
    (tmp_path / "a-file").write_text("not a folder\n")
    out = tmp_path / "a-file" / "out"
    result = cli_run(*build_args(SAMPLE, out, tmp_path / "cache"))
    assert result.returncode == 4, result.stderr
    assert the_one_line(result.stderr) == f"error: cannot use {out}: a part of that path is a file, not a folder"


def test_a_cache_under_a_regular_file_is_an_output_error(tmp_path: Path) -> None:
    """--cache below a file: exit 4, one line, and nothing is published."""
    (tmp_path / "a-file").write_text("not a folder\n")
    result = cli_run(*build_args(SAMPLE, tmp_path / "out", tmp_path / "a-file" / "cache"))
    assert result.returncode == 4, result.stderr
    line = the_one_line(result.stderr)
    assert str(tmp_path / "a-file" / "cache") in line and "not a folder" in line
    assert not (tmp_path / "out" / "sample-faq").exists() and staging_folders(tmp_path / "out") == []


@pytest.fixture
def small_disk(tmp_path: Path):
    """A tmpfs of its own, resizable with `resize(bytes)`; the test is skipped where mounting is not permitted."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not shutil.which("mount"):
        pytest.skip("no mount command to make a small tmpfs to fill")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(disk)], capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.strip()}")

    def resize(size: int) -> Path:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(disk)], check=True, capture_output=True)
        return disk

    try:
        yield resize
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.parametrize("on_disk", ["output and cache", "output", "cache"])
def test_a_first_build_on_a_full_disk_is_an_output_error(tmp_path: Path, small_disk, on_disk: str) -> None:
    """A disk too small for the build: exit 4, one line saying so, nothing published, no staging left."""
    disk = small_disk(64 * 1024)
    out = disk / "out" if "output" in on_disk else tmp_path / "out"
    cache = disk / "cache" if "cache" in on_disk else tmp_path / "cache"
    result = cli_run(*build_args(SAMPLE, out, cache))
    assert result.returncode == 4, result.stderr
    line = the_one_line(result.stderr)
    assert line.startswith("error: cannot write ") and "No space left on device" in line, line
    assert not (out / "sample-faq").exists()
    assert staging_folders(out) == []


@pytest.mark.parametrize("fails_in", ["the copy of the last output", "a new format's file"])
def test_a_rebuild_on_a_full_disk_keeps_the_last_good_output(tmp_path: Path, small_disk, fails_in: str) -> None:
    """The disk fills during a rebuild: exit 4, one line, and the published folder's files are unchanged."""
    disk = small_disk(4 << 20)
    out = disk / "out"
    cache = disk / "cache" if fails_in == "the copy of the last output" else tmp_path / "cache"
    assert cli_run(*build_args(SAMPLE, out, cache)).returncode == 0
    before = snapshot(out / "sample-faq")
    used = shutil.disk_usage(disk).used
    # Room for a few more pages only, or for one copy of the output but not a PDF beside it.
    small_disk(used + 16 * 1024 if fails_in == "the copy of the last output" else 2 * used + 16 * 1024)
    result = cli_run(*build_args(SAMPLE, out, cache, "html,pdf"))
    assert result.returncode == 4, result.stderr
    assert "No space left on device" in the_one_line(result.stderr)
    assert snapshot(out / "sample-faq") == before
    assert staging_folders(out) == []


# --- a build killed outright ------------------------------------------------------------------


def test_a_build_removes_what_a_killed_build_left_and_nothing_else(tmp_path: Path) -> None:
    """kill -9 mid-build leaves its staging folder; the next build of that document removes it, and
    keeps the folders of a live process, of another machine and of another document."""
    source = tmp_path / "sample-faq.md"
    shutil.copyfile(SAMPLE, source)
    out, cache = tmp_path / "out", tmp_path / "cache"
    killed = subprocess.Popen([sys.executable, "-m", "pipeline", *build_args(source, out, cache, "html,pdf")], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not staging_folders(out) and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    left = staging_folders(out)
    assert len(left) == 1, f"the build ended before it could be killed mid-way: {left}"
    match = LEFTOVER.fullmatch(left[0])
    assert match["kind"] == "building" and int(match["pid"]) == killed.pid
    host, gone = match["host"], dead_pid()
    kept = [
        f".sample-faq.building-{host}-{os.getpid()}",  # a live build on this machine
        f".sample-faq.old-{os.getpid()}",  # a live build named the old way
        f".sample-faq.building-another-machine-{gone}",  # another machine's: its pid means nothing here
        f".other-handout.building-{host}-{gone}",  # another document's
    ]
    removed = [f".sample-faq.building-{gone}", f".sample-faq.old-{host}-{gone}"]  # dead, the old way and the new
    for name in kept + removed:
        (out / name).mkdir()
        (out / name / "file.txt").write_text("work in progress\n")

    result = cli_run(*build_args(source, out, cache))
    assert result.returncode == 0, result.stderr
    assert (out / "sample-faq" / "index.html").is_file()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == sorted(kept)
    assert all((out / name / "file.txt").is_file() for name in kept)


def test_a_build_killed_in_its_swap_gets_its_last_good_output_back(tmp_path: Path) -> None:
    """Killed between retiring the old output and publishing the new one: the next build puts the old one back first."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert cli_run(*build_args(SAMPLE, out, cache)).returncode == 0
    (out / "sample-faq" / "kept-by-the-clinic.txt").write_text("from the last good output\n")
    os.replace(out / "sample-faq", out / f".sample-faq.old-{_host()}-{dead_pid()}")
    result = cli_run(*build_args(SAMPLE, out, cache))
    assert result.returncode == 0, result.stderr
    assert (out / "sample-faq" / "kept-by-the-clinic.txt").is_file()
    assert staging_folders(out) == []


# --- bugs -------------------------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_and_exit_5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A bug inside a format: exit 5, one line naming the exception and --debug, no traceback; the output stays."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert cli.main(build_args(SAMPLE, out, cache)) == 0
    before = snapshot(out / "sample-faq")

    def broken(doc, out_dir, options):
        return 1 / 0

    monkeypatch.setattr(formats.get("html"), "build", broken)
    capsys.readouterr()
    assert cli.main(build_args(SAMPLE, out, cache, "html,pdf")) == 5
    line = the_one_line(capsys.readouterr().err)
    assert line == "error: internal error: ZeroDivisionError: division by zero (run with --debug to see the traceback)"
    assert snapshot(out / "sample-faq") == before and staging_folders(out) == []

    assert cli.main(["--debug", *build_args(SAMPLE, out, cache, "html,pdf")]) == 5
    stderr = capsys.readouterr().err
    assert "Traceback" in stderr and "ZeroDivisionError" in stderr
    assert stderr.strip().splitlines()[-1] == line


def test_the_help_lists_every_exit_code() -> None:
    """`--help` documents the codes a script may test for."""
    text = cli.parser().format_help()
    for code in ("0 ok", "1 check failed", "2 bad source or usage", "3 speech engine failed",
                 "4 output or disk error", "5 internal error", "130 interrupted"):
        assert code in " ".join(text.split()), code
