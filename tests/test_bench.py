"""`make bench` end to end on a tiny library: it measures, prints both tables and cleans up after itself.

Real `make all` runs (with real speech synthesis) on one handout of two short sections, so this
takes a minute or two.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_tiny_benchmark_prints_both_tables_and_removes_its_work_folder(tmp_path: Path) -> None:
    """`python -m bench --sizes 1 --sections 2 --parallel 0` without --work: exit 0, no traceback,
    a row for N = 1 in each table, and no temporary work folder left behind."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}  # where the bench makes its temporary work folder
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "1", "--sections", "2", "--parallel", "0"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert re.search(r"^\| N \| sections \| speech \| cold `make all`", result.stdout, re.M), result.stdout
    assert re.search(r"^\| N \| pandoc md→html \| WeasyPrint html→pdf", result.stdout, re.M), result.stdout
    rows = re.findall(r"^\| 1 \| (.*)\|$", result.stdout, re.M)
    assert len(rows) == 2, result.stdout
    assert rows[0].startswith("2 | ") and "FAILED" not in rows[0], rows[0]
    assert list(scratch.glob("faq-bench-*")) == [], "the temporary work folder was not removed"
