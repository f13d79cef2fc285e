"""The handout's narrator: its language's engine, the words of the lexicon said as it says, and
words in another script (Arabic inside an English handout) said by espeak-ng's voice for them.

A narrator looks like an engine to the narration (name, voice, settings, `synthesize`), and adds
`plan(text)`: the runs of an utterance as each voice is handed them. The plan, not the text, keys the
cache, so changing how one word is said re-voices only the sentences that hold it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ...errors import EngineError
from ...language.pronunciation import WORD, Lexicon, said_differently
from ...language.scripts import SCRIPT_LANGUAGES, other_script_runs
from . import Engine, Speech

RUN_GAP_MS = 120  # a short breath where the voice changes


class Narrator:
    """The engine of a handout's language, with its lexicon and the voices of other scripts."""

    def __init__(self, engine: Engine, lang: str, lexicon: Lexicon, rate_wpm: int, unvoiced: str) -> None:
        self.engine = engine
        self.name, self.voice, self.settings = engine.name, engine.voice, engine.settings
        self.lang = lang
        self.lexicon = lexicon
        self.rate_wpm = rate_wpm
        self.unvoiced = unvoiced  # said in place of words no voice here reads: "(words in another script)"
        self.phonemes = bool(getattr(engine, "phonemes", False))
        self._others: dict[str, Engine | None] = {}

    def plan(self, text: str) -> list[tuple[str, str, dict[str, Any], str]]:
        """The utterance as the voices are handed it: (engine, voice, settings, text) per run."""
        plan = []
        for script, words in other_script_runs(text, self.lang):
            if not any(c.isalnum() for c in words):
                continue  # punctuation between runs: the gap says it
            other = self._other(script) if script else None
            if other:
                plan.append((other.name, other.voice, other.settings, words))
            elif script:
                plan.append((self.name, self.voice, self.settings, self.unvoiced))
            else:
                plan.append((self.name, self.voice, self.settings, WORD.sub(self._said, words)))
        return plan

    def _said(self, match: re.Match[str]) -> str:
        """What the main voice is handed for one word: the lexicon's phonemes where the voice's own
        guess would be heard as another word (other consonants, the stress elsewhere); the word
        itself where it already says it so (spliced phonemes cost the sentence some of its natural
        flow). A voice that takes no phonemes (espeak-ng, Google's) is handed only the source's own
        `pronounce:` respellings: Google says "mammogram" better than "mam uh gram"."""
        word = match.group(0)
        entry = self.lexicon.find(word)
        if entry is None or (not self.phonemes and not entry.own):
            return word  # a voice that takes no phonemes reads the project's words as it would; the source's, respelt
        if self.phonemes and entry.ipa and not said_differently(self.engine.guess(word), entry.ipa):
            return word
        return entry.for_voice(self.phonemes)

    def synthesize(self, text: str) -> Speech:
        """Speak an utterance run by run at the main voice's sample rate."""
        runs = [(self._engine_of(name, voice), said) for name, voice, _settings, said in self.plan(text)]
        if not runs:
            raise EngineError(f"nothing to say in {text[:40]!r}")
        spoken = [engine.synthesize(said) for engine, said in runs]
        rate = self._main_rate(spoken, runs)
        gap = np.zeros(int(rate * RUN_GAP_MS / 1000), dtype=np.float32)
        pieces = [piece for speech in spoken for piece in (gap, _resampled(speech, rate))][1:]
        return Speech(np.concatenate(pieces).astype(np.float32), rate)

    def _main_rate(self, spoken: list[Speech], runs: list[tuple[Engine, str]]) -> int:
        """The sample rate of the main voice (the first run may be another's)."""
        for speech, (engine, _said) in zip(spoken, runs):
            if engine is self.engine:
                return speech.sample_rate
        return spoken[0].sample_rate

    def _engine_of(self, name: str, voice: str) -> Engine:
        """The engine a plan's run names."""
        if name == self.name and voice == self.voice:
            return self.engine
        return next(e for e in self._others.values() if e and e.name == name and e.voice == voice)

    def _other(self, script: str) -> Engine | None:
        """espeak-ng speaking the language a script is most likely in (loaded once), or None when
        it has no voice for it."""
        if script not in self._others:
            from . import espeak

            lang = SCRIPT_LANGUAGES.get(script, "und")
            try:
                self._others[script] = espeak.load(lang, self.rate_wpm)
            except EngineError:
                self._others[script] = None
        return self._others[script]


def _resampled(speech: Speech, rate: int) -> np.ndarray:
    """Samples at another rate (linear interpolation: voices differ little, 22.05 against 22.05 kHz)."""
    if speech.sample_rate == rate:
        return speech.samples
    count = int(round(len(speech.samples) * rate / speech.sample_rate))
    return np.interp(np.linspace(0, len(speech.samples) - 1, count), np.arange(len(speech.samples)), speech.samples)
