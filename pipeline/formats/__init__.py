"""The output formats. Each is one module with the same small surface:

    NAME: str                      # "pdf", the name used by --formats
    NEEDS: tuple[str, ...]         # formats whose built files it reads when they are requested too
    OPTIONS: tuple[str, ...]       # BuildOptions fields that change its output (for the up-to-date test)
    def build(doc: Document, out_dir: Path, options: BuildOptions) -> Path

Adding a format means adding a module here and its name to ORDER; the build loop, caching,
parallelism and publishing live once in `pipeline.build`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

ORDER = ("audio", "html", "pdf", "epub")


def get(name: str) -> ModuleType:
    """The format module by name."""
    if name not in ORDER:
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(ORDER)}")
    return importlib.import_module(f"{__name__}.{name}")
