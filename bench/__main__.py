"""`python -m bench` (`make bench`): build synthetic libraries of N handouts and print a Markdown table.

    make bench                                   # N = 1 and 10 (BENCH_SIZES, default "1,10")
    BENCH_SIZES=1,10,50 make bench               # add N = 50 (long: all audio, on every core)
    BENCH_SECTIONS=2 make bench                  # tiny handouts: at most 2 sections, short paragraphs
    .venv/bin/python -m bench --sizes 1 --parallel 0 --work /tmp/bench
    .venv/bin/python -m bench --sizes 1 --sections 2 --parallel 0   # a quick run (tests/test_bench.py)
    BENCH_CLUSTER="" make bench                  # skip the Dask row (default: the -j size on CLUSTER=local:2)

The tables are printed before a temporary work folder is removed: they read the make logs in it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .harness import MakeRun, SizeResult, cold_make, machine, measure, snapshot_code


def _sizes(value: str) -> list[int]:
    """Parse "1,10,50" into library sizes."""
    try:
        sizes = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are whole numbers like 1,10,50 (got {value!r})") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("give at least one size of 1 or more")
    return sizes


def _cap(value: str) -> int:
    """Parse --sections, the most sections a handout may have."""
    try:
        cap = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"sections is a whole number like 2 (got {value!r})") from None
    if cap < 1:
        raise argparse.ArgumentTypeError("a handout has at least 1 section")
    return cap


def _progress(message: str) -> None:
    """One progress line on stderr so a long run shows where it is."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _s(seconds: float) -> str:
    """Seconds for the table."""
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def _audio_rtf(result: SizeResult) -> str:
    """Engine seconds per second of speech, over the sections synthesised in the cold build."""
    if not result.synthesised_speech:
        return "n/a"
    return f"{result.synthesis_seconds / result.synthesised_speech:.3f}"


