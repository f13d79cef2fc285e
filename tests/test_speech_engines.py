"""The three speech engines behind one interface: Piper (default), gTTS (online), espeak-ng (fallback).

gTTS is tested with the network faked at its boundary, `requests.Session.send`: a fake Google that
answers with real MP3 speech (made by espeak-ng and ffmpeg), a network that refuses, and one that
never answers. Everything above that boundary (gtts, our engine, the build, the CLI) runs for real.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import requests

from pipeline.audio import ffmpeg as audio_ffmpeg, speech
from pipeline import cli
from pipeline.engine.build import BuildOptions, build
from pipeline.checks import audio as audio_check
from pipeline.checks.presence import words
from pipeline.errors import EngineError
from pipeline.audio.speech import gtts as gtts_engine
from pipeline.formats import audio as audio_format

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"


def _spoken_mp3(text: str) -> bytes:
    """Real MP3 speech for a text (espeak-ng, then ffmpeg), standing in for Google's answer."""
    wav = subprocess.run(["espeak-ng", "--stdout"], input=text.encode(), capture_output=True, check=True).stdout
    return audio_ffmpeg.run("-i", "pipe:0", "-ar", "24000", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k",
                            "-f", "mp3", "-", stdin=wav).stdout


def _asked_text(request: requests.PreparedRequest) -> str:
    """The text gtts put into its batchexecute request body."""
    body = request.body if isinstance(request.body, str) else request.body.decode()
    rpc = json.loads(urllib.parse.unquote(body.split("f.req=", 1)[1].rstrip("&")))
    return json.loads(rpc[0][0][1])[0]


class FakeGoogle:
    """Answers gtts's POSTs the way translate.google.com does: base64 MP3 inside a JSON line."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> "FakeGoogle":
        """Put this fake in place of requests' network layer for the test."""
        monkeypatch.setattr(requests.Session, "send", lambda session, request, **kwargs: self.answer(request))
        return self

    def answer(self, request: requests.PreparedRequest) -> requests.Response:
        """One batchexecute answer carrying real MP3 speech of the text asked for."""
        text = _asked_text(request)
        self.asked.append((request.url, text))
        audio = base64.b64encode(_spoken_mp3(text)).decode("ascii")
        line = ')]}\'\n\n[["wrb.fr","jQ1olc","[\\"' + audio + '\\"]",null,null,null,"generic"]]\n'
        response = requests.Response()
        response.status_code = 200
        response._content = line.encode("utf-8")
        response._content_consumed = True
        response.request = request
        response.url = request.url
        return response


def _refuse(session: requests.Session, request: requests.PreparedRequest, **kwargs) -> requests.Response:
    """What an offline machine's network layer does: the name does not resolve."""
    raise requests.exceptions.ConnectionError(f"Failed to resolve '{urllib.parse.urlsplit(request.url).hostname}'")


def test_gtts_speaks_through_the_faked_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """gtts posts the utterance to Google; the MP3 that comes back is decoded to samples."""
    google = FakeGoogle().install(monkeypatch)
    engine = speech.get("gtts", "en-US", 150)
    spoken = engine.synthesize("A mammogram is an X-ray picture of the breast.")
    assert [text for _, text in google.asked] == ["A mammogram is an X-ray picture of the breast"]
    assert urllib.parse.urlsplit(google.asked[0][0]).hostname == "translate.google.com"
    assert spoken.sample_rate == 24000
    assert 1.5 < spoken.seconds < 6
    assert np.sqrt(np.mean(spoken.samples ** 2)) > 0.01


