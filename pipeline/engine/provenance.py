"""Which of the project's files a format's output comes from, so a change rebuilds only what it touches.

A format's code is its module and every project module it imports, at any depth and inside
functions too, found by reading their import statements (never by running them); the source reader
(`pipeline.source.reader`) is always part of it, since every format is made from the model it parses. A
package that imports its modules by name at run time (`speech` picks its engine so) brings all of
them; the formats and checks packages do not, their modules being leaves. A file or folder a module names by a string
(`"lexicon"`, `"epub.css"`), beside it or in `styles/`, is part of it too. A module nothing imports
rebuilds nothing.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import threading
from pathlib import Path

from .. import __version__
from ..config import PROJECT_ROOT, STYLES_DIR

PACKAGE = "pipeline"
ALWAYS = ("pipeline.source.reader",)
LEAF_PACKAGES = (PACKAGE, f"{PACKAGE}.formats", f"{PACKAGE}.checks")  # importing these brings their __init__ alone
_READING = threading.Lock()


def format_digest(module_name: str) -> str:
    """SHA-256 of the package version and every file the module's output comes from, once per
    process; one thread at a time (CPython 3.11's `ast.parse` is not safe in parallel threads)."""
    with _READING:
        return _digest(module_name)


@functools.cache
def _digest(module_name: str) -> str:
    """`format_digest`, computed."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(files_of(module_name)):
        digest.update(str(_shown(path)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def files_of(module_name: str) -> set[Path]:
    """The module's file, the project modules it imports (at any depth), and the data files they name."""
    found: set[Path] = set()
    todo, seen = [module_name, *ALWAYS], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _file_of(name)
        if path is None:
            continue
        found.add(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        todo.extend(_imported(tree, name, path))
        found.update(_named_data(tree, path))
        if path.name == "__init__.py" and name not in LEAF_PACKAGES and "import_module(" in path.read_text(encoding="utf-8"):
            todo.extend(f"{name}.{child.stem}" for child in path.parent.glob("*.py") if child.name != "__init__.py")
    return found


def _file_of(name: str) -> Path | None:
    """The file of a project module (None for anything outside the package, or no module at all)."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def _imported(tree: ast.AST, name: str, path: Path) -> list[str]:
    """The project modules one module imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names)
    return [n for n in found if n == PACKAGE or n.startswith(PACKAGE + ".")]


def _named_data(tree: ast.AST, path: Path) -> set[Path]:
    """Data files a module names by a string: beside it (a file, or a folder's files) or in styles/."""
    found: set[Path] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or not _looks_like_a_name(node.value):
            continue
        for place in (path.parent / node.value, STYLES_DIR / node.value):
            if place.is_file() and place.suffix != ".py":
                found.add(place)
            elif place.is_dir() and not (place / "__init__.py").exists():
                found.update(p for p in place.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return found


def _looks_like_a_name(text: str) -> bool:
    """A string that may be a file or folder name (no spaces, not empty, not a path out)."""
    return (0 < len(text) < 100 and any(c.isalnum() for c in text) and not any(c.isspace() for c in text)
            and ".." not in text and not text.startswith("/"))


def _shown(path: Path) -> Path:
    """A file's path as the digest records it: relative to the project where it lies in it."""
    try:
        return path.relative_to(PROJECT_ROOT)
    except ValueError:
        return path
