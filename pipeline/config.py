"""The pipeline's defaults, read from the one place they live: `[tool.pipeline]` in pyproject.toml."""

from __future__ import annotations

import functools
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
