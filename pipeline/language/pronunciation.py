"""How words are said: the project's reviewed lexicon of medical words and a handout's own `pronounce:`.

Voices guess at drug names and anatomy ("lymphedema" stressed on its first syllable). The project
ships `lexicon/pronunciations-LANG.tsv` (word, IPA, the respelling patients are shown, and where the
pronunciation comes from); a source may add or override words in its metadata:

    pronounce:
      lymphedema: /lˌɪmfɪdˈiːmə/      # IPA between slashes, in the voice's phonemes
      Kadcyla: kad-SY-luh             # or a respelling, the stressed syllable in capitals

One lexicon serves every reader of the words: the voice (Piper takes the IPA as raw phonemes; a
voice without phoneme input reads the respelling), the check's recogniser (it expects the word as
the voice says it), the e-book (a W3C PLS lexicon a reading app's own voice uses) and the lint
(a word no dictionary, lexicon or `pronounce:` knows is worth a look).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

LEXICON = Path(__file__).with_name("lexicon")
# The IPA letters and marks the Piper voice was trained on (espeak-ng's phoneme set): what raw
# phonemes may hold. tests/test_pronunciation.py holds it to the voice's own phoneme map.
IPA_SYMBOLS = frozenset("abcdefhijklmnopqrstuvwxyzæçðøħŋœɐɑɒɓɔɕɖɗɘəɚɛɜɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌ"
                        "ʍʎʏʐʑʒʔʕʘʙʛʜʝʟʡʢʰʲˈˌːˑ˞ˤ̧̩̪̯̃βεθχᵻⱱ")
# espeak-ng's IPA (as `espeak-ng --ipa --sep=' '` writes it for US English) in the recogniser's
# ARPAbet phones. Stress and length marks are dropped first; a unit not listed is dropped.
IPA_TO_ARPABET = {
    "i": "IY", "iː": "IY", "ɪ": "IH", "ᵻ": "IH", "e": "EH", "ɛ": "EH", "æ": "AE", "a": "AA", "ɑ": "AA", "ɑː": "AA",
    "ɒ": "AA", "ɔ": "AO", "ɔː": "AO", "o": "OW", "oʊ": "OW", "əʊ": "OW", "ʊ": "UH", "u": "UW", "uː": "UW",
    "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɚ": "ER", "ɜ": "ER", "ɜː": "ER", "ɝ": "ER", "eɪ": "EY", "aɪ": "AY",
    "ɔɪ": "OY", "aʊ": "AW", "ɪɹ": "IH R", "ɛɹ": "EH R", "ʊɹ": "UH R", "ɑːɹ": "AA R", "ɔːɹ": "AO R", "oːɹ": "AO R",
    "iə": "IY AH", "əl": "AH L", "l̩": "AH L", "n̩": "AH N", "m̩": "AH M",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G", "f": "F", "v": "V", "θ": "TH",
    "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "tʃ": "CH", "dʒ": "JH", "m": "M", "n": "N",
    "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R", "w": "W", "ʍ": "W", "j": "Y", "x": "K", "ɾ": "T", "ʔ": "T",
}
RESPELLING = re.compile(r"[A-Za-z]+(?:[- ][A-Za-z]+)*")
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


@dataclass(frozen=True)
class Pronunciation:
    """How one word is said: IPA in the voice's phonemes, or a respelling, or both; and on whose word."""

    word: str
    ipa: str = ""
    respelling: str = ""
    source: str = ""

    @property
    def own(self) -> bool:
        """Whether the handout's own `pronounce:` gives it (not the project's lexicon)."""
        return self.source == "pronounce:"

    def for_voice(self, phonemes: bool) -> str:
        """What a voice is handed for the word: raw phonemes to one that takes them, else the
        respelling as plain words (or the word itself when there is none)."""
        if phonemes and self.ipa:
            return f"[[ {self.ipa} ]]"
        return self.respelling.replace("-", " ").lower() if self.respelling else self.word


@dataclass(frozen=True)
class Lexicon:
    """The pronunciations a handout's words are said with, by lower-case word."""

    lang: str
    entries: dict[str, Pronunciation]

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, word: str) -> Pronunciation | None:
        """The pronunciation of a word as written (any case), if the lexicon has it."""
        return self.entries.get(word.lower().replace("’", "'"))

    def used_in(self, text: str) -> Lexicon:
        """Only the entries a text uses: what an e-book carries and a cache key depends on."""
        used = {w.lower().replace("’", "'") for w in WORD.findall(text)}
        return Lexicon(self.lang, {w: p for w, p in self.entries.items() if w in used})

    @property
    def digest(self) -> str:
        """What changes when any entry does."""
        rows = sorted((p.word, p.ipa, p.respelling) for p in self.entries.values())
        return hashlib.sha256(repr(rows).encode("utf-8")).hexdigest()[:16]

    def pls(self) -> str:
        """The lexicon as a W3C Pronunciation Lexicon Specification 1.0 document (IPA, or an alias
        when only a respelling is known), which EPUB 3 reading systems' voices read."""
        lexemes = []
        for entry in sorted(self.entries.values(), key=lambda p: p.word):
            said = (f"<phoneme>{escape(entry.ipa)}</phoneme>" if entry.ipa
                    else f"<alias>{escape(entry.respelling.replace('-', ' ').lower())}</alias>")
            lexemes.append(f"  <lexeme><grapheme>{escape(entry.word)}</grapheme>{said}</lexeme>")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" '
                f'alphabet="ipa" xml:lang="{escape(self.lang)}">\n' + "\n".join(lexemes) + "\n</lexicon>\n")


