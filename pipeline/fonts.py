"""Atkinson Hyperlegible, the typeface every reading format uses (designed for low-vision readers)."""

from __future__ import annotations

from pathlib import Path

FAMILY = "Atkinson Hyperlegible"
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