def test_gtts_builds_a_narration_through_the_faked_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sample_doc) -> None:
    """A whole build with --engine gtts: one request per utterance, every file and timing written."""
    google = FakeGoogle().install(monkeypatch)
    options = BuildOptions(out_root=tmp_path / "out", cache_dir=tmp_path / "cache", formats=("audio",), settings={"engine": "gtts"}, quiet=True)
    built = build(SAMPLE, options)
    asked = Counter(w for _, text in google.asked for w in words(text))
    said = dict.fromkeys(u.text for part in audio_format.parts(sample_doc) for u in part.narration + part.plain_narration)
    assert asked == Counter(w for text in said for w in words(text))  # a text both narrations say is asked for once
    timings = json.loads((built / "audio" / "timings.json").read_text(encoding="utf-8"))
    assert timings["engine"] == "gtts" and timings["voice"] == "en-com"
    report = audio_check.check(sample_doc, built)
    rules = {r.name: r.ok for r in report.rules}
    assert rules["loudness"] and rules["true peak"] and rules["timings"] and rules["sample-faq.mp3 chapters"]


def test_gtts_offline_fails_fast_with_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    """`build --engine gtts` without a network: exit 3 within 15 s, one line with the offline hint, no output."""
    monkeypatch.setattr(requests.Session, "send", _refuse)
    started = time.monotonic()
    code = cli.main(["build", str(SAMPLE), "--formats", "audio", "--engine", "gtts",
                     "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "--quiet"])
    took = time.monotonic() - started
    errors = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert took < 15
    assert len(errors) == 1 and errors[0].startswith("error: gTTS")
    assert "use --engine auto" in errors[0] and "translate.google.com" in errors[0]
    assert not (tmp_path / "out" / "sample-faq").exists()


def test_gtts_silent_network_hits_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A network that never answers (even DNS hanging) ends in an EngineError at the deadline."""
    released = threading.Event()

    def hang(session, request, **kwargs):
        released.wait(30)
        raise requests.exceptions.ConnectTimeout("gave up")

    monkeypatch.setattr(requests.Session, "send", hang)
    monkeypatch.setattr(gtts_engine, "REQUEST_DEADLINE_S", 1.0)
    started = time.monotonic()
    try:
        with pytest.raises(EngineError, match="no answer within 1 s; gTTS needs internet"):
            speech.get("gtts", "en-US", 150).synthesize("Hello.")
    finally:
        released.set()
    assert time.monotonic() - started < 3


def test_piper_is_repeatable_and_follows_the_rate() -> None:
    """Noise off: the same text gives the same samples; a slower rate gives proportionally longer speech."""
    text = "Breast cancer can come back in the lymph nodes next to the breast."
    normal = speech.get("piper", "en-US", 150)
    first, second = normal.synthesize(text), normal.synthesize(text)
    assert first.sample_rate == 22050
    assert np.array_equal(first.samples, second.samples)
    slow = speech.get("piper", "en-US", 100).synthesize(text)
    assert 1.3 < slow.seconds / first.seconds < 1.7


def test_espeak_speaks() -> None:
    """espeak-ng, the Debian fallback, returns real speech."""
    spoken = speech.get("espeak", "en-US", 150).synthesize("-v is not an option here, just words.")
    assert spoken.sample_rate == 22050
    assert 1.0 < spoken.seconds < 6
    assert np.sqrt(np.mean(spoken.samples ** 2)) > 0.01


def test_espeak_builds(tmp_path: Path, sample_doc) -> None:
    """`--engine espeak` builds the whole narration with chapters, timings and loudness in limits."""
    code = cli.main(["build", str(SAMPLE), "--formats", "audio", "--engine", "espeak",
                     "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "--quiet"])
    assert code == 0
    built = tmp_path / "out" / "sample-faq"
    report = audio_check.check(sample_doc, built)
    rules = {r.name: r for r in report.rules}
    assert all(rules[name].ok for name in ("loudness", "true peak", "mp3 format", "timings", "playlist",
                                           "sample-faq.mp3 chapters", "sample-faq.m4b chapters")), report.rules
    assert json.loads((built / "audio" / "timings.json").read_text(encoding="utf-8"))["engine"] == "espeak"


def test_engine_choice_is_checked() -> None:
    """An unknown engine, or the English-only Piper voice for another language, is a clear EngineError."""
    with pytest.raises(EngineError, match="unknown speech engine"):
        speech.get("festival", "en-US", 150)
    with pytest.raises(EngineError, match="piper voice speaks English"):
        speech.get("piper", "es-MX", 150)
