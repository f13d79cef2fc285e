"""The one build loop every format shares: staging, the up-to-date test, parallelism and the atomic swap.

A format is a leaf module in `pipeline.formats` that only knows how to write its files for one
document. This module decides whether it needs to run, runs independent formats side by side,
and publishes `DIR/NAME/` only when every requested format succeeded, so a failed or interrupted
build leaves the previous good output untouched. A build killed outright (kill -9) cannot clean up:
the next build of the same document removes what it left, and a disk error becomes an OutputError.

Two builds of the same document into the same output folder (two `make` runs, the workbench and a
terminal) never interleave: each holds an exclusive lock on `OUT/.NAME.lock` while it stages and
publishes, and the second waits for the first ("waiting for another build of NAME"), then finds its
work up to date. The holder removes the lock file as it lets go, so no build leaves one behind.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping, TextIO

from .. import __version__, formats
from .cache import Cache, fingerprint, write_atomic
from ..config import PROJECT_ROOT, setting
from ..errors import EngineError, OutputError, Unavailable
from .lanes import Lanes, lanes
from ..model import Document
from ..manifest import Manifest
from .provenance import format_digest
from ..source.reader import parse
from ..language.words import words_for

STATE_FILE = ".build.json"
# A build's own folders beside the output: `.NAME.building-HOST-PID` (staging) and `.NAME.old-HOST-PID`
# (the retired output during the swap); builds before the host was added wrote `.NAME.building-PID`.
LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?P<kind>building|old)-(?:(?P<host>[A-Za-z0-9_-]+)-)?(?P<pid>\d+)")
_PRINT_LOCK = threading.Lock()


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build may be asked for; defaults come from `[tool.pipeline]`."""

    out_root: Path = field(default_factory=lambda: Path(setting("output")))
    formats: tuple[str, ...] = field(default_factory=lambda: formats.names())
    jobs: int | None = None  # utterances at once; None: every core, or make's share under `make -jN`
    cache_dir: Path = field(default_factory=lambda: Path(setting("cache")))
    source_date_epoch: int | None = field(
        default_factory=lambda: int(os.environ["SOURCE_DATE_EPOCH"]) if os.environ.get("SOURCE_DATE_EPOCH") else None
    )
    quiet: bool = False
    settings: Mapping[str, Any] = field(default_factory=dict)  # formats' settings chosen for this build ({"paper": "a4"})
    handed: Mapping[str, Manifest] = field(default_factory=dict)  # what the formats this one NEEDS wrote (set by the build)

    def value(self, name: str) -> Any:
        """A format's setting for this build (`options.value("paper")`): as chosen, else `[tool.pipeline]`'s."""
        return formats.declared(name).value(self.settings)

    @property
    def lanes(self) -> Lanes:
        """How many utterances this build speaks at once (and what it may borrow from make)."""
        return lanes(self.jobs)

    @property
    def cache(self) -> Cache:
        """The shared content-addressed cache."""
        return Cache(self.cache_dir)

    def wants(self, name: str) -> bool:
        """Whether this build includes the named format (e.g. EPUB overlays need audio)."""
        return name in self.formats

    def progress(self, document: str, message: str) -> None:
        """One progress line on stderr, safe from several threads."""
        if not self.quiet:
            with _PRINT_LOCK:
                print(f"[{document}] {message}", file=sys.stderr, flush=True)


