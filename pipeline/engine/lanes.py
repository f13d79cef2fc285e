"""How many pieces of one document's work run at once, and make's jobserver, which lends idle cores.

Outside make a document has a lane per core. Under `make -jN` it is one of make's N jobs, so it has
one lane of its own; when make has a job slot nobody is using (the last documents of a library,
a light step beside a heavy one) the document borrows it as a token from make's jobserver pipe,
for one utterance or one piece of speech recognition at a time, and gives it straight back. Under
`make -j1` there is no jobserver and the document works in one lane, as make was asked. This is
the GNU make jobserver protocol (a byte read is a slot taken, a byte written back frees it) that
gcc's LTO, cargo and ninja follow; make only hands the pipe to recipe lines marked `+`.
"""

from __future__ import annotations

import functools
import os
import re
import select
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from ..config import cores, default_jobs

Result = TypeVar("Result")
# How long a waiting piece of work sleeps between looks at its own lane and make's pipe.
BORROW_POLL_S = 0.05


class Jobserver:
    """make's jobserver pipe (or fifo), read without blocking so a thread never hangs on it."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._read, self._write = read_fd, write_fd

    @classmethod
    def from_makeflags(cls, flags: str) -> Jobserver | None:
        """The jobserver make passed down, or None when there is none or this recipe did not get it."""
        found = re.search(r"--jobserver-(?:auth|fds)=(?:fifo:(\S+)|(\d+),(\d+))", flags)
        if not found:
            return None
        try:
            if found.group(1):
                fd = os.open(found.group(1), os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
                return cls(fd, fd)
            read_fd, write_fd = int(found.group(2)), int(found.group(3))
            if not (stat.S_ISFIFO(os.fstat(read_fd).st_mode) and stat.S_ISFIFO(os.fstat(write_fd).st_mode)):
                return None
            # A description of the pipe of our own, so O_NONBLOCK does not change make's (Linux).
            own = os.open(f"/proc/self/fd/{read_fd}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            return cls(own, write_fd)
        except OSError:  # the recipe was not marked `+`, so make closed the pipe for it
            return None

    def take(self, wait_s: float) -> bytes | None:
        """One token if make has a job slot free (within `wait_s`), else None."""
        ready, _, _ = select.select([self._read], [], [], wait_s)
        if not ready:
            return None
        try:
            return os.read(self._read, 1) or None
        except BlockingIOError:  # another job took it first
            return None

    def give(self, token: bytes) -> None:
        """Hand a borrowed token back to make."""
        os.write(self._write, token)


class Lanes:
    """A document's own lanes plus what it can borrow: at most `width` pieces of work at once."""

    def __init__(self, own: int, server: Jobserver | None = None, width: int | None = None) -> None:
        self.own = max(1, own)
        self.server = server
        self.width = max(self.own, width or self.own) if server else self.own
        self._free = self.own
        self._changed = threading.Condition()
        self.borrowed = 0  # tokens taken from make over the run (a figure, not a limit)

    def acquire(self) -> bytes | None:
        """Wait for a lane: one of our own (None) or a token borrowed from make."""
        while True:
            with self._changed:
                if self._free:
                    self._free -= 1
                    return None
                if self.server is None:
                    self._changed.wait()
                    continue
            token = self.server.take(BORROW_POLL_S)
            if token is not None:
                with self._changed:
                    self.borrowed += 1
                return token

    def release(self, token: bytes | None) -> None:
        """Free a lane: ours again, or the token back to make at once."""
        if token is None:
            with self._changed:
                self._free += 1
                self._changed.notify()
        elif self.server is not None:
            self.server.give(token)

    @contextmanager
    def lane(self) -> Iterator[None]:
        """Hold one lane for a piece of work."""
        token = self.acquire()
        try:
            yield
        finally:
            self.release(token)

    def run(self, work: Callable[..., Result], *args: object) -> Result:
        """Do one piece of work in a lane (what pool threads call)."""
        with self.lane():
            return work(*args)


@functools.cache
def lanes(jobs: int | None = None) -> Lanes:
    """This process's lanes: `jobs` of its own when asked for; otherwise every core outside make, or
    one lane plus whatever make's jobserver lends under `make -jN`."""
    if jobs:
        return Lanes(jobs)
    own, most = default_jobs(), cores()
    server = Jobserver.from_makeflags(os.environ.get("MAKEFLAGS", "")) if own < most else None
    return Lanes(own, server, most)
