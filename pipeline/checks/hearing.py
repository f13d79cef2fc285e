"""Speech recognition that knows the handout's words, so it hears drug names and anatomy.

pocketsphinx's general English model mishears clear speech of medical words ("lymphedema" as
"wanted 'em up", "women" as "one man"). Here the recogniser is given a language model of the
handout itself: a bigram model of every sentence its source says (headings, both renditions, notes,
picture descriptions and glossary, in the spoken forms the narration uses, and the opening and
closing the narration adds), with the commonest
English words beside it at a small share so speech that is not the handout's is heard as something
else; and a dictionary giving each word its pronunciation: the CMU dictionary's, or, for a word it
lacks (a drug's name, a body part), espeak-ng's, the phonemizer the voices themselves use, mapped
to the recogniser's phone set. The model is the same for every file of a handout, so no section is
favoured: another section's speech is heard as that section's words, and recall of the expected
section's words stays low.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import subprocess
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..engine.cache import check_memo
from ..formats import audio
from ..model import Document
from ..language.narration import spoken
from ..language.pronunciation import IPA_TO_ARPABET, Lexicon, ipa_arpabet, lexicon_for, pronouncing_dictionary
from ..model import Section
from ..language.words import words_for

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
COMMON_WORDS = 3000      # the commonest English words (wordfreq) the model may also hear
COMMON_SHARE = 0.15      # their share of the unigram probability
ESPEAK_VOICE = "en-us"
ESPEAK_ALL = True

@dataclass(frozen=True)
class Model:
    """The recogniser's knowledge of one handout: its dictionary and language model, as file text."""

    dictionary: str
    language_model: str

    @property
    def digest(self) -> str:
        """What a memo of what was heard with this model is keyed by."""
        return hashlib.sha256((self.dictionary + "\0" + self.language_model).encode("utf-8")).hexdigest()

    def files(self) -> tuple[Path, Path]:
        """The dictionary and language model as files pocketsphinx loads, kept in the check's memo."""
        memo = check_memo()
        return tuple(memo.get("hearing", self.digest, suffix) or memo.put("hearing", self.digest, suffix, text.encode("utf-8"))
                     for suffix, text in ((".dict", self.dictionary), (".lm", self.language_model)))  # type: ignore[return-value]


def model_for(doc: Document) -> Model:
    """The dictionary and language model of a handout (English only: the recogniser's language)."""
    sentences = handout_sentences(doc)
    counts = Counter(word for sentence in sentences for word in sentence)
    common = [w for w in _common_words() if w in pronouncing_dictionary()]
    vocabulary = sorted(set(counts) | set(common))
    known = pronounce(vocabulary, set(counts) if ESPEAK_ALL else None)
    _with_lexicon(known, lexicon_for(doc.meta.lang, doc.meta.pronounce).used_in(" ".join(counts)))
    sentences = [[w for w in sentence if w in known] for sentence in sentences]
    return Model(_dictionary_text(known), _arpa(sentences, [w for w in common if w in known]))


def handout_sentences(doc: Document) -> list[list[str]]:
    """Every sentence a narration of this handout may say, as lower-case words (numbers said as words)."""
    say = words_for(doc.meta.lang)
    texts = [doc.meta.title, doc.meta.subtitle or "", doc.meta.publisher or ""]
    for section in doc.sections:
        texts.append(section.title)
        texts.extend(section.full_passages)
        texts.extend(section.plain_passages)
        texts.extend(u.text for u in (*section.narration, *section.plain_narration))
    for term, definition in doc.meta.glossary.items():
        texts.extend((term, definition))
    for part in audio.parts(doc):  # the opening, glossary and closing the narration adds
        if part.section is None:
            texts.extend(u.text for u in (*part.narration, *part.plain_narration))
    sentences = []
    for text in texts:
        for sentence in re.split(r"(?<=[.?!:;])\s+|\n+", spoken(text, say)):
            found = said_words(sentence)
            if found:
                sentences.append(found)
    return sentences


