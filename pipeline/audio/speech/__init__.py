"""Speech engines behind one small interface, so the narration does not care who speaks.

Each engine module (`piper`, `gtts`, `espeak`) defines a class with

    name: str                       # "piper", the name used by --engine
    voice: str                      # which voice speaks (goes into the cache key and the tags)
    settings: dict                  # everything else that changes the sound (rate, noise, ...)
    def synthesize(text) -> Speech  # one utterance, mono float samples

and `load(lang, rate_wpm, jobs) -> Engine`. `get(name, lang, rate_wpm, jobs)` picks one by name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ...config import setting
from ...errors import EngineError

ENGINES = ("piper", "gtts", "espeak")
AUTO = "auto"  # the engine [tool.pipeline.voices] names for the document's language


@dataclass(frozen=True)
class Speech:
    """One synthesised utterance: mono float32 samples in [-1, 1] at the engine's own rate."""

    samples: np.ndarray
    sample_rate: int

    @property
    def seconds(self) -> float:
        """How long the utterance lasts."""
        return len(self.samples) / self.sample_rate


class Engine(Protocol):
    """What the narration needs of a speech engine."""

    name: str
    voice: str
    settings: dict[str, Any]

    def synthesize(self, text: str) -> Speech:
        """Speak one utterance; raise EngineError with a one-line reason when it cannot."""
        ...


def chosen(name: str, lang: str) -> str:
    """The engine that speaks `lang`: the one asked for, or for `auto` the one `[tool.pipeline.voices]`
    names for the language ("*" for every other language)."""
    if name != AUTO:
        return name
    voices = setting("voices")
    return str(voices.get(primary_language(lang), voices["*"]))


def get(name: str, lang: str, rate_wpm: int, jobs: int = 1) -> Engine:
    """The engine called `name` (or chosen for the language when `auto`), ready to speak `lang` at
    about `rate_wpm` words per minute from `jobs` threads at once."""
    name = chosen(name, lang)
    if name not in ENGINES:
        raise EngineError(f"unknown speech engine {name!r}; choose from {', '.join(ENGINES)}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.load(lang, rate_wpm, jobs)


def primary_language(lang: str) -> str:
    """The language part of a BCP 47 tag ("en-US" -> "en"), which is what voices are chosen by."""
    return lang.split("-")[0].lower()
