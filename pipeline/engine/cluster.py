"""`build --cluster ADDRESS`: a library's handouts as tasks on a Dask distributed cluster.

Documents are independent and the cache is content-addressed, so a library spreads over machines
with no plumbing of ours: each document is one Dask task that runs the same `build` a local build
runs, then the same check (`checks.run`), and returns what happened. Dask does the rest: it
schedules the tasks, reruns a task whose worker died on another worker (the scheduler's
`allowed-failures`), and retries one that raised (`retries`). Dask is imported only here, and this
module only when `--cluster` is given.

`ADDRESS` is a running scheduler (`tcp://host:8786`) or `local[:N]`, a `LocalCluster` of N worker
processes on this machine (default: one per core). The output folder and the cache must be paths
every worker sees (shared storage mounted at the same path): publishing stays atomic per document
(staging folder, then rename) and every cache entry is written under a temporary name and renamed,
so two workers voicing the same utterance write the same bytes and never a torn file. Before any
task runs, every worker is asked whether it sees both folders and runs the same pipeline code.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .build import BuildOptions, build, code_digest, commit_epoch
from ..errors import ClusterError, PipelineError

RETRIES = 1  # a task that raised (not a bad source: those are outcomes) is tried once more


@dataclass(frozen=True)
class Outcome:
    """What one document's task did, as the client reports it."""

    name: str
    ok: bool
    exit_code: int
    message: str
    seconds: float
    worker: str


def handout_task(source: str, options: BuildOptions) -> Outcome:
    """One document on a worker: the local build, then the local check, of the same files."""
    from .. import checks
    from ..source.reader import parse

    started = time.perf_counter()
    path = Path(source)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    os.environ["PIPELINE_CACHE"] = str(options.cache_dir)  # the check remembers what it measured in the shared cache
    try:
        folder = build(path, options)
        doc = parse(path)
        reports = checks.run(doc, folder, options.formats)
        problems = checks.failures(doc, reports)
        if problems:
            return Outcome(path.stem, False, 1, "check failed: " + "; ".join(problems), time.perf_counter() - started,
                           worker)
    except PipelineError as exc:  # a bad source, an engine that cannot speak, a full disk: an answer, not a retry
        return Outcome(path.stem, False, exc.exit_code, str(exc), time.perf_counter() - started, worker)
    return Outcome(path.stem, True, 0, "built and checked", time.perf_counter() - started, worker)


def worker_view(out_root: str, cache_dir: str) -> tuple[bool, bool, str, bool]:
    """What a worker sees: the output folder, the cache folder, its pipeline code's digest, and
    whether it is a daemonic process (which may not start the speech recogniser's processes)."""
    return Path(out_root).is_dir(), Path(cache_dir).is_dir(), code_digest(), multiprocessing.current_process().daemon


def parse_address(address: str) -> tuple[str, int | None]:
    """("local", N or None) for `local[:N]`, else ("remote", None) for a scheduler address."""
    local = re.fullmatch(r"local(?::(\d+))?", address.strip())
    if local:
        workers = int(local.group(1)) if local.group(1) else None
        if workers is not None and workers < 1:
            raise ClusterError(f"--cluster {address}: a local cluster needs at least 1 worker")
        return "local", workers
    if re.fullmatch(r"(?:tcp|tls|ucx|ws|wss|inproc)://[^\s/]+(?::\d+)?/?|[A-Za-z0-9.-]+:\d+", address.strip()):
        return "remote", None
    raise ClusterError(f"--cluster {address!r}: give a scheduler address (tcp://host:8786) or local[:N]")


