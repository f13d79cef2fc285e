"""gTTS, Google's online voice: for people who are online and prefer it. Offline it fails fast.

Every request runs under a deadline in a daemon thread, so an unreachable or black-holed network
(where even DNS may hang) ends in one clear EngineError within seconds, never a hung build.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ...errors import EngineError
from . import Speech, primary_language

CONNECT_TIMEOUT_S = 4.0
READ_TIMEOUT_S = 8.0
REQUEST_DEADLINE_S = 10.0
SAMPLE_RATE = 24000  # what Google's voice is recorded at
OFFLINE_HINT = "gTTS needs internet; use --engine auto to build offline (Piper for English, espeak-ng for other languages)"


class Gtts:
    """Google Translate's voice for the document's language (top-level domain picks the accent)."""

    name = "gtts"

    def __init__(self, lang: str, tld: str) -> None:
        self.lang = lang
        self.tld = tld
        self.voice = f"{lang}-{tld}"
        self.settings: dict[str, Any] = {"slow": False}

    def synthesize(self, text: str) -> Speech:
        """Fetch the MP3 for one utterance and decode it to samples."""
        from ..ffmpeg import mp3_from_bytes

        mp3 = _within_deadline(lambda: self._fetch(text))
        if not mp3:
            raise EngineError(f"gTTS returned no sound for {text[:40]!r}")
        pcm = mp3_from_bytes(mp3, SAMPLE_RATE)
        return Speech(np.frombuffer(pcm, "<f4").copy(), SAMPLE_RATE)

    def _fetch(self, text: str) -> bytes:
        """One round trip to the service through gtts (which uses requests)."""
        from gtts import gTTS, gTTSError

        try:
            speaker = gTTS(text, lang=self.lang, tld=self.tld, lang_check=False,
                           timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
            return b"".join(speaker.stream())
        except gTTSError as exc:
            raise EngineError(f"gTTS could not reach translate.google.{self.tld} ({_reason(exc)}); {OFFLINE_HINT}") from None


def _within_deadline(fetch: Any) -> bytes:
    """Run a network call in a daemon thread and give up after REQUEST_DEADLINE_S."""
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["mp3"] = fetch()
        except BaseException as exc:  # noqa: BLE001  (handed back to the caller's thread)
            outcome["error"] = exc

    worker = threading.Thread(target=attempt, name="gtts-request", daemon=True)
    worker.start()
    worker.join(REQUEST_DEADLINE_S)
    if worker.is_alive():
        raise EngineError(f"gTTS got no answer within {REQUEST_DEADLINE_S:.0f} s; {OFFLINE_HINT}")
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, EngineError):
            raise error
        raise EngineError(f"gTTS failed: {_first_line(error)}; {OFFLINE_HINT}")
    return outcome["mp3"]


def _reason(exc: BaseException) -> str:
    """Why the request failed, in words: gtts hides the network error in the exception's context."""
    import requests

    cause = exc.__context__
    if isinstance(cause, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(cause, requests.exceptions.ConnectionError):
        return "no connection"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, for a one-line error."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def load(lang: str, rate_wpm: int, jobs: int = 1) -> Gtts:
    """The gTTS engine (it has one speed; `rate_wpm` only goes into the cache key via the caller)."""
    from gtts.lang import tts_langs

    primary = primary_language(lang)
    if primary not in tts_langs():
        raise EngineError(f"gTTS does not speak {lang}; use --engine espeak")
    region = lang.split("-")[1].lower() if "-" in lang else ""
    tld = {"us": "com", "gb": "co.uk", "au": "com.au", "ca": "ca", "in": "co.in", "ie": "ie", "za": "co.za"}.get(region, "com")
    return Gtts(primary, tld)
