"""Content-addressed cache shared by every format: a result is stored under the hash of what made it."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable

_LOG_LOCK = threading.Lock()


def fingerprint(*parts: object) -> str:
    """A stable SHA-256 of everything that decides a result (text, engine, voice, rate, version...)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, sort_keys=True, default=str).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def write_atomic(path: Path, content: bytes | Callable[[BinaryIO], object]) -> Path:
    """Write a file under a temporary name in the same folder, then rename it into place.

    `content` is the bytes, or a function that writes them to the open file (so a large result,
    a long narration's samples, is never copied into one more bytes object first).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content)
        os.chmod(tmp, 0o644)  # published files are read by web servers and other users
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a failed write names no file; the one-line error should
        raise
    return path


class Cache:
    """A folder of results keyed by fingerprint, with a log of what was made and what was reused."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, kind: str, key: str, suffix: str) -> Path:
        """Where the result of this kind and key lives (whether or not it exists yet)."""
        return self.root / kind / key[:2] / f"{key}{suffix}"

    def get(self, kind: str, key: str, suffix: str) -> Path | None:
        """The cached file, or None when it was never made."""
        path = self.path(kind, key, suffix)
        return path if path.exists() else None

    def put(self, kind: str, key: str, suffix: str, content: bytes | Callable[[BinaryIO], object]) -> Path:
        """Store a result atomically and return its path."""
        return write_atomic(self.path(kind, key, suffix), content)

    def remember(self, kind: str, key: str, compute: Callable[[], Any]) -> Any:
        """A JSON result stored under its key, computed only the first time it is asked for."""
        found = self.get(kind, key, ".json")
        if found:
            try:
                return json.loads(found.read_text(encoding="utf-8"))
            except ValueError:
                pass
        value = compute()
        self.put(kind, key, ".json", json.dumps(value, sort_keys=True).encode("utf-8"))
        return value

    def log(self, event: str, **fields: object) -> None:
        """Append one line to `.cache/log.jsonl`: what was synthesised or rendered, and why."""
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"time": round(time.time(), 3), "event": event, **fields}, sort_keys=True)
        with _LOG_LOCK, open(self.root / "log.jsonl", "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def file_digest(path: Path) -> str:
    """SHA-256 of a built file's bytes: what a check's memo is keyed by, so it still reads the file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_memo() -> Cache:
    """Where checks keep what they measured of a built file, keyed by that file's bytes.

    Speech recognition and EPUBCheck take most of a check's time; an unchanged file is not
    listened to or validated twice. A changed file has another digest, so it is always re-read.
    """
    from ..config import setting

    return Cache(Path(os.environ.get("PIPELINE_CACHE") or setting("cache")))
