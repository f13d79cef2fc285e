"""Atkinson Hyperlegible, the typeface every reading format uses (designed for low-vision readers)."""

from __future__ import annotations

import functools
import threading
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

FAMILY = "Atkinson Hyperlegible"
FALLBACK_FAMILY = "Handout glyphs"  # the faces that draw what Atkinson lacks, each for its own characters
FACES = (  # file stem in the font package, CSS weight, CSS style
    ("AtkinsonHyperlegible-Regular", "400", "normal"),
    ("AtkinsonHyperlegible-Bold", "700", "normal"),
    ("AtkinsonHyperlegible-Italic", "400", "italic"),
    ("AtkinsonHyperlegible-BoldItalic", "700", "italic"),
)


def font_dir() -> Path | None:
    """Where the packaged TTF files are, or None (the CSS then falls back to a sans-serif)."""
    try:
        import fontpkg_atkinson_hyperlegible as package
    except ImportError:
        return None
    folder = Path(package.ROOT) / "files"
    return folder if (folder / f"{FACES[0][0]}.ttf").is_file() else None


def face_rules(faces: list[tuple[str, str, str]], extra: str = "") -> str:
    """@font-face rules for (url, weight, style) triples, one per line."""
    return "".join(
        f'@font-face {{ font-family: "{FAMILY}"; src: url("{url}"); '
        f"font-weight: {weight}; font-style: {style};{extra} }}\n"
        for url, weight, style in faces
    )


# --- every character drawn -----------------------------------------------------------------------
# Atkinson Hyperlegible draws Latin text. Any other character a handout holds (Arabic words, an
# emoji) is drawn by the font fontconfig finds for it, a Noto face from Debian's fonts-noto-* where
# there is one. The PDF gets those faces from WeasyPrint (which asks fontconfig too); the page and
# the e-book get subsets of them, declared for exactly those characters (unicode-range), so every
# reader sees the same shapes. A character no font on the machine has is a bad source.

UNDRAWN = {0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD}  # joiners and invisibles: shaping, not glyphs


def _needs_glyph(char: str) -> bool:
    """Whether a character is drawn at all (not a space, a control, a joiner or a variation selector)."""
    point = ord(char)
    if char.isspace() or point < 0x20 or point in UNDRAWN:
        return False
    return not (0xFE00 <= point <= 0xFE0F or 0xE0100 <= point <= 0xE01EF)


@functools.cache
def _cmap(path: Path) -> frozenset[int]:
    """The code points a font file has glyphs for."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True, fontNumber=0) as font:
        return frozenset(font.getBestCmap() or {})


def atkinson_draws(char: str) -> bool:
    """Whether Atkinson Hyperlegible has a glyph for the character."""
    folder = font_dir()
    return folder is not None and ord(char) in _cmap(folder / f"{FACES[0][0]}.ttf")


@functools.cache
def font_for(char: str) -> Path | None:
    """The font file that draws a character Atkinson lacks: fontconfig's choice among the fonts
    that really have it, a Noto face first (None when no font on this machine has it)."""
    binary = shutil.which("fc-list")
    if binary is None:
        return None
    listed = subprocess.run([binary, f":charset={ord(char):x}", "file"], capture_output=True, text=True, check=False)
    files = sorted({Path(line.split(":")[0]) for line in listed.stdout.splitlines() if line.strip()},
                   key=lambda p: ("Noto" not in p.name, "Sans" not in p.name and "Emoji" not in p.name,
                                  "Regular" not in p.name and "Emoji" not in p.name, "UI" in p.name, len(p.name), p.name))
    return next((path for path in files if path.suffix.lower() in (".ttf", ".otf", ".ttc") and ord(char) in _cmap(path)), None)


def undrawn(text: str) -> list[str]:
    """The characters of a text that no font on this machine draws, in order of first use."""
    seen: dict[str, None] = {}
    for char in text:
        if char not in seen and _needs_glyph(char) and not atkinson_draws(char) and font_for(char) is None:
            seen[char] = None
    return list(seen)


def handout_characters(doc: Any) -> str:
    """Every character a format may draw for a handout: its own text, the interface words of its
    language's catalog and its date as the language writes it ("2026년 12월 3일")."""
    from .language.words import words_for

    say = words_for(doc.meta.lang)
    return "\n".join((doc.text, say.every_word, say.date(doc.meta.date) if doc.meta.date else ""))


def fallbacks(text: str) -> dict[Path, str]:
    """The fonts besides Atkinson a text needs, each with the characters it draws."""
    found: dict[Path, str] = {}
    for char in dict.fromkeys(text):
        if _needs_glyph(char) and not atkinson_draws(char):
            # a font the text uses already, when it has the character (Chinese punctuation from the
            # Chinese font, not the Yi font fontconfig also offers), else fontconfig's choice
            path = next((known for known in found if ord(char) in _cmap(known)), None) or font_for(char)
            if path is not None:
                found[path] = found.get(path, "") + char
    return found


