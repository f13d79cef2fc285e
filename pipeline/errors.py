"""Domain exceptions; the CLI turns each into one line of text and an exit code."""

from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path


class PipelineError(Exception):
    """Any failure the user should read as one clear line."""

    exit_code = 1


class SourceError(PipelineError):
    """The source file is wrong: the message names file, line and problem."""

    exit_code = 2

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line else f"{self.path}"
        super().__init__(f"{where}: {problem}")


class UnfinishedSource(SourceError):
    """A source an author has not finished (a plain rendition not yet written, a picture without
    alt text): a bad source for `build`, one finding under `rule` for `lint`."""

    def __init__(self, path: Path | str, line: int | None, problem: str, rule: str) -> None:
        super().__init__(path, line, problem)
        self.rule = rule


class Unavailable(PipelineError):
    """A format this machine cannot make for this handout (no braille table, no voice for its
    language): a one-line warning while the other formats are published; an error only when it
    was all that was asked for."""

    exit_code = 3


class EngineError(PipelineError):
    """A speech engine could not speak (offline, missing, crashed)."""

    exit_code = 3


class CheckFailed(PipelineError):
    """A built artifact lacks a section or breaks a rule."""

    exit_code = 1


class OutputError(PipelineError):
    """The output or cache could not be written: a full disk, no permission, a file where a folder must be."""

    exit_code = 4

    @classmethod
    def of(cls, exc: OSError, where: Path | str | None = None) -> OutputError:
        """One line from an OSError or shutil.Error: the path it names (else `where`) and the problem."""
        number, problem = _problem(exc)
        path: object = exc.filename
        failures = exc.args[0] if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) else []
        if failures:  # copytree's list of (source, destination, why): name the first
            _source, path, why = failures[0]
            number, problem = _problem(why)
            problem += f" (and {len(failures) - 1} more files)" if len(failures) > 1 else ""
        path = path if path is not None else where
        verb = "cannot write" if number in WRITE_ERRORS else "cannot use"
        return cls(f"{verb} {path}: {problem}" if path is not None else f"{verb} the output: {problem}")


class ClusterError(PipelineError):
    """The Dask cluster cannot be used: unreachable, malformed address, or workers that cannot see
    the shared output and cache or run other code."""

    exit_code = 6


class InternalError(PipelineError):
    """An exception nobody expected (a bug): one line, and --debug shows where it came from."""

    exit_code = 5

    def __init__(self, exc: BaseException) -> None:
        message = " ".join(str(exc).split())
        what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        super().__init__(f"internal error: {what} (run with --debug to see the traceback)")


# Errors that mean the disk refused to take more, worded as "cannot write".
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}
# Problems whose system wording does not say what to fix.
PLAIN_PROBLEMS = {errno.ENOTDIR: "a part of that path is a file, not a folder"}
# How an OSError reads once made text (as shutil.Error keeps it): "[Errno 28] No space left on device: 'path'".
ERRNO_TEXT = re.compile(r"\[Errno (\d+)\] (.*?)(?:: '[^']*'(?: -> '[^']*')?)?")


def _problem(error: OSError | str) -> tuple[int | None, str]:
    """(errno, what went wrong in words), without Python's "[Errno N]" prefix or a repeated file name."""
    if isinstance(error, OSError):
        number, text = error.errno, error.strerror or " ".join(str(error).split()) or type(error).__name__
    else:
        text = " ".join(str(error).split())
        found = ERRNO_TEXT.fullmatch(text)
        number, text = (int(found[1]), found[2]) if found else (None, text)
    return number, PLAIN_PROBLEMS.get(number, text)