def said_words(text: str) -> list[str]:
    """The words a recogniser writes for a text: lower case, numbers as words, other scripts left out,
    a Latin letter's accent dropped ("médico" is the word "medico", not "m" and "dico", which no voice
    says and no recogniser hears)."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text.lower().replace("’", "'")) if not unicodedata.combining(c))
    text = re.sub(r"\d+(?:\.\d+)?", lambda m: f" {number_words(m.group(0))} ", text)
    return WORD.findall(text)


def number_words(number: str) -> str:
    """A number as an English voice reads it: 150 → "one hundred fifty", 2.5 → "two point five"."""
    whole, _, fraction = number.partition(".")
    said = _integer_words(int(whole)) if len(whole) <= 9 else " ".join(_integer_words(int(d)) for d in whole)
    return said + (" point " + " ".join(_integer_words(int(d)) for d in fraction) if fraction else "")


ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
       "seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _integer_words(n: int) -> str:
    """0 ≤ n < 10⁹ in words."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + _integer_words(n % 100))
    for size, name in ((1_000_000, "million"), (1000, "thousand")):
        if n >= size:
            return _integer_words(n // size) + f" {name}" + ("" if n % size == 0 else " " + _integer_words(n % size))
    return str(n)


def pronounce(words: list[str], voiced: set[str] | None = None) -> dict[str, list[str]]:
    """Each word's pronunciations (ARPAbet phone strings): the CMU dictionary's, then, for the words
    in `voiced` (those the voice says) and for any word CMU lacks, espeak-ng's: the phonemizer the
    voices use, so the recogniser expects the word as the voice says it."""
    cmu = pronouncing_dictionary()
    found = {w: list(cmu[w]) for w in words if w in cmu}
    asked = [w for w in words if w not in found or (voiced is not None and w in voiced)]
    for word, phones in zip(asked, _espeak(tuple(asked))):
        if phones and phones not in found.get(word, []):
            found.setdefault(word, []).append(phones)
    return found


def _with_lexicon(known: dict[str, list[str]], lexicon: Lexicon) -> None:
    """Each lexicon word also as the voice was told to say it (its IPA, or its respelling as
    espeak-ng says it), so the recogniser expects what it hears."""
    entries = [(word, entry) for word, entry in lexicon.entries.items() if word in known and WORD.fullmatch(word)]
    respelt = [entry.respelling.replace("-", " ").lower() for _word, entry in entries if not entry.ipa]
    by_espeak = iter(_espeak(tuple(respelt)))
    for word, entry in entries:
        phones = ipa_arpabet(entry.ipa) if entry.ipa else next(by_espeak)
        if phones and phones not in known[word]:
            known[word].insert(0, phones)


@functools.cache
def _common_words() -> tuple[str, ...]:
    """The commonest English words, most common first."""
    from wordfreq import top_n_list

    return tuple(w for w in top_n_list("en", COMMON_WORDS * 2) if WORD.fullmatch(w))[:COMMON_WORDS]


def _espeak(words: tuple[str, ...]) -> list[str]:
    """ARPAbet phones for words the CMU dictionary lacks, from espeak-ng's US English phonemizer."""
    if not words:
        return []
    done = subprocess.run(["espeak-ng", "-q", "-v", ESPEAK_VOICE, "--ipa", "--sep= "], input="\n".join(words),
                          capture_output=True, text=True, check=False, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or len(lines) != len(words):
        return [""] * len(words)
    return [_arpabet(line) for line in lines]


def _arpabet(ipa: str) -> str:
    """One word's espeak-ng IPA (phonemes apart by spaces) as ARPAbet phones."""
    phones = []
    for unit in ipa.replace("ˈ", "").replace("ˌ", "").split():
        mapped = IPA_TO_ARPABET.get(unit) or IPA_TO_ARPABET.get(unit.replace("ː", ""))
        if mapped is None:  # an unlisted cluster: phone by phone
            mapped = " ".join(IPA_TO_ARPABET[ch] for ch in unit if ch in IPA_TO_ARPABET)
        if mapped:
            phones.append(mapped)
    return " ".join(phones)


def _dictionary_text(known: dict[str, list[str]]) -> str:
    """The dictionary in pocketsphinx's format: `word PH ON ES`, `word(2) ...` for alternatives."""
    lines = []
    for word in sorted(known):
        for n, phones in enumerate(known[word]):
            lines.append(f"{word if n == 0 else f'{word}({n + 1})'} {phones}")
    return "\n".join(lines) + "\n"


def _arpa(sentences: list[list[str]], common: list[str]) -> str:
    """A bigram model in ARPA format: Witten-Bell smoothed bigrams of the handout's sentences backing
    off to unigrams, where the handout's words share 1 - COMMON_SHARE and the common words the rest."""
    unigrams: Counter[str] = Counter()
    followers: dict[str, Counter[str]] = defaultdict(Counter)
    for sentence in sentences:
        padded = ["<s>", *sentence, "</s>"]
        unigrams.update(padded[1:])
        for before, word in zip(padded, padded[1:]):
            followers[before][word] += 1
    total = sum(unigrams.values())
    vocabulary = sorted(set(unigrams) | set(common) | {"<s>"})
    share = {w: (1 - COMMON_SHARE) * unigrams[w] / total for w in unigrams}
    for word in common:
        share[word] = share.get(word, 0.0) + COMMON_SHARE / len(common)
    share["<s>"] = 0.0
    bigram_lines, backoff = [], {}
    for before in vocabulary:
        seen = followers.get(before)
        if not seen:
            continue
        count, kinds = sum(seen.values()), len(seen)
        backoff[before] = math.log10(kinds / (count + kinds))  # interpolated Witten-Bell: what the seen words leave
        for word, n in sorted(seen.items()):
            bigram_lines.append(f"{math.log10(n / (count + kinds) + kinds / (count + kinds) * share[word]):.4f} {before} {word}")
    unigram_lines = [f"{math.log10(share[w]) if share[w] > 0 else -99.0:.4f} {w}" + (f" {backoff[w]:.4f}" if w in backoff else "")
                     for w in vocabulary]
    return "\n".join(["\\data\\", f"ngram 1={len(unigram_lines)}", f"ngram 2={len(bigram_lines)}", "", "\\1-grams:",
                      *unigram_lines, "", "\\2-grams:", *bigram_lines, "", "\\end\\", ""])


def expected_words(doc: Document, section: Section, plain: bool) -> list[list[str]]:
    """What a section's narration must say, from the source (never the build's script): its spoken
    heading and the rendition's running text, then each note and picture description on its own (the
    narration says them where they stand, after their sentence), in the spoken forms the narration
    uses, words in another script left as written (a recogniser of English hears none of them, so
    they cannot count as heard)."""
    say = words_for(doc.meta.lang)
    opening = say("Section {number} of {total}.", number=section.number, total=len(doc.sections)) + f" {section.title}"
    running, *asides = section.plain_passages if plain else section.full_passages
    return [said_words(spoken(f"{opening} {running}", say)),
            *(said_words(spoken(aside, say)) for aside in asides)]


def likeliest(heard: list[str], candidates: dict[str, list[list[str]]], meaningful: Callable[[str], bool]) -> str:
    """The candidate whose meaningful words the heard words resemble most (cosine of word counts):
    the section a recording sounds like, whichever it was filed as."""
    have = Counter(w for w in heard if meaningful(w))
    norm = math.sqrt(sum(n * n for n in have.values())) or 1.0

    def likeness(name: str) -> float:
        want = Counter(w for passage in candidates[name] for w in passage if meaningful(w))
        size = math.sqrt(sum(n * n for n in want.values())) or 1.0
        return sum(n * have[w] for w, n in want.items()) / (norm * size)

    return max(candidates, key=likeness)
