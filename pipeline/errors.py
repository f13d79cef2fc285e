"""Domain exceptions; the CLI turns each into one line of text and an exit code."""

from __future__ import annotations

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


class EngineError(PipelineError):
    """A speech engine could not speak (offline, missing, crashed)."""

    exit_code = 3


class CheckFailed(PipelineError):
    """A built artifact lacks a section or breaks a rule."""

    exit_code = 1
