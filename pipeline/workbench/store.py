"""The handouts' sources as a git history: every save from the workbench is a commit of that one file,
with the staff member who made it as its author, so any earlier version can be read or put back.

The sources folder may be a folder of a larger repository (`source/` of the project): each commit
holds only its own file, never what someone else has staged there. A folder in no repository becomes
one (`git init`) at its first save. A save names the version the editor opened (`Draft.version`, the
SHA-256 of the file's bytes); when the file has changed since, nothing is written and `EditConflict`
carries what is there now.

Every name and commit id comes from a request, so each is checked against a strict pattern before
it reaches a path or git, and git is only ever run with a fixed list of arguments.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from ..engine.cache import write_atomic

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
COMMIT = re.compile(r"[0-9a-f]{7,40}")
EMAIL_DOMAIN = "workbench.invalid"
_FIELD = "\x1f"  # between a log line's fields: no name, date or subject holds it
_WRITING = threading.RLock()  # one save at a time: the base test, the write and the commit are one step


@dataclass(frozen=True)
class Version:
    """One commit of a handout's source, as its history lists it."""

    commit: str
    author: str
    when: str  # ISO 8601, the author's time zone
    message: str


@dataclass(frozen=True)
class Draft:
    """A source as the editor opens it; `version` is what a save sends back to prove it edited this text."""

    name: str
    text: str
    version: str  # SHA-256 hex of the file's bytes


class EditConflict(Exception):
    """The source changed since the editor opened it (or exists when a new one was meant): nothing was written."""

    def __init__(self, current: Draft) -> None:
        super().__init__(f"{current.name} was changed by someone else since it was opened")
        self.current = current


class GitError(RuntimeError):
    """A git command failed; the message is git's own, so staff or an administrator can act on it."""


