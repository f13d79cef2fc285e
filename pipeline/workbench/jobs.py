"""The workbench's build queue: each handout staff ask for is built and then checked in the background,
by the same `python -m pipeline build` and `check` a terminal runs, so the workbench publishes exactly
what `make` would.

A worker thread runs the two commands one after the other and reads their lines as they come; the
build's progress lines ("[NAME] pdf: building", "[NAME] pdf: wrote NAME.pdf (1.5 s)", "[NAME]
warning: braille not made: ...") say how far each format is. A handout already queued or building is
not queued twice: asking again gives its job. The handout's name comes from a request, so it is
checked (`store.source_path`) and must name a source before anything runs; the commands are fixed
lists, never a shell. SOURCE_DATE_EPOCH is left unset, so the build stamps the source's last commit
time, as `make` does. Two builds of one handout (the workbench's and a terminal's) never interleave:
the engine's lock on `OUT/.NAME.lock` makes the later one wait.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import formats as known_formats
from ..config import PROJECT_ROOT
from .store import source_path

# "[NAME] FORMAT: building", "... wrote FILE (1.5 s)", "... up to date", "... not built: WHY"
PROGRESS = re.compile(r"\[(?P<name>[a-z0-9-]+)\] (?P<format>\w+): (?P<event>building|wrote|up to date|not built)\b")
# "[NAME] warning: FORMAT not made: WHY": this machine cannot make it for the handout
NOT_MADE = re.compile(r"\[(?P<name>[a-z0-9-]+)\] warning: (?P<format>\w+) not made: ")
EVENTS = {"building": "building", "wrote": "done", "up to date": "done", "not built": "failed"}
UNFINISHED = ("waiting", "building")
STOP_GRACE_SECONDS = 30.0  # what an interrupted build gets to put its staging away before it is killed


@dataclass
class Job:
    """One build and check of one handout, as the workbench shows it."""

    id: str
    name: str
    state: str = "queued"  # queued | running | done | failed
    formats: dict[str, str] = field(default_factory=dict)  # format -> waiting | building | done | failed | n/a
    lines: list[str] = field(default_factory=list)  # the build's progress lines, then the check's
    exit_code: int | None = None  # the build's when it failed, else the check's
    report: dict | None = None  # OUT/NAME/report.json as this job's check wrote it


class BuildQueue:
    """Builds and checks handouts from `sources` into `out`, `workers` at a time."""

    def __init__(self, sources: Path, out: Path, workers: int = 1, cluster: str = "",
                 formats: tuple[str, ...] = ()) -> None:
        unknown = set(formats) - set(known_formats.names())
        if unknown:
            raise ValueError(f"unknown formats {sorted(unknown)}; choose from {', '.join(known_formats.names())}")
        self.sources, self.out = sources.resolve(), out.resolve()
        self.cluster, self.formats = cluster, formats
        self._lock = threading.Lock()  # guards every job's fields and the tables below
        self._jobs: dict[str, Job] = {}
        self._latest: dict[str, str] = {}  # handout name -> its newest job's id
        self._running: dict[str, subprocess.Popen] = {}  # job id -> the command it runs now
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workbench-build")

    def submit(self, name: str) -> Job:
        """Queue a build of the handout, or give the job already queued or running for it.

        ValueError for a name that is no handout name, FileNotFoundError when it names no source.
        """
        source = source_path(self.sources, name)
        if not source.is_file():
            raise FileNotFoundError(f"there is no source {name}.md in {self.sources}")
        with self._lock:
            if self._closed:
                raise RuntimeError("the build queue has been shut down")
            job = self._jobs.get(self._latest.get(name, ""))
            if job is None or job.state not in ("queued", "running"):
                job = Job(uuid.uuid4().hex, name, formats=self._waiting())
                self._jobs[job.id], self._latest[name] = job, job.id
                self._pool.submit(self._run, job, source)
            return _snapshot(job)

    def get(self, job_id: str) -> Job | None:
        """A copy of the job as it stands now (ask again to see it move on)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return _snapshot(job) if job else None

    def latest(self, name: str) -> Job | None:
        """A copy of the handout's newest job, or None when it was never submitted."""
        with self._lock:
            job = self._jobs.get(self._latest.get(name, ""))
            return _snapshot(job) if job else None

    def shutdown(self) -> None:
        """Take no more builds, interrupt the running ones as Ctrl-C would (each keeps the last good
        output), and fail the queued ones, so no job is left saying it will still happen."""
        with self._lock:
            self._closed = True
            running = list(self._running.values())
        for process in running:
            process.send_signal(signal.SIGINT)
        for process in running:
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()  # the next build sweeps what it leaves
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for job in self._jobs.values():
                if job.state == "queued":
                    job.state = "failed"
                    job.lines.append("not built: the workbench was stopped")

    def _waiting(self) -> dict[str, str]:
        """Every format's state before the build starts: the chosen ones wait, the rest are not asked for."""
        chosen = self.formats or known_formats.names()
        return {name: "waiting" if name in chosen else "n/a" for name in known_formats.names()}

    def _run(self, job: Job, source: Path) -> None:
        """Build, then check; the job ends done or failed whatever happens (a command that cannot start too)."""
        with self._lock:
            job.state = "running"
        try:
            built = self._step(job, self._build_command(source))
            self._settle(job, built == 0)
            if built != 0:
                self._finish(job, built, None)
                return
            report = self.out / job.name / "report.json"
            before = _stamp(report)
            checked = self._step(job, self._check_command(source, job.name))
            self._finish(job, checked, _read_report(report) if _stamp(report) != before else None)
        except Exception as exc:  # noqa: BLE001  (the worker thread is the last place it can be told)
            self._hear(job, f"error: {exc}")
            self._settle(job, False)
            self._finish(job, None, None)

    def _build_command(self, source: Path) -> list[str]:
        """`python -m pipeline build SOURCE --out OUT`, with the queue's formats and cluster."""
        cluster = ["--cluster", self.cluster] if self.cluster else []
        return [sys.executable, "-m", "pipeline", "build", str(source), "--out", str(self.out),
                *self._formats_flag(), *cluster]

    def _check_command(self, source: Path, name: str) -> list[str]:
        """`python -m pipeline check OUT/NAME SOURCE`, with the queue's formats."""
        return [sys.executable, "-m", "pipeline", "check", str(self.out / name), str(source), *self._formats_flag()]

    def _formats_flag(self) -> list[str]:
        """`--formats a,b` when the queue builds only some formats; nothing for every format."""
        return ["--formats", ",".join(self.formats)] if self.formats else []

    def _step(self, job: Job, command: list[str]) -> int:
        """Run one command, hearing each line it prints as it comes; its exit code (130: the queue was stopped first)."""
        with self._lock:
            if self._closed:
                job.lines.append("not run: the workbench was stopped")
                return 130
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=_environment(), stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
            self._running[job.id] = process
        try:
            for line in process.stdout:
                self._hear(job, line.rstrip("\n"))
            return process.wait()
        finally:
            with self._lock:
                self._running.pop(job.id, None)

    def _hear(self, job: Job, line: str) -> None:
        """Keep a line and move its format on when it is a progress line about this handout."""
        with self._lock:
            job.lines.append(line)
            progress, not_made = PROGRESS.match(line), NOT_MADE.match(line)
            if progress and progress["name"] == job.name and progress["format"] in job.formats:
                job.formats[progress["format"]] = EVENTS[progress["event"]]
            elif not_made and not_made["name"] == job.name and not_made["format"] in job.formats:
                job.formats[not_made["format"]] = "n/a"

    def _settle(self, job: Job, built: bool) -> None:
        """Once the build has ended, a format whose last line was not heard is done when the build
        passed (it published every format asked for; a cluster's workers print their lines elsewhere),
        and failed when it did not."""
        with self._lock:
            for name, state in job.formats.items():
                if state in UNFINISHED:
                    job.formats[name] = "done" if built else "failed"

    def _finish(self, job: Job, exit_code: int | None, report: dict | None) -> None:
        """Close the job: done only when the build and the check both passed."""
        with self._lock:
            job.exit_code, job.report = exit_code, report
            job.state = "done" if exit_code == 0 else "failed"


def _snapshot(job: Job) -> Job:
    """A copy a web request may read while the worker moves the job on (the report is never changed once set)."""
    return replace(job, formats=dict(job.formats), lines=list(job.lines))


def _environment() -> dict[str, str]:
    """The commands' environment: no SOURCE_DATE_EPOCH (the build takes the source's commit time), lines unbuffered."""
    env = {key: value for key, value in os.environ.items() if key != "SOURCE_DATE_EPOCH"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _stamp(path: Path) -> tuple[int, int] | None:
    """Which report.json is there (inode, time), so a report this job's check did not write is never shown as its own."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns


def _read_report(path: Path) -> dict | None:
    """The check's report, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
