"""The pipeline's defaults, read from the one place they live: `[tool.pipeline]` in pyproject.toml."""

from __future__ import annotations

import functools
import os
import re
import tomllib
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STYLES_DIR = PROJECT_ROOT / "styles"


@functools.cache
def settings() -> dict[str, Any]:
    """`[tool.pipeline]` of the project's pyproject.toml."""
    with open(PROJECT_ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["tool"]["pipeline"]


def setting(name: str) -> Any:
    """One default by name; a KeyError here is a programming error, not a user one."""
    return settings()[name]


def default_jobs(makeflags: str | None = None) -> int:
    """How many threads (or recognition processes) one document may use: every core, unless make
    was told how many jobs to run.

    Like a jobserver-aware tool (cargo, ninja) under make, the pipeline never runs more work at once
    than make was told to: each document make starts under `make -jN` is one of its N jobs, so it
    uses one thread, and `make -j1` builds strictly one thing at a time. Plain `make` (no -j) builds
    one document at a time, and that document, like a build run outside make, uses every core.
    """
    flags = os.environ.get("MAKEFLAGS", "") if makeflags is None else makeflags
    if re.search(r"(?:^|\s)-j\d*(?:\s|$)", flags):
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