def lexicon_for(lang: str, pronounce: dict[str, str] | None = None) -> Lexicon:
    """The shipped lexicon of a language with a handout's `pronounce:` entries over it."""
    entries = dict(shipped(lang.split("-")[0].lower()))
    for word, said in (pronounce or {}).items():
        entries[word.lower()] = parse_pronounce(word, said)
    return Lexicon(lang, entries)


@functools.cache
def shipped(primary: str) -> dict[str, Pronunciation]:
    """The project's reviewed lexicon of a language (none for a language it has no file for)."""
    path = LEXICON / f"pronunciations-{primary}.tsv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row["word"]: Pronunciation(row["word"], row["ipa"], row["respelling"], row["source"]) for row in rows}


def parse_pronounce(word: str, said: str) -> Pronunciation:
    """One `pronounce:` entry: IPA between slashes or a respelling; ValueError says what is wrong."""
    said = said.strip()
    if not WORD.fullmatch(word.strip()):
        raise ValueError(f"{word!r} is not one word")
    if said.startswith("/") and said.endswith("/") and len(said) > 2:
        ipa = said[1:-1].strip()
        unknown = sorted({c for c in ipa if c not in IPA_SYMBOLS and not c.isspace()})
        if unknown:
            raise ValueError(f"the IPA for {word!r} has symbols the voice cannot say: {' '.join(unknown)}")
        return Pronunciation(word.strip(), ipa=ipa, source="pronounce:")
    if not RESPELLING.fullmatch(said):
        raise ValueError(f"say {word!r} as IPA between slashes (/lˌɪmfɪdˈiːmə/) or a respelling (lim-fuh-DEE-muh)")
    return Pronunciation(word.strip(), respelling=said, source="pronounce:")


@functools.cache
def pronouncing_dictionary() -> dict[str, list[str]]:
    """The CMU pronouncing dictionary as pocketsphinx ships it (word: ARPAbet phones, each way it
    is said): the words an English voice and the recogniser know how to say."""
    from pocketsphinx import get_model_path

    entries: dict[str, list[str]] = defaultdict(list)
    with open(Path(get_model_path()) / "en-us" / "cmudict-en-us.dict", encoding="utf-8") as handle:
        for line in handle:
            head, _, phones = line.strip().partition(" ")
            entries[re.sub(r"\(\d+\)$", "", head)].append(phones.strip())
    return dict(entries)


def unsure(word: str, lexicon: Lexicon) -> bool:
    """Whether an English voice has to guess how a word is said: it is in no pronouncing
    dictionary, not in the lexicon or `pronounce:`, and not an abbreviation (said letter by letter)."""
    if not word.isalpha() or not word.isascii() or word.isupper() or len(word) < 4 or lexicon.find(word):
        return False
    known = pronouncing_dictionary()
    lowered = word.lower()
    return not any(form in known for form in (lowered, lowered.removesuffix("s"), lowered.removesuffix("es")))


def ipa_arpabet(ipa: str) -> str:
    """IPA written without separators (as the lexicon holds it) in ARPAbet, longest symbols first."""
    units = sorted(IPA_TO_ARPABET, key=len, reverse=True)
    text, phones = ipa.replace("ˈ", "").replace("ˌ", "").replace(" ", ""), []
    while text:
        unit = next((u for u in units if text.startswith(u)), None)
        if unit is None:
            text = text[1:]  # a length mark or a symbol the recogniser has no phone for
            continue
        phones.append(IPA_TO_ARPABET[unit])
        text = text[len(unit):]
    return " ".join(phones)


def said_differently(guess: str, ipa: str) -> bool:
    """Whether two IPA pronunciations of a word differ in a way a listener hears as another word:
    other consonants, or the stress on another syllable (vowel shades, ɪ for i, are not)."""
    return _shape(guess) != _shape(ipa)


def _shape(ipa: str) -> tuple[tuple[str, ...], int]:
    """A pronunciation's consonants (ARPAbet) and which vowel carries the main stress."""
    ipa = ipa.replace("ʲ", "").replace("ɾ", "t")
    phones = ipa_arpabet(ipa).split()
    stressed = sum(phone[0] in "AEIOU" for phone in ipa_arpabet(ipa.split("ˈ")[0]).split())
    return tuple(phone for phone in phones if phone[0] not in "AEIOU"), stressed