def main_table(results: list[SizeResult]) -> str:
    """Per N: cold, no-op and edit rebuilds, memory, audio real-time factor and the ratio to the bare tools."""
    lines = [
        "| N | sections | speech | cold `make all` (build + check) | check ÷ build | no-op `make all` | edit 1 section (build + check) | sections synthesised on edit | plain edit (build + check) | synthesised on plain edit | peak memory | audio RTF | bare tools | build ÷ bare | `make all` ÷ bare | handouts failing their check |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.failure and not (r.cold and r.noop):
            lines.append(f"| {r.count} | {r.sections} | FAILED: {r.failure} |" + " |" * 13)
            continue
        build, check = r.cold.step_seconds("build"), r.cold.step_seconds("check")
        noop_steps = f" ({len(r.noop.steps)} steps run)" if r.noop.steps else ""
        peak = max(run.peak_mib for run in (r.cold, r.noop, r.edit, r.plain_edit) if run)
        lines.append(
            f"| {r.count} | {r.sections} | {r.audio_seconds / 60:.1f} min | {_s(r.cold.seconds)} ({_s(build)} + {_s(check)}) "
            f"| {check / build:.2f}× | {_s(r.noop.seconds)}{noop_steps} | {_edit(r.edit)} | {_made(r.synthesised_edit)} "
            f"| {_edit(r.plain_edit)} | {_made(r.synthesised_plain_edit)} | {peak:.0f} MiB | {_audio_rtf(r)} "
            f"| {_s(r.bare.total)} | {build / r.bare.total:.2f}× | {r.cold.seconds / r.bare.total:.2f}× "
            f"| {len(r.cold.failed_checks)} of {r.count} |"
        )
    return "\n".join(lines)


def _edit(run: MakeRun | None) -> str:
    """An edit's `make all`: its time, and its build and check steps."""
    if run is None:
        return "n/a"
    return f"{_s(run.seconds)} ({_s(run.step_seconds('build'))} + {_s(run.step_seconds('check'))})"


def _made(sections: list[str]) -> str:
    """How many sections an edit synthesised, and which ("plain:" for the plain narration)."""
    return f"{len(sections)} ({', '.join(sections) or 'none'})"


def bare_table(results: list[SizeResult]) -> str:
    """Per N: each bare tool's time for the same sources, next to the pipeline's build step."""
    lines = [
        "| N | pandoc md→html | WeasyPrint html→pdf | Piper text→wav | Piper RTF | bare total | pipeline build steps | cold sections synthesised / reused | cold utterances spoken / shared |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if not r.cold or r.cold.failed_builds or not r.bare.total:
            continue
        piper_rtf = f"{r.bare.piper / r.bare.piper_audio:.3f}" if r.bare.piper_audio else "n/a"
        lines.append(
            f"| {r.count} | {_s(r.bare.pandoc)} | {_s(r.bare.weasyprint)} | {_s(r.bare.piper)} | {piper_rtf} "
            f"| {_s(r.bare.total)} | {_s(r.cold.step_seconds('build'))} | {r.synthesised_cold} / {r.reused_cold} | {r.spoken_cold} / {r.shared_cold} |"
        )
    return "\n".join(lines)


def formats_line(results: list[SizeResult]) -> str:
    """What each format's build took per handout in the cold runs (formats run side by side)."""
    parts = []
    for r in results:
        if r.cold and not r.cold.failed_builds:
            spent = r.cold.format_seconds()
            each = ", ".join(f"{name} {_s(seconds / r.count)}" for name, seconds in spent.items())
            parts.append(f"N = {r.count}: {each}")
    return "Build time of each format per handout in the cold build (from the build's own lines): " + "; ".join(parts) + "."


def parallel_line(count: int, j1: MakeRun, j2: MakeRun) -> str:
    """`make -j1` against `make -j2` on the same library, both cold."""
    if j1.failed_builds or j2.failed_builds:
        return f"`make -j1` / `make -j2` on N = {count}: a build failed (see {j1.log}, {j2.log})"
    return (
        f"Cold `make all` on N = {count}: `-j1` {_s(j1.seconds)}, `-j2` {_s(j2.seconds)}: "
        f"**{j1.seconds / j2.seconds:.2f}×** faster with two documents at a time. Cores kept busy on "
        f"average (CPU seconds of every step ÷ wall time): `-j1` {j1.cores_busy:.2f}, `-j2` {j2.cores_busy:.2f}."
    )


def cluster_line(count: int, j2: MakeRun, clustered: MakeRun, cluster: str) -> str:
    """The same library on a Dask LocalCluster against `make -j2`, both cold."""
    summary = clustered.cluster_summary
    if summary is None or clustered.returncode:
        return f"`make -j2 all CLUSTER={cluster}` on N = {count}: the run failed (see {clustered.log})"
    built, total, failed, retried = summary
    return (
        f"Cold `make -j2 all CLUSTER={cluster}` on the same N = {count}: {_s(clustered.seconds)} against `-j2`'s "
        f"{_s(j2.seconds)} ({clustered.seconds / j2.seconds:.2f}× its time); {built} of {total} handouts built and "
        f"checked on Dask, {failed} failed, {retried} task(s) retried."
    )


def report(seed: int, load_before: float, results: list[SizeResult], parallel: str, work: Path) -> str:
    """The tables, the -j1/-j2 line and the notes; it reads the make logs, so it is made while `work` exists."""
    parts = [
        f"Library seed {seed}. Machine: {machine()}; 1-minute load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after the run\n",
        main_table(results) + "\n",
        bare_table(results) + "\n",
        formats_line(results) + "\n",
    ]
    if parallel:
        parts.append(parallel + "\n")
    failing = sorted({name for r in results if r.cold for name in r.cold.failed_checks})
    if failing:
        parts.append(f"Check failures (make -k kept going; a failed check is redone by every later `make all`, "
                     f"so it shows in the no-op and edit times): {', '.join(failing)}; logs in {work}.\n")
    parts.append("Peak memory is the largest resident set of one step (resource.getrusage RUSAGE_CHILDREN). "
                 "Audio RTF is the engine's seconds per second of speech, summed over the sections the cold build "
                 "synthesised (from .cache/log.jsonl), each utterance timed in its own thread; utterances are "
                 "synthesised one per lane (every core under plain make), so the wall-clock share is smaller.")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Measure every requested size, then print the tables and the machine, before the work folder may go."""
    top = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--sizes", type=_sizes, default=_sizes(os.environ.get("BENCH_SIZES", "1,10")), help="library sizes N (default: $BENCH_SIZES or 1,10)")
    top.add_argument("--parallel", type=int, default=int(os.environ.get("BENCH_PARALLEL", "10")), metavar="N", help="compare make -j1 and -j2 on this size (0: skip; default 10)")
    top.add_argument("--cluster", default=os.environ.get("BENCH_CLUSTER", "local:2"), metavar="ADDRESS",
                     help="also build the -j size with `make -j2 all CLUSTER=ADDRESS` (\"\": skip; default: "
                          "$BENCH_CLUSTER or local:2)")
    top.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", "8")), help="seed of the synthetic library (default: $BENCH_SEED or 8)")
    top.add_argument("--sections", type=_cap, default=os.environ.get("BENCH_SECTIONS"), metavar="N", help="at most N sections per handout, with short paragraphs: a tiny library for a quick run (default: $BENCH_SECTIONS, else the real lengths)")
    top.add_argument("--work", type=Path, help="keep the libraries and logs in this folder (default: a temporary folder, removed)")
    args = top.parse_args(argv)

    load_before = os.getloadavg()[0]
    work = args.work or Path(tempfile.mkdtemp(prefix="faq-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    code = snapshot_code(work)
    results: list[SizeResult] = []
    parallel = ""
    finished = cluster_failed = False
    try:
        for count in args.sizes:
            results.append(measure(count, work, code, _progress, args.seed, args.sections))
        if args.parallel and not any(r.failure for r in results):
            j1 = cold_make(args.parallel, work, 1, code, _progress, args.seed, args.sections)
            j2 = cold_make(args.parallel, work, 2, code, _progress, args.seed, args.sections)
            parallel = parallel_line(args.parallel, j1, j2)
            if args.cluster:
                clustered = cold_make(args.parallel, work, 2, code, _progress, args.seed, args.sections, args.cluster)
                parallel += "\n\n" + cluster_line(args.parallel, j2, clustered, args.cluster)
                cluster_failed = clustered.returncode != 0
        finished = not cluster_failed and not any(r.failure or (r.cold and r.cold.failed_checks) for r in results)
        print(report(args.seed, load_before, results, parallel, work), flush=True)
    finally:
        if args.work is None and finished:
            shutil.rmtree(work, ignore_errors=True)
        elif not finished:
            _progress(f"kept {work} for its logs")
    return 0 if finished else 1


if __name__ == "__main__":
    sys.exit(main())
