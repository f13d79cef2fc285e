"""The pictures of the Easy Read edition: one beside each short sentence, for readers with learning
disabilities, chosen by the words the sentence says.

The pictures are Health Icons (Resolve to Save Lives, MIT licence), installed by `make setup` from
npm as `@iconify-json/healthicons` (pinned in package.json): one `icons.json` of SVG bodies drawn in
`currentColor`. The package ships no licence text, so `language/lexicon/healthicons-LICENSE.txt` is
the upstream repository's LICENSE, copied. Each language has a reviewed keyword table,
`language/lexicon/easyread-icons-LANG.tsv` (words or phrases, the icon, its alt text); the author's
own map in the source comes first. A sentence no rule matches gets no picture: a wrong picture
misleads more than none does.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .config import PROJECT_ROOT
from .language.words import primary

ICON_SET_DIR = PROJECT_ROOT / "node_modules" / "@iconify-json" / "healthicons"
LEXICON = Path(__file__).parent / "language/lexicon"
LICENCE_FILE = LEXICON / "healthicons-LICENSE.txt"
HOW_TO_USE = "health-literacy"  # an open book with a cross, "read this": the set has no two people reading
CARE_TEAM = "phone"  # the handset: "call your care team"
COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?|[a-zA-Z]+")


@dataclass(frozen=True)
class Icon:
    """One sentence's picture: the icon's name and the short alt text a screen reader says for it."""

    name: str
    alt: str


@dataclass(frozen=True)
class _Rule:
    """One word or phrase of a keyword table, with the icon it calls for."""

    pattern: re.Pattern[str]
    words: int
    icon: str
    alt: str


class IconSet:
    """The installed Health Icons: which exist, each as a standalone SVG, and the credit the licence asks for."""

    def __init__(self, folder: Path) -> None:
        """Read the set's icons.json, info.json and package.json from its npm folder."""
        icons = json.loads((folder / "icons.json").read_text(encoding="utf-8"))
        self._info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
        self._package = json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"]
        self._size = (icons.get("width", 48), icons.get("height", 48))
        self._icons = {name: icon for name, icon in icons["icons"].items() if not icon.get("hidden")}
        self.names = frozenset(self._icons)  # hidden icons are the set's deprecated ones: left out
        self.version: str = self._info["version"]

    def has(self, name: str) -> bool:
        """Whether the set offers this icon, so a table never names a picture that cannot be drawn."""
        return name in self.names

    def svg(self, name: str, colour: str = "#1a1a1a") -> str:
        """The icon as a standalone SVG document in one colour, for an <img> in WeasyPrint or a browser
        (which draw an image's `currentColor` black or not at all)."""
        if not COLOUR.fullmatch(colour):
            raise ValueError(f"not a colour an SVG attribute can hold: {colour!r}")
        icon = self._icons[name]
        width, height = icon.get("width", self._size[0]), icon.get("height", self._size[1])
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
                f'height="{height}" aria-hidden="true" focusable="false">'
                f'{icon["body"].replace("currentColor", colour)}</svg>')

    def data_uri(self, name: str, colour: str = "#1a1a1a") -> str:
        """The icon's SVG as a data URI, so a page or book carries its pictures inside it."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg(name, colour).encode()).decode("ascii")

    def credit(self) -> str:
        """The line a handout prints for the pictures: the MIT licence asks for its notice to go with them."""
        author, licence = self._info["author"], self._info["license"]
        return (f"Pictures: {self._info['name']} {self.version} by {author['name']}, {licence['title']} licence, "
                f"{author['url']} (npm @iconify-json/healthicons {self._package}).")


@functools.cache
def icon_set() -> IconSet | None:
    """The installed picture set, read once (None when npm has not installed it)."""
    return IconSet(ICON_SET_DIR) if (ICON_SET_DIR / "icons.json").is_file() else None


def unavailable() -> str:
    """Why there are no pictures, as one line ("" when the set is installed)."""
    if icon_set() is not None:
        return ""
    return "the picture set (npm package @iconify-json/healthicons) is not installed: run `make setup`"


def suggest(text: str, lang: str, extra: Mapping[str, str] | None = None) -> Icon | None:
    """The picture for one sentence: the author's map first, then the language's reviewed table; the
    rule of most words wins, then the earliest; None when no rule with an installed icon matches."""
    icons = icon_set()
    if icons is None:
        return None
    author = _rules(((words, icon, alt_for(icon, lang)) for words, icon in (extra or {}).items()), primary(lang))
    for rules in (author, _table(primary(lang))):
        found = [rule for rule in rules if icons.has(rule.icon) and rule.pattern.search(text)]
        if found:
            best = max(found, key=lambda rule: rule.words)  # max keeps the first of equals: the earliest row
            return Icon(best.icon, best.alt)
    return None


def has_table(lang: str) -> bool:
    """Whether the language has a keyword table of its own (else alt texts are English)."""
    return bool(_table(primary(lang)))


def alt_for(name: str, lang: str) -> str:
    """What a screen reader says for an icon: the table's alt text, else its name made readable."""
    return next((rule.alt for rule in _table(primary(lang)) if rule.icon == name),
                name.replace("-", " ").capitalize())


def table_rows(path: Path) -> list[tuple[str, str, str]]:
    """A keyword table's rows (words, icon, alt), its # notes and blank lines left out."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            words, icon, alt = line.split("\t")
            rows.append((words, icon, alt))
    return rows


@functools.cache
def _table(language: str) -> tuple[_Rule, ...]:
    """One language's reviewed keyword table as rules, in its order (none for a language without one)."""
    path = LEXICON / f"easyread-icons-{language}.tsv"
    return _rules(table_rows(path), language) if path.exists() else ()


def _rules(rows: Iterable[tuple[str, str, str]], language: str) -> tuple[_Rule, ...]:
    """Rules from rows of (words or phrases, comma-separated; icon; alt), in the rows' order."""
    return tuple(_Rule(_pattern(phrase, language), len(phrase.split()), icon, alt)
                 for words, icon, alt in rows for phrase in words.split(",") if phrase.strip())


def _pattern(phrase: str, language: str) -> re.Pattern[str]:
    """A phrase as whole words in any case, its last word also plural ("pills", "nurses", "injecciones")."""
    *head, last = phrase.lower().split()
    if language == "en" and last.endswith("y"):
        plural = f"{re.escape(last[:-1])}(?:y|ys|ies)"
    elif language == "es" and last.endswith("ón"):
        plural = f"{re.escape(last[:-2])}(?:ón|ones)"
    else:
        plural = f"{re.escape(last)}(?:e?s)?"
    words = r"\s+".join([*(re.escape(word) for word in head), plural])
    return re.compile(rf"(?<![\w-]){words}(?![\w-])", re.IGNORECASE)