def source_path(folder: Path, name: str) -> Path:
    """`FOLDER/NAME.md` for a name from a request: refused unless it is a handout name that stays inside the folder."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a handout name: use 1 to 64 lower-case letters, digits and hyphens, "
                         "starting with a letter or digit")
    inside = folder.resolve()
    path = (inside / f"{name}.md").resolve()
    if path.parent != inside:
        raise ValueError(f"{name!r} is not a handout name: its file lies outside {inside}")
    return path


def checked_commit(commit: str) -> str:
    """A commit id from a request, refused unless it is 7 to 40 lower-case hex digits."""
    if not isinstance(commit, str) or not COMMIT.fullmatch(commit):
        raise ValueError(f"{commit!r} is not a commit id: use 7 to 40 lower-case hex digits")
    return commit


class SourceStore:
    """The sources folder, read and written as a git history of each handout."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()

    def names(self) -> list[str]:
        """Every handout in the folder, sorted (files whose names are no handout name are left out)."""
        return sorted(path.stem for path in self.folder.glob("*.md")
                      if NAME.fullmatch(path.stem) and path.resolve().parent == self.folder and path.is_file())

    def read(self, name: str) -> Draft:
        """The source as it is now (FileNotFoundError when there is none)."""
        return _draft(name, source_path(self.folder, name).read_bytes())

    def save(self, name: str, text: str, base: str | None, author: str, message: str) -> Draft:
        """Write the source and commit it alone, if it is still the version `base` the editor opened
        (None: a new handout); otherwise raise EditConflict and write nothing. Line endings become
        "\\n", as a browser sends "\\r\\n"."""
        path = source_path(self.folder, name)
        identity = _identity(author)
        with _WRITING:
            current = _draft(name, path.read_bytes()) if path.exists() else None
            if base is None and current is not None:
                raise EditConflict(current)
            if base is not None and current is None:
                raise FileNotFoundError(f"{name} was removed since it was opened")
            if current is not None and current.version != base:
                raise EditConflict(current)
            top = self._repository()
            write_atomic(path, _unix_lines(text).encode("utf-8"))
            self._commit(top, path.relative_to(top).as_posix(), identity, _one_line(message) or f"Edit {name}")
            return self.read(name)

    def history(self, name: str) -> list[Version]:
        """Every commit that changed the source, newest first (none when it was never committed)."""
        path = source_path(self.folder, name)
        top = self._committed()
        if top is None:
            return []
        log = _git(top, "log", "--follow", f"--format=%H{_FIELD}%an{_FIELD}%aI{_FIELD}%s", "--",
                   path.relative_to(top).as_posix())
        return [Version(*line.split(_FIELD, 3)) for line in log.stdout.splitlines() if line]

    def version_text(self, name: str, commit: str) -> str:
        """The source as it was at a commit (LookupError when that commit has no such file)."""
        path = source_path(self.folder, name)
        checked_commit(commit)
        top = self._committed()
        if top is None:
            raise LookupError(f"{name} has no committed versions")
        shown = _git(top, "show", f"{commit}:{path.relative_to(top).as_posix()}", check=False)
        if shown.returncode != 0:
            raise LookupError(f"{name} has no version {commit}: {shown.stderr.strip()}")
        return shown.stdout

    def restore(self, name: str, commit: str, author: str) -> Draft:
        """Put an earlier version back as a new commit, so the history keeps what it replaced."""
        with _WRITING:
            text = self.version_text(name, commit)
            path = source_path(self.folder, name)
            base = self.read(name).version if path.exists() else None
            return self.save(name, text, base, author, f"Restore {name} to {commit[:7]}")

    def last_change(self, name: str) -> str:
        """When the source last changed (ISO 8601): its last commit, or its file's time when never committed."""
        path = source_path(self.folder, name)
        top = self._committed()
        if top is not None:
            when = _git(top, "log", "-1", "--format=%aI", "--", path.relative_to(top).as_posix()).stdout.strip()
            if when:
                return when
        return datetime.datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")

    def _top(self) -> Path | None:
        """The top of the repository the folder is in, or None when it is in none."""
        found = _git(self.folder, "rev-parse", "--show-toplevel", check=False)
        if found.returncode == 0:
            return Path(found.stdout.strip()).resolve()
        if "not a git repository" in found.stderr:
            return None
        raise GitError(found.stderr.strip())  # a repository git will not use (another owner's): never init inside it

    def _repository(self) -> Path:
        """The repository's top, making the folder a repository of its own when it is in none."""
        top = self._top()
        if top is None:
            _git(self.folder, "init", "--quiet")
            top = self.folder
        return top

    def _committed(self) -> Path | None:
        """The repository's top when it has a commit (None: no repository, or nothing committed yet)."""
        top = self._top()
        if top is None or _git(top, "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode != 0:
            return None
        return top

    def _commit(self, top: Path, relative: str, identity: dict[str, str], message: str) -> None:
        """Commit this one file as it is on disk (nothing else staged goes with it); no commit when unchanged."""
        _git(top, "add", "--", relative)
        if _git(top, "diff", "--cached", "--quiet", "--", relative, check=False).returncode == 0:
            return
        _git(top, "-c", "commit.gpgsign=false", "commit", "--quiet", "-m", message, "--", relative, env=identity)


def _git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run git with a fixed list of arguments; paths are literal (never patterns); a failure is a GitError."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    clean.update(GIT_LITERAL_PATHSPECS="1", **(env or {}))
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8",
                              check=check, env=clean)
    except subprocess.CalledProcessError as exc:
        raise GitError(f"git failed in {cwd}: {exc.stderr.strip()}") from exc


def _draft(name: str, data: bytes) -> Draft:
    """The draft of these bytes, versioned by their hash."""
    return Draft(name, data.decode("utf-8"), hashlib.sha256(data).hexdigest())


def _identity(author: str) -> dict[str, str]:
    """Author and committer of a commit from the name staff gave: refused when empty or holding what git forbids."""
    name = " ".join(str(author).split())
    if not name or re.search(r"[<>\x00-\x1f\x7f]", name):
        raise ValueError(f"{author!r} is not an author's name: give a name without < > or control characters")
    email = f"{re.sub(r'[^a-z0-9.-]+', '-', name.lower()).strip('.-') or 'staff'}@{EMAIL_DOMAIN}"
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def _one_line(message: str) -> str:
    """A commit message as one line: the history lists subjects, and control characters have no place in one."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", str(message)).split())


def _unix_lines(text: str) -> str:
    """The text with "\\n" line endings only."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
