"""Lanes and make's jobserver: a document under `make -jN` borrows only the job slots make has free,
gives every one back, and never touches make's pipe when the recipe was not handed it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline.engine.lanes import Jobserver, Lanes

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
CORES = len(os.sched_getaffinity(0))
PROBE = """
from pipeline.engine.lanes import lanes
lane = lanes()
tokens = [lane.acquire() for _ in range(lane.width)]
print(lane.own, lane.width, lane.server is not None, sum(t is not None for t in tokens))
for token in tokens:
    lane.release(token)
"""


def _pipe(tokens: bytes) -> tuple[Jobserver, int]:
    """A jobserver pipe of our own holding `tokens`, and its read end to look into."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.write(write_fd, tokens)
    return Jobserver(read_fd, write_fd), read_fd


def test_own_lane_first_then_a_borrowed_token_which_goes_straight_back() -> None:
    server, read_fd = _pipe(b"+")
    lanes = Lanes(1, server, width=3)
    assert lanes.acquire() is None  # our own lane costs make nothing
    assert lanes.acquire() == b"+"  # make's free slot
    assert lanes.borrowed == 1
    lanes.release(b"+")
    assert os.read(read_fd, 10) == b"+"  # handed back at once, not kept for later


def test_a_piece_of_work_waits_for_a_lane_when_make_has_none_free() -> None:
    server, _ = _pipe(b"")
    lanes = Lanes(1, server, width=2)
    mine = lanes.acquire()
    got: list[bytes | None] = []
    waiter = threading.Thread(target=lambda: got.append(lanes.acquire()))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not got  # neither a lane of ours nor a token: it waits
    lanes.release(mine)
    waiter.join(2)
    assert got == [None]  # it took our lane when it came free


def test_without_a_jobserver_the_width_is_the_own_lanes() -> None:
    lanes = Lanes(2)
    assert lanes.width == 2 and lanes.server is None
    assert [lanes.run(lambda n: n * 2, n) for n in range(3)] == [0, 2, 4]


def _make(tmp_path: Path, prefix: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """Real make running the probe in a recipe line (marked `+` or not)."""
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    (tmp_path / "Makefile").write_text(f"all:\n\t{prefix}@{sys.executable} probe.py\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(["make", "-s", "-C", str(tmp_path), *flags], env=env, capture_output=True, text=True,
                          check=True)


@pytest.mark.skipif(CORES < 2, reason="nothing to borrow on one core")
def test_under_make_j_a_document_borrows_make_s_free_slots_and_returns_them(tmp_path: Path) -> None:
    done = _make(tmp_path, "+", f"-j{CORES + 1}")
    own, width, server, borrowed = done.stdout.split()
    assert (own, width, server) == ("1", str(CORES), "True")
    assert int(borrowed) == CORES - 1  # make had CORES free slots; the probe wanted CORES - 1 more
    assert "jobserver" not in done.stderr  # make counted every token back


def test_a_recipe_make_did_not_hand_the_pipe_to_keeps_one_lane(tmp_path: Path) -> None:
    assert _make(tmp_path, "", "-j4").stdout.split() == ["1", "1", "False", "0"]


def test_make_j1_has_no_jobserver_and_one_lane(tmp_path: Path) -> None:
    assert _make(tmp_path, "+", "-j1").stdout.split() == ["1", "1", "False", "0"]


def test_plain_make_gives_a_document_every_core_of_its_own(tmp_path: Path) -> None:
    assert _make(tmp_path, "+").stdout.split() == [str(CORES), str(CORES), "False", "0"]


def test_jobs_below_one_is_refused_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline import cli

    code = cli.main(["build", str(ROOT / "tests" / "fixtures" / "sample-faq.md"), "--jobs", "0",
                     "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "--quiet"])
    assert code == 2
    assert capsys.readouterr().err.strip() == "error: --jobs must be at least 1"
    assert not (tmp_path / "out").exists()
