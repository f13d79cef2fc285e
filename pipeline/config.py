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
    """How many lanes (utterances or recognition processes at once) one document has of its own:
    every core, unless make was told how many jobs to run.

    Each document make starts under `make -jN` is one of its N jobs, so it has one lane, and
    `make -j1` builds one thing at a time; under -jN it may borrow more from make's jobserver
    (`pipeline.engine.lanes`). Plain `make` (no -j) builds one document at a time, and that document, like
    a build run outside make, uses every core.
    """
    flags = os.environ.get("MAKEFLAGS", "") if makeflags is None else makeflags
    if re.search(r"(?:^|\s)-j\d*(?:\s|$)", flags):
        return 1
    return cores()


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
