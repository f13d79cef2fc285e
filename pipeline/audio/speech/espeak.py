"""espeak-ng (Debian), the fallback engine: robotic but tiny, offline, and it speaks many languages."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from typing import Any

import numpy as np

from ...errors import EngineError
from . import Speech

TIMEOUT_S = 60
# espeak-ng's voice for a language where its name is not the language's BCP 47 subtag.
VOICE_NAMES = {"zh": "cmn", "zh-cn": "cmn", "zh-hans": "cmn", "zh-tw": "cmn", "zh-hk": "yue"}


class Espeak:
    """espeak-ng speaking the document's language at the wanted rate (its -s is words per minute)."""

    name = "espeak"

    def __init__(self, lang: str, rate_wpm: int, binary: str) -> None:
        self.binary = binary
        self.voice = lang.lower()
        self.rate_wpm = rate_wpm
        self.settings: dict[str, Any] = {"speed": rate_wpm, "version": _version(binary)}

    def synthesize(self, text: str) -> Speech:
        """Speak one utterance; the text goes in on stdin so nothing in it is read as an option."""
        try:
            done = subprocess.run(
                [self.binary, "-v", self.voice, "-s", str(self.rate_wpm), "--stdout"],
                input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT_S, check=False,
            )
        except subprocess.TimeoutExpired:
            raise EngineError(f"espeak-ng took over {TIMEOUT_S} s for one sentence") from None
        if done.returncode != 0 or not done.stdout:
            reason = done.stderr.decode("utf-8", "replace").strip() or f"exit code {done.returncode}"
            raise EngineError(f"espeak-ng failed: {reason}")
        with wave.open(io.BytesIO(done.stdout)) as sound:
            frames = sound.readframes(sound.getnframes())
            rate = sound.getframerate()
        return Speech((np.frombuffer(frames, "<i2").astype(np.float32) / 32768.0), rate)


def _version(binary: str) -> str:
    """espeak-ng's version line (a new version may sound different, so it is part of the cache key)."""
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def load(lang: str, rate_wpm: int, jobs: int = 1) -> Espeak:
    """The espeak-ng engine, or a clear error naming the Debian package when it is not installed,
    or the language when it has no voice for it."""
    binary = shutil.which("espeak-ng")
    if not binary:
        raise EngineError("espeak-ng is not installed (apt-get install espeak-ng); or use --engine piper")
    lang = VOICE_NAMES.get(lang.lower(), VOICE_NAMES.get(lang.split("-")[0].lower(), lang))
    known = subprocess.run([binary, f"--voices={lang.split('-')[0]}"], capture_output=True, text=True, check=False)
    voice = lang.lower()
    if voice not in known.stdout.lower():
        voice = lang.split("-")[0].lower()
    if f" {voice} " not in known.stdout.lower():
        raise EngineError(f"no voice here speaks {lang}: espeak-ng has none for it")
    engine = Espeak(voice, rate_wpm, binary)
    return engine
