"""Pictures a handout shows: PNG or JPEG files beside the source, vetted once when it is read.

A picture must be a file in the source's folder (or below it), never a web address and never a
file elsewhere on the machine; it must say what it shows (alt text), be a real PNG or JPEG within
the size and pixel limits of `[tool.pipeline]`, and decode cleanly. SVG is refused: it can carry
scripts and links. Each accepted picture is published by every format under one name,
`images/<name>-<hash>.<ext>`, so two pictures with the same file name in different folders never
collide and a changed picture gets a new name.
"""

from __future__ import annotations

import hashlib
import io
import re
import stat
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

from .tree import Block, alt_text
from ..engine.cache import write_atomic
from ..config import setting
from ..errors import SourceError, UnfinishedSource
from ..model import Picture

FOLDER = "images"
KINDS = {b"\x89PNG\r\n\x1a\n": ("image/png", ".png"), b"\xff\xd8\xff": ("image/jpeg", ".jpg")}


def collect(source: Path, sections: list[tuple[int, list[Block]]], lines: list[str],
            drafts: list[UnfinishedSource] | None = None) -> tuple[Picture, ...]:
    """Vet every picture of every section (given as (heading line, blocks)), point it at its
    published name, and return the pictures in order of first use; with `drafts`, a missing alt
    text is noted there instead of raised."""
    found: dict[str, Picture] = {}
    for first_line, blocks in sections:
        for image in images(blocks):
            line = line_of(lines, image["c"][2][0], first_line)
            picture = vet(source, image, line, drafts)
            image["c"][2] = [picture.href, image["c"][2][1]]
            found.setdefault(picture.href, picture)
    return tuple(found.values())


def images(node: Any) -> Iterator[dict[str, Any]]:
    """Every Image element anywhere in a tree (paragraphs, figures, tables, notes)."""
    if isinstance(node, list):
        for child in node:
            yield from images(child)
    elif isinstance(node, dict) and "t" in node:
        if node["t"] == "Image":
            yield node
        yield from images(node.get("c"))


def line_of(lines: list[str], target: str, first_line: int) -> int:
    """The source line that names this picture (at or after its section's heading)."""
    for number in range(max(first_line, 1), len(lines) + 1):
        if target in lines[number - 1] or unquote(target) in lines[number - 1]:
            return number
    return first_line


def vet(source: Path, image: dict[str, Any], line: int, drafts: list[UnfinishedSource] | None = None) -> Picture:
    """The picture an Image element names, or a SourceError saying what is wrong with it."""
    target = image["c"][2][0]
    if not alt_text(image):
        missing = UnfinishedSource(source, line, f"picture '{target}' has no alt text: say what it shows, "
                                                 f"as in ![A drawing of the armpit]({target})", "alt-text")
        if drafts is None:
            raise missing
        drafts.append(missing)
    path = local_file(source, target, line)
    content = read_limited(source, path, target, line)
    media_type, suffix = kind_of(source, content, target, line)
    width, height = dimensions(source, content, target, line)
    digest = hashlib.sha256(content).hexdigest()
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:40] or "picture"
    return Picture(f"{FOLDER}/{stem}-{digest[:10]}{suffix}", path, media_type, width, height, digest)


def local_file(source: Path, target: str, line: int) -> Path:
    """The file a picture's address names, if it lies in the source's folder."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path:
        raise SourceError(source, line, f"picture '{target}' is not a file beside the source "
                                        "(pictures are never fetched from the network)")
    if parts.path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", parts.path):
        raise SourceError(source, line, f"picture '{target}': write its path relative to the source's folder")
    folder = source.resolve().parent
    path = (folder / unquote(parts.path)).resolve()
    if not path.is_relative_to(folder):
        raise SourceError(source, line, f"picture '{target}' is outside the source's folder")
    return path


def read_limited(source: Path, path: Path, target: str, line: int) -> bytes:
    """The picture's bytes: a regular file within the size limit, read no further than the limit."""
    limit = int(setting("picture_max_bytes"))
    try:
        info = path.stat()
    except OSError:
        raise SourceError(source, line, f"picture '{target}' not found beside the source") from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(source, line, f"picture '{target}' is not a regular file")
    if info.st_size > limit:
        raise SourceError(source, line, f"picture '{target}' is {info.st_size} bytes, over the limit of {limit}")
    try:
        with open(path, "rb") as handle:
            content = handle.read(limit + 1)
    except OSError as exc:
        raise SourceError(source, line, f"picture '{target}' cannot be read: {exc.strerror}") from None
    if len(content) > limit:
        raise SourceError(source, line, f"picture '{target}' is over the limit of {limit} bytes")
    return content


def kind_of(source: Path, content: bytes, target: str, line: int) -> tuple[str, str]:
    """(media type, file suffix) of a PNG or JPEG picture, told by its first bytes, not its name."""
    for magic, kind in KINDS.items():
        if content.startswith(magic):
            return kind
    if target.lower().endswith((".svg", ".svgz")) or content.lstrip()[:5].lower() in (b"<?xml", b"<svg "):
        raise SourceError(source, line, f"picture '{target}' is SVG, which can carry scripts and links; "
                                        "save it as PNG instead")
    raise SourceError(source, line, f"picture '{target}' is not a PNG or JPEG picture")


def dimensions(source: Path, content: bytes, target: str, line: int) -> tuple[int, int]:
    """Width and height, read from the header (so a decompression bomb is refused before anything is
    decoded), then the file's structure verified: every PNG chunk's checksum, a JPEG's end marker.

    Not `load()`: WeasyPrint switches Pillow to accept truncated files for the whole process.
    """
    from PIL import Image, UnidentifiedImageError

    limit = int(setting("picture_max_pixels"))
    try:
        with Image.open(io.BytesIO(content)) as picture:
            width, height = picture.size
            if width * height > limit:
                raise SourceError(source, line, f"picture '{target}' is {width} × {height} pixels, "
                                                f"over the limit of {limit:,} pixels")
            picture.verify()
    except SourceError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise SourceError(source, line, f"picture '{target}' is damaged: {exc}") from None
    if content.startswith(b"\xff\xd8") and not content.rstrip(b"\0").endswith(b"\xff\xd9"):
        raise SourceError(source, line, f"picture '{target}' is damaged: the JPEG stops before its end")
    if not width or not height:
        raise SourceError(source, line, f"picture '{target}' is damaged: it has no pixels")
    return width, height


def publish(pictures: tuple[Picture, ...], out_dir: Path) -> list[Path]:
    """Copy the pictures into `out_dir/images/` (a page links them there) and drop pictures an
    earlier build left that the document no longer shows."""
    folder = out_dir / FOLDER
    written = [write_atomic(out_dir / picture.href, picture.path.read_bytes()) for picture in pictures]
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale.is_file() and stale not in written:
                stale.unlink()
    return written