def build_library(sources: list[Path], options: BuildOptions, address: str) -> int:
    """Build and check every source as one task each; a line per finished document, then a summary.
    Returns the exit code: 0, the failed documents' code when they share one, else 1; raises
    ClusterError when the cluster cannot be used."""
    kind, workers = parse_address(address)
    try:
        import dask
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ClusterError("Dask is not installed: run `make setup` (it installs dask[distributed])") from None
    # The check's speech recognition runs in processes of its own, which a daemonic worker may not start.
    dask.config.set({"distributed.worker.daemon": False})
    options = _shared(options)
    cluster = None
    try:
        if kind == "local":
            count = workers or len(os.sched_getaffinity(0))
            cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                                   dashboard_address=":0" if _dashboard() else None, silence_logs=40)
            client = Client(cluster)
            # Each busy worker is one of `count` processes on this machine: it gets its share of the cores
            # (all of them when there is one document), never every core each.
            busy = max(1, min(count, len(sources)))
            options = replace(options, jobs=options.jobs or max(1, len(os.sched_getaffinity(0)) // busy))
        else:
            client = Client(address, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        return _run(client, as_completed, sources, options, address)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _shared(options: BuildOptions) -> BuildOptions:
    """Options with absolute output and cache paths (what every worker must see), both created."""
    out_root, cache_dir = options.out_root.resolve(), options.cache_dir.resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    return replace(options, out_root=out_root, cache_dir=cache_dir, quiet=True)


def _dashboard() -> bool:
    """Whether the dashboard can run here (it needs bokeh)."""
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def _run(client: Any, as_completed: Any, sources: list[Path], options: BuildOptions, address: str) -> int:
    """Submit one task per document, report each as it finishes, and summarise."""
    started = time.perf_counter()
    _vet_workers(client, options)
    workers = len(client.scheduler_info()["workers"])
    dashboard = getattr(client, "dashboard_link", None) if _dashboard() else None
    print(f"cluster {address}: {workers} worker{'s' if workers != 1 else ''}"
          + (f", dashboard {dashboard}" if dashboard else ""), file=sys.stderr, flush=True)
    futures = []
    for source in sources:
        epoch = options.source_date_epoch if options.source_date_epoch is not None else commit_epoch(source)
        document_options = replace(options, source_date_epoch=epoch)
        futures.append(client.submit(handout_task, str(source.resolve()), document_options, retries=RETRIES,
                                     pure=False, key=f"handout-{source.stem}-{os.urandom(4).hex()}"))
    failed: list[Outcome] = []
    for done, future in enumerate(as_completed(futures), start=1):
        outcome = _outcome(future)
        if not outcome.ok:
            failed.append(outcome)
        state = "built and checked" if outcome.ok else f"FAILED (exit {outcome.exit_code}): {outcome.message}"
        print(f"[{done}/{len(futures)}] {outcome.name}: {state} ({outcome.seconds:.1f} s on {outcome.worker})",
              file=sys.stderr, flush=True)
    retried = _retried(client, [f.key for f in futures])
    print(f"built {len(futures) - len(failed)} of {len(futures)} handouts on {address} in "
          f"{time.perf_counter() - started:.1f} s: {len(failed)} failed, {retried} retried", file=sys.stderr, flush=True)
    codes = {outcome.exit_code for outcome in failed}
    return 0 if not failed else codes.pop() if len(codes) == 1 else 1


def _outcome(future: Any) -> Outcome:
    """A finished task's outcome; a task that raised on every try is a failed document with its error."""
    name = re.sub(r"^handout-(.*)-[0-9a-f]{8}$", r"\1", str(future.key))
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001  (a task's own bug or a lost worker, after Dask's retries)
        return Outcome(name, False, 5, f"{type(exc).__name__}: {exc}", 0.0, "?")


def _vet_workers(client: Any, options: BuildOptions) -> None:
    """Stop before any work if a worker cannot see the output or cache, or runs other code."""
    views = client.run(worker_view, str(options.out_root), str(options.cache_dir))
    mine = code_digest()
    for worker, (sees_out, sees_cache, digest, daemonic) in sorted(views.items()):
        if not sees_out or not sees_cache:
            unseen = options.out_root if not sees_out else options.cache_dir
            raise ClusterError(f"worker {worker} cannot see {unseen}: the output and the cache must be on storage "
                               "every worker mounts at the same path")
        if daemonic:
            raise ClusterError(f"worker {worker} is a daemonic process, which cannot start the check's speech "
                               "recognition: start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False")
        if digest != mine:
            raise ClusterError(f"worker {worker} runs different pipeline code (install this checkout there): "
                               "its outputs would differ from a local build")


def _retried(client: Any, keys: list[str]) -> int:
    """How many times the scheduler reran these tasks: after a worker died under them, or after they raised."""

    def count(dask_scheduler: Any, keys: list[str], retries: int) -> int:
        total = 0
        for key in keys:
            task = dask_scheduler.tasks.get(key)
            if task is not None:
                total += task.suspicious + (max(0, retries - task.retries) if task.retries is not None else 0)
        return total

    try:
        return int(client.run_on_scheduler(count, keys=keys, retries=RETRIES))
    except Exception:  # noqa: BLE001  (a figure for the summary line; never fails the build)
        return 0