def subset(path: Path, chars: str, flavor: str | None = "woff2") -> bytes:
    """A font cut down to the characters a handout uses (with what shaping needs), WOFF2 by default."""
    from fontTools import subset as cut
    from fontTools.ttLib import TTFont

    options = cut.Options()
    options.layout_features = ["*"]
    options.flavor = flavor
    options.notdef_outline = True
    font = TTFont(path, fontNumber=0)
    subsetter = cut.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    packed = io.BytesIO()
    font.flavor = flavor
    font.save(packed)
    return packed.getvalue()


def unicode_range(chars: str) -> str:
    """A CSS unicode-range for the characters."""
    return ", ".join(f"U+{ord(c):04X}" for c in sorted(set(chars)))


def fallback_faces(text: str, lang: str = "en") -> list[tuple[Path, str, str]]:
    """`fallbacks` as (font file, characters, CSS weight): each font's regular face and, where the
    family has one installed, its bold face, so a bold heading's Cyrillic or Vietnamese letters stay
    bold instead of being drawn from a regular face. A face inside a font collection (Noto CJK) is
    the one drawn for the handout's language (Chinese characters as Simplified Chinese writes them,
    not the Japanese forms of the collection's first face)."""
    faces = []
    for path, chars in fallbacks(text).items():
        faces.append((collection_face(path, lang), chars, "400"))
        bold = bold_of(path)
        if bold is not None:
            faces.append((collection_face(bold, lang), chars, "700"))
    return faces


# Noto CJK's collections: the face for each language's forms of the Han characters (Debian's order).
CJK_FACES = {"ja": "JP", "ko": "KR", "zh": "SC", "zh-cn": "SC", "zh-sg": "SC", "zh-hans": "SC", "zh-tw": "TC",
             "zh-hant": "TC", "zh-hk": "HK", "zh-mo": "HK"}


def collection_face(path: Path, lang: str) -> Path:
    """A font file with one face: the file itself, or the face of a collection (.ttc) that suits
    the language, copied out once into the temporary folder (WeasyPrint and the subsetter read a
    collection's first face)."""
    if path.suffix.lower() != ".ttc":
        return path
    lowered = lang.lower()
    wanted = CJK_FACES.get(lowered) or CJK_FACES.get(lowered.split("-")[0]) or "SC"
    return _face_file(path, wanted)


def _face_file(path: Path, wanted: str) -> Path:
    """The face of a collection whose family name ends with `wanted` ("SC"), as its own file
    (written once, whichever format asks first)."""
    with _FACE_LOCK:
        return _written_face(path, wanted)


_FACE_LOCK = threading.Lock()


@functools.cache
def _written_face(path: Path, wanted: str) -> Path:
    """`_face_file`'s work, under its lock."""
    import os
    import tempfile

    from fontTools.ttLib import TTCollection

    target = Path(tempfile.gettempdir()) / "pipeline-fonts" / f"{path.stem}-{wanted}-{path.stat().st_size}.otf"
    if not target.exists():
        collection = TTCollection(path, lazy=True)
        index = next((n for n, face in enumerate(collection.fonts) if face["name"].getDebugName(1).endswith(wanted)), 0)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        collection.fonts[index].save(partial)
        partial.replace(target)
    return target


def bold_of(path: Path) -> Path | None:
    """The bold face beside a regular one (NotoSansArabic-Regular.ttf, -Bold.ttf), if installed."""
    if "Regular" not in path.name:
        return None
    bold = path.with_name(path.name.replace("Regular", "Bold"))
    return bold if bold.is_file() else None


def fallback_rules(faces: list[tuple[str, str, str]], family: str = FALLBACK_FAMILY) -> str:
    """@font-face rules that draw a handout's other characters: (url, characters, weight) of each
    face, under `family` for exactly its characters. The stylesheets name that family right after
    Atkinson Hyperlegible (sharing Atkinson's family name made WeasyPrint draw Arabic with Atkinson's glyphs)."""
    return "".join(f'@font-face {{ font-family: "{family}"; src: url("{url}"); font-weight: {weight}; '
                   f'unicode-range: {unicode_range(chars)}; }}\n' for url, chars, weight in faces)


def cached_subset(cache: Any, path: Path, chars: str, flavor: str | None = "woff2") -> bytes:
    """`subset`, kept in the build cache under the font file's bytes and the characters."""
    import hashlib

    from .engine.cache import fingerprint

    key = fingerprint("font-subset", hashlib.sha256(path.read_bytes()).hexdigest(), sorted(set(chars)), flavor)
    suffix = ".woff2" if flavor == "woff2" else ".ttf"
    found = cache.get("font", key, suffix)
    if found is None:
        found = cache.put("font", key, suffix, subset(path, chars, flavor))
    return found.read_bytes()


def subset_name(path: Path, chars: str, suffix: str) -> str:
    """A stable file name for a font subset: the font's name and a hash of its characters."""
    import hashlib

    return f"{path.stem}-{hashlib.sha256(''.join(sorted(set(chars))).encode()).hexdigest()[:10]}{suffix}"
