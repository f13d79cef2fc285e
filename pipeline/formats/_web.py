"""What the web pages share (the plain-language page and the Easy Read page): Atkinson Hyperlegible as
WOFF2 files in `fonts/` beside them, and subsets of the fonts that draw what it lacks."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

import fontpkg_atkinson_hyperlegible

from .. import fonts
from ..engine.cache import fingerprint, write_atomic
from ..model import Document

if TYPE_CHECKING:
    from ..engine.cache import Cache


def write_fonts(out_dir: Path, cache: Cache) -> list[tuple[str, str, str]]:
    """Atkinson Hyperlegible as WOFF2 beside the page (a quarter of the TTF's size, for slow phones)."""
    source = fonts.font_dir() or Path(fontpkg_atkinson_hyperlegible.ROOT) / "files"
    written = []
    for stem, weight, style in fonts.FACES:
        ttf = (source / f"{stem}.ttf").read_bytes()
        key = fingerprint("woff2", hashlib.sha256(ttf).hexdigest())
        cached = cache.get("font", key, ".woff2")
        if cached is None:
            from fontTools.ttLib import woff2

            packed = io.BytesIO()
            woff2.compress(io.BytesIO(ttf), packed)
            cached = cache.put("font", key, ".woff2", packed.getvalue())
        write_atomic(out_dir / "fonts" / f"{stem}.woff2", cached.read_bytes())
        written.append((f"fonts/{stem}.woff2", weight, style))
    return written


def write_fallbacks(doc: Document, out_dir: Path, cache: Cache) -> list[tuple[str, str, str]]:
    """The fonts that draw what Atkinson lacks (Arabic words, an emoji), cut to those characters,
    as WOFF2 beside the page: (url, characters, weight) of each."""
    faces = []
    for path, chars, weight in fonts.fallback_faces(fonts.handout_characters(doc), doc.meta.lang):
        name = fonts.subset_name(path, chars, ".woff2")
        write_atomic(out_dir / "fonts" / name, fonts.cached_subset(cache, path, chars))
        faces.append((f"fonts/{name}", chars, weight))
    return faces


def font_faces(faces: list[tuple[str, str, str]]) -> str:
    """@font-face rules for the files written beside the page."""
    return fonts.face_rules(faces, extra=" font-display: swap;")


def content_policy(css: str, images: str) -> str:
    """A policy that lets a page run nothing and fetch only its own fonts, media and `images`, with
    its one inline style sheet (`css`, as `page.document` writes it) allowed by its hash."""
    style_hash = base64.b64encode(hashlib.sha256(f"\n{css}\n".encode("utf-8")).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{style_hash}'; font-src 'self'; media-src 'self'; "
            f"img-src {images}; base-uri 'none'; form-action 'none'")
