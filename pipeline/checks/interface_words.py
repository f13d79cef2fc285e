"""English left in a translated handout: the words the pipeline adds ("Page 1 of 2", "Words to know",
"Section 1 of 2.") found in English in a built file of a handout whose language has a catalog.

The catalog says what the pipeline may add. Each English message becomes a pattern (a placeholder
stands for any word), and a match in a built file's text is English the reader was not meant to meet
unless the source itself says it (a handout may quote English) or the language's own words contain
it (Tagalog says "e-book" too).
"""

from __future__ import annotations

import functools
import re

from ..language.words import Words, words_for
from ..model import Document
from . import FormatReport

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def check(report: FormatReport, doc: Document, texts: list[str]) -> None:
    """The rule "no English interface words": none of the pipeline's English messages in `texts`
    (a format's whole text: the page with its labels, the e-book's documents, the PDF's pages, the
    narration's transcripts)."""
    say = words_for(doc.meta.lang)
    if say.language == "en" or say.fallback:
        return  # English, or a language with no catalog (its English words are marked lang="en")
    found = english_in(say, doc, _flat("\n".join(texts)))
    report.rule("no English interface words", not found,
                f"English the pipeline added: {'; '.join(repr(f) for f in found[:5])}" if found
                else f"none of the {len(_patterns(say.language))} English messages in the {say.language} edition")


def english_in(say: Words, doc: Document, text: str) -> list[str]:
    """The English messages found in a built text (and not in the source, nor in the translations)."""
    source = _flat(doc.text + "\n" + doc.meta.title)
    own = _flat(" ".join(str(t) for value in say.messages.values() for t in (value if isinstance(value, list) else [value])))
    found = []
    for english, pattern in _patterns(say.language):
        match = pattern.search(text)
        if match and not pattern.search(source) and not pattern.search(own):
            found.append(match.group(0))
    return found


@functools.cache
def _patterns(language: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each English message of the catalog with words to recognise, as a whole-word pattern."""
    say = words_for(language)
    english = [m for key in say.messages for m in (key if isinstance(key, tuple) else (key,))]
    patterns = []
    for message in sorted(set(english)):
        literal = PLACEHOLDER.sub(" ", message)
        if len(re.findall(r"[A-Za-z]", literal)) < 5:
            continue  # "{number} mg", "(note {number})": too little English to tell
        parts = [re.escape(part.strip()) for part in PLACEHOLDER.split(message.strip())]
        body = r"\s*[^\s.,;:!?()]+\s*".join(p for p in parts)
        patterns.append((message, re.compile(rf"(?<![\w]){body}(?![\w])", re.I)))
    return tuple(patterns)


def _flat(text: str) -> str:
    """Text with its spaces made single, for matching."""
    return " ".join(text.split())


SHOWN_ATTRIBUTES = ("alt", "aria-label", "title", "placeholder")


def shown(root, lang: str) -> str:  # noqa: ANN001  (an lxml element of an HTML or XHTML document)
    """What an (X)HTML document says to a reader in the handout's language: its text and the labels a
    screen reader speaks (alt, aria-label, title), without its style sheets and scripts and without
    what is marked as another language (the link to the English edition says "Read in English")."""
    if root is None:
        return ""
    said: list[str] = []
    _said_in(root, lang.split("-")[0].lower(), said)
    return " ".join(said)


def _said_in(element, language: str, said: list[str]) -> None:  # noqa: ANN001  (an lxml element)
    """Collect an element's own words and its children's, unless it is in another language."""
    tag = element.tag if isinstance(element.tag, str) else ""
    marked = element.get("lang") or element.get("{http://www.w3.org/XML/1998/namespace}lang") if tag else None
    if tag.rsplit("}", 1)[-1] in ("style", "script") or (marked and marked.split("-")[0].lower() != language):
        return
    said.extend(element.get(name, "") for name in SHOWN_ATTRIBUTES)
    said.append(element.text or "")
    for child in element:
        _said_in(child, language, said)
        said.append(child.tail or "")