@functools.cache
def code_digest() -> str:
    """Hash of the pipeline's code and styles: a change to either makes every output outdated."""
    digest = hashlib.sha256(__version__.encode())
    for folder in (PROJECT_ROOT / "pipeline", PROJECT_ROOT / "styles"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Built:
    """A format's last good build of a document: its up-to-date key and what it wrote."""

    key: str
    manifest: Manifest


def format_key(doc: Document, name: str, options: BuildOptions, state: dict[str, Built]) -> str:
    """What decides a format's output: the source, the code it comes from (`provenance`), its settings'
    resolved values, the options it reads, and the keys of the formats whose files it reads."""
    module = formats.get(name)
    chosen = {opt: getattr(options, opt) for opt in getattr(module, "OPTIONS", ())}
    settings = {s.name: s.keyed(doc, options) for s in formats.settings_of(name)}
    needs = {n: built.key for n, built in current_needs(doc, name, options, state).items()}
    return fingerprint(doc.content_sha256, format_digest(module.__name__), name, chosen, settings, needs,
                       options.source_date_epoch)


def current_needs(doc: Document, name: str, options: BuildOptions, state: dict[str, Built]) -> dict[str, Built]:
    """The formats this one reads whose last build is of this source as it is now: built in this
    build (or up to date), or, when this build leaves them out, still up to date. A narration of an
    older text is never handed on (an e-book of it would miss a new section)."""
    module = formats.get(name)
    return {n: state[n] for n in module.NEEDS
            if n in state and (options.wants(n) or state[n].key == format_key(doc, n, options, state))}


def commit_epoch(source: Path) -> int | None:
    """The time of the last commit that touched the source (None outside git, or if it is untracked)."""
    try:
        found = subprocess.run(["git", "log", "-1", "--format=%ct", "--", source.name], cwd=source.resolve().parent,
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    value = found.stdout.strip()
    return int(value) if found.returncode == 0 and value.isdigit() else None


def release_epoch(doc: Document, options: BuildOptions) -> int:
    """The time stamped into every output: SOURCE_DATE_EPOCH, else the source's last commit time,
    else its `date`, else its mtime.

    Never the wall clock, so the same source always gives the same bytes, wherever it is built.
    """
    if options.source_date_epoch is not None:
        return options.source_date_epoch
    committed = commit_epoch(doc.source)
    if committed is not None:
        return committed
    try:
        day = datetime.date.fromisoformat(doc.meta.date[:10])
        return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp())
    except ValueError:
        return int(doc.source.stat().st_mtime)


def build(source: Path, options: BuildOptions) -> Path:
    """Parse one source and build the requested formats into `out_root/NAME/`; returns that folder."""
    doc = parse(source)
    options = replace(options, source_date_epoch=release_epoch(doc, options))
    for warning in doc.warnings:
        options.progress(doc.name, f"warning: {warning}")
    if words_for(doc.meta.lang).fallback:
        options.progress(doc.name, f"warning: no catalog of interface words for {doc.meta.lang}: the words the "
                                   "pipeline adds are English, marked lang=\"en\"")
    final = options.out_root / doc.name
    try:
        options.out_root.mkdir(parents=True, exist_ok=True)
        with _exclusive(final, options):
            _sweep_leftovers(final, options)
            _stage_and_publish(doc, final, options)
    except OSError as exc:  # shutil.Error too: a full disk, a file where a folder must be, no permission
        raise _output_error(exc, final, options) from exc
    return final


@contextlib.contextmanager
def _exclusive(final: Path, options: BuildOptions) -> Iterator[None]:
    """Hold `OUT/.NAME.lock` for this build of one document, so another build of it waits instead of
    interleaving. The lock is taken on the file the name stands for when it is got: a waiter that
    wakes on a file its holder has removed opens the name again."""
    path = final.with_name(f".{final.name}.lock")
    waited = False
    while True:
        handle = open(path, "a")
        try:
            waited = _lock(handle, final.name, options, waited)
        except BaseException:  # Ctrl-C while waiting: let the file go, then stop
            handle.close()
            raise
        if _same_file(handle, path):
            break
        handle.close()
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def _lock(handle: TextIO, name: str, options: BuildOptions, waited: bool) -> bool:
    """Lock the open file, saying once that this build waits when another holds it; returns whether it has waited."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return waited
    except BlockingIOError:
        if not waited:
            options.progress(name, f"waiting for another build of {name}")
        fcntl.flock(handle, fcntl.LOCK_EX)
        return True


def _same_file(handle: TextIO, path: Path) -> bool:
    """Whether the open lock file is still the one at `path` (its holder removes it when done)."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def _stage_and_publish(doc: Document, final: Path, options: BuildOptions) -> None:
    """Build in a staging copy of the last good output and swap it in; the staging copy never outlives the build."""
    staging = _own_folder(final, "building")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        if final.exists():
            shutil.copytree(final, staging, symlinks=False)
        staging.mkdir(parents=True, exist_ok=True)
        state = _read_state(staging)
        unheard = _run_formats(doc, staging, options, state)
        _write_state(staging, state)
        _publish(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if unheard:
        raise EngineError(f"{unheard[0]} (the other formats were built and published)")


def _output_error(exc: OSError, final: Path, options: BuildOptions) -> OutputError:
    """The failure in the reader's terms: the published path rather than a staging copy's, and where
    the build writes when the system named no file (a failed write names none)."""
    where = f"{final} or the cache {options.cache_dir}"
    message = str(OutputError.of(exc, where))
    message = re.sub(rf"{re.escape(str(final.parent))}/\.{re.escape(final.name)}\.(?:building|old)-[A-Za-z0-9_-]+", str(final), message)
    return OutputError(message)


@functools.cache
def _host() -> str:
    """This machine's name as it stands in a folder name: no dots, so the pid after it reads unambiguously."""
    return re.sub(r"[^A-Za-z0-9-]+", "_", socket.gethostname()) or "localhost"


def _own_folder(final: Path, kind: str) -> Path:
    """`OUT/.NAME.KIND-HOST-PID`, a folder only this build uses; host and pid say whose it is if the build dies."""
    return final.with_name(f".{final.name}.{kind}-{_host()}-{os.getpid()}")


def _process_gone(pid: int) -> bool:
    """Whether no process on this machine has this pid (one we may not signal is alive)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return True
    except PermissionError:
        return False
    return False


def _leftovers(final: Path) -> list[Path]:
    """This document's staging and retired folders whose build died: of this host (or named the old
    way, without a host) and with a pid no process has, or this process's own pid, as this build has
    made nothing yet. Another machine's folders and another document's are never listed."""
    found = []
    for folder in final.parent.iterdir():
        match = LEFTOVER.fullmatch(folder.name)
        if not match or match["name"] != final.name or match["host"] not in (None, _host()):
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _process_gone(pid):
            found.append(folder)
    return found


def _sweep_leftovers(final: Path, options: BuildOptions) -> None:
    """Remove the staging and retired folders of this document that killed builds (kill -9, a power cut) left.

    A build killed in the middle of its swap leaves no published folder, only the retired copy of
    the last good one: that copy is put back instead of removed.
    """
    dead = _leftovers(final)
    retired = [folder for folder in dead if LEFTOVER.fullmatch(folder.name)["kind"] == "old"]
    if retired and not final.exists():
        newest = max(retired, key=lambda folder: folder.lstat().st_mtime)
        os.replace(newest, final)
        options.progress(final.name, f"put back the last good output from {newest.name}, left by a killed build")
        dead.remove(newest)
    for folder in dead:
        shutil.rmtree(folder, ignore_errors=True)
        options.progress(final.name, f"removed {folder.name}, left by a killed build")


def _run_formats(doc: Document, staging: Path, options: BuildOptions, state: dict[str, Built]) -> list[EngineError]:
    """Build the requested formats side by side, each as soon as the formats it reads are built.

    Each format is imported in its own thread, so a slow import (WeasyPrint's) holds up no other
    format, and the narration starts speaking at once. A format whose input failed is not built;
    the first error is raised once every thread has ended. A speech engine that cannot speak is
    the exception: the narration is withdrawn, the formats that read it are built without it (a
    page without players, an e-book without read-aloud), and its error is returned to be raised
    once the rest is published. A format this machine cannot make for the handout at all (braille
    in a language liblouis has no table for) is left out before any starts, with one warning line.
    """
    names = [name for name in formats.names() if name in options.formats]
    errors: list[BaseException] = []
    unheard: list[EngineError] = []
    missing: set[str] = set()
    for name in names:  # known before any format starts, so none links to a file that will not exist
        why = _unavailable(doc, name, options)
        if why:
            missing.add(name)
            state.pop(name, None)
            _withdraw(doc, name, staging)
            options.progress(doc.name, f"warning: {name} not made: {why}")
            if len(missing) == len(names):
                raise Unavailable(f"{doc.source}: {why}")  # nothing that was asked for can be made here
    names = [name for name in names if name not in missing]
    built = {name: threading.Event() for name in names}

    def one(name: str) -> None:
        try:
            module = formats.get(name)
            for need in module.NEEDS:
                if need in built:
                    built[need].wait()
            if errors:
                return
            chosen = replace(options, formats=tuple(n for n in options.formats if n not in missing),
                             handed={n: b.manifest for n, b in current_needs(doc, name, options, state).items()})
            key = format_key(doc, name, chosen, state)
            if name in state and state[name].key == key:
                options.progress(doc.name, f"{name}: up to date")
                return
            state.pop(name, None)
            state[name] = Built(key, _build_one(doc, name, staging, chosen))
        except EngineError as exc:
            unheard.append(exc)
            missing.add(name)
            state.pop(name, None)
            _withdraw(doc, name, staging)
            options.progress(doc.name, f"{name}: not built: {exc}")
        except BaseException as exc:  # noqa: BLE001  (re-raised below after every thread ends)
            errors.append(exc)
        finally:
            built[name].set()

    with ThreadPoolExecutor(max_workers=max(1, len(names)), thread_name_prefix="format") as pool:
        list(pool.map(one, names))
    if errors:
        raise errors[0]
    if unheard and not set(names) - missing:  # no format could be built: nothing new to publish
        raise unheard[0]
    return unheard


def _unavailable(doc: Document, name: str, options: BuildOptions) -> str:
    """Why this machine cannot make a format for the handout (the format says), or ""."""
    probe = getattr(formats.get(name), "unavailable", None)
    return probe(doc, options) if probe else ""


def _withdraw(doc: Document, name: str, staging: Path) -> None:
    """Remove what a format published in an earlier build (its files, and the folders they are in),
    so nothing links to a narration of an older text."""
    for publication in formats.published(name, doc.name):
        top = staging / Path(publication.path).parts[0]
        if top.is_dir():
            shutil.rmtree(top, ignore_errors=True)
        else:
            top.unlink(missing_ok=True)


def _build_one(doc: Document, name: str, staging: Path, options: BuildOptions) -> Manifest:
    """Run one format's build, report how long it took, and return what it wrote (a format that
    hands nothing on may return just its main file's path)."""
    started = time.perf_counter()
    options.progress(doc.name, f"{name}: building")
    wrote = formats.get(name).build(doc, staging, options)
    manifest = wrote if isinstance(wrote, Manifest) else Manifest(name, str(Path(wrote).relative_to(staging)))
    took = time.perf_counter() - started
    options.progress(doc.name, f"{name}: wrote {manifest.main} ({took:.1f} s)")
    return manifest


def _read_state(folder: Path) -> dict[str, Built]:
    """Each format's key and manifest from the last good build of this document (none kept in
    another shape: that format is built again)."""
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for name, record in state.items() if isinstance(state, dict) else ():
        try:
            found[name] = Built(str(record["key"]), Manifest.from_record(record["manifest"]))
        except (KeyError, TypeError, ValueError):
            continue
    return found


def _write_state(folder: Path, state: dict[str, Built]) -> None:
    """`.build.json`: each format's key and manifest, for the next build's up-to-date test and hand-over."""
    record = {name: {"key": built.key, "manifest": built.manifest.as_record()} for name, built in state.items()}
    write_atomic(folder / STATE_FILE, json.dumps(record, indent=2, sort_keys=True).encode())


def _publish(staging: Path, final: Path) -> None:
    """Swap the finished staging folder into place; the old output lives until the new one is there."""
    retired = _own_folder(final, "old")
    if final.exists():
        os.replace(final, retired)
    try:
        os.replace(staging, final)
    except OSError:
        if retired.exists():
            os.replace(retired, final)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def options_summary(options: BuildOptions) -> dict[str, object]:
    """The options as plain values (for logs and the benchmark)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
