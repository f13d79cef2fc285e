"""A PICC-line style handout, as a listener, a braille reader and a print reader meet it: the steps
keep their numbers and letters in the narration ("Step 1.", "a."), the braille and the PDF; units and
the emergency number are said as a nurse says them ("10 milliliters", "nine one one"), and the
recogniser hears them so."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pipeline import checks
from pipeline.checks import audio as audio_check, hearing
from pipeline.engine.build import BuildOptions, build
from pipeline.source.reader import parse

ROOT = Path(__file__).resolve().parent.parent
PICC = ROOT / "tests" / "fixtures" / "picc-steps.md"


def test_steps_units_and_911_are_said_brailled_and_printed_right(tmp_path: Path) -> None:
    doc = parse(PICC)
    folder = build(PICC, BuildOptions(out_root=tmp_path / "out", quiet=True))
    assert checks.failures(doc, checks.run(doc, folder)) == []

    transcript = (folder / "audio" / "01-flush.vtt").read_text(encoding="utf-8")
    for said in ("Step 1. Wash your hands", "Step 2. Clean the cap", "a. Scrub it", "b. Let it dry",
                 "Push 10 milliliters of saline", "Call 9 1 1 if"):
        assert said in transcript, said
    assert "m l" not in transcript and "911" not in transcript

    heard = audio_check._listen_all({"full:flush": folder / "audio" / "01-flush.mp3"}, hearing.model_for(doc))
    assert "nine one one" in heard["full:flush"].transcript
    assert "step three push ten milliliters" in heard["full:flush"].transcript

    back = subprocess.run(["lou_translate", "--backward", "en-us-brf.dis,en-ueb-g2.ctb"],
                          input=(folder / "picc-steps.brf").read_text(encoding="ascii"),
                          capture_output=True, text=True, check=True).stdout
    lines = [line.strip() for line in back.splitlines()]
    for marker in ("1. Wash", "2. Clean", "a. Scrub", "b. Let", "3. Push"):
        assert any(line.startswith(marker) for line in lines), marker

    printed = subprocess.run(["pdftotext", "-layout", str(folder / "picc-steps.pdf"), "-"],
                             capture_output=True, text=True, check=True).stdout
    assert re.search(r"^\s*a\.\s+Scrub", printed, re.M) and re.search(r"^\s*b\.\s+Let it dry", printed, re.M)
    assert not re.search(r"^\s*1\.\s+Scrub", printed, re.M)
