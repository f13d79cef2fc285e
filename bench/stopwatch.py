"""Run one command, then append its start, wall time, CPU time and peak memory to a JSON-lines log.

The benchmark puts this in front of the Makefile's `$(PY)` so every step make runs (build, check,
index) is timed by itself, without changing what the Makefile does. It is a script, not a module,
because make runs it from the benchmark library's folder where `bench` is not importable.

usage: python stopwatch.py LOG COMMAND [ARG...]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    """Run the command, log it, and exit with its exit code so make sees failures."""
    log, command = argv[0], argv[1:]
    began = time.time()
    started = time.perf_counter()
    returncode = subprocess.call(command)
    seconds = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    step = {"argv": command, "began": began, "seconds": seconds, "cpu_seconds": used.ru_utime + used.ru_stime,
            "maxrss_kib": used.ru_maxrss, "returncode": returncode}
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(step) + "\n")
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
