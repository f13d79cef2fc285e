"""What a received file may bring into a source, and what it may not.

A clinic imports Word files, web pages and Markdown it was sent by anyone. Such a file must never
make the pipeline read the machine's files, reach its network, or carry active content into a
handout. This module holds the import's guards: container limits before a .docx/.odt is unpacked
(a zip bomb), XML that declares entities (an external entity reads files), the active parts of a
web page (iframes, scripts, event handlers), links that are not web, e-mail or phone links, and
pictures that are not PNG or JPEG files in the imported file's own folder.
"""

from __future__ import annotations

import html
import os
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..config import setting
from ..errors import SourceError

ACTIVE_ELEMENTS = ("iframe", "frame", "object", "embed", "applet", "script", "style", "form")
LINK_SCHEMES = ("http", "https", "mailto", "tel")
ENTITIES = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
CHUNK = 1 << 16


def read_regular(path: Path, limit: int, asked: str) -> bytes:
    """A file's bytes, refusing missing, oversized and non-regular files; `asked` says what to give
    instead ("the path of a Markdown file").

    The file (or what its link points at) must be a regular file: a FIFO would block forever and
    /dev/zero would fill memory. The path is stat'ed before it is opened (never opening a FIFO),
    opened non-blocking and fstat'ed again (in case it was swapped between the two), and at most
    `limit` + 1 bytes are ever read.
    """

    def refuse_unless_regular(mode: int) -> None:
        """Stop at anything that is not a regular file, saying what it is."""
        if not stat.S_ISREG(mode):
            kinds = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a named pipe", stat.S_IFCHR: "a device",
                     stat.S_IFBLK: "a device", stat.S_IFSOCK: "a socket"}
            kind = kinds.get(stat.S_IFMT(mode), "not a file")
            raise SourceError(path, None, f"not a regular file ({kind}); give {asked}")

    try:
        refuse_unless_regular(path.stat().st_mode)
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY), "rb") as handle:
            opened = os.fstat(handle.fileno())
            refuse_unless_regular(opened.st_mode)
            raw = handle.read(limit + 1)
    except FileNotFoundError:
        raise SourceError(path, None, "no such file") from None
    except OSError as exc:
        raise SourceError(path, None, f"cannot read: {exc.strerror}") from None
    if len(raw) > limit:
        raise SourceError(path, None, f"file is {max(opened.st_size, len(raw))} bytes, over the limit of {limit}")
    return raw


@dataclass
class Repacked:
    """A container copied within limits, and the pictures it linked from outside itself: the name
    of the stand-in picture put in each one's place → the address it named."""

    path: Path
    linked: dict[str, str] = field(default_factory=dict)
    lang: str = ""  # the language the document declares (Word's or LibreOffice's properties), if any


def repack(path: Path, target: Path) -> Repacked:
    """A copy of a .docx/.odt container at `target` holding what the original holds, read within the
    limits of `[tool.pipeline]` (entries, unpacked bytes, compression ratio) and refused when its XML
    declares a DOCTYPE or entities, which Word and LibreOffice never write: pandoc then reads a
    container that cannot unpack to more than the limits, whatever the original's headers claim.
    A Word picture linked from outside the file (a web address, a path on some machine) points at
    a stand-in inside the copy, so the import can put a placeholder where pandoc would drop it."""
    entries_max, unpacked_max = int(setting("import_entries_max")), int(setting("import_unpacked_max_bytes"))
    ratio_max = int(setting("import_ratio_max"))
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(path) as container:
            members = container.infolist()
            if len(members) > entries_max:
                raise SourceError(path, None, f"the document holds {len(members):,} files, over the limit of "
                                              f"{entries_max:,}: refused as a possible zip bomb")
            unpacked = 0
            for member in members:
                if member.is_dir():
                    continue
                content = _unpacked(path, container, member, unpacked_max - unpacked, ratio_max)
                unpacked += len(content)
                if member.filename.lower().endswith((".xml", ".rels")) and ENTITIES.search(content[:CHUNK * 16]):
                    raise SourceError(path, None, f"{member.filename} declares XML entities (<!DOCTYPE> or <!ENTITY>), "
                                                  "which word processors never write: refused")
                files[member.filename] = content
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, ValueError) as exc:
        raise SourceError(path, None, f"not a readable {path.suffix.lstrip('.')} file: {short(str(exc))}") from None
    repacked = Repacked(target, lang=declared_language(files))
    for name in [n for n in files if n.endswith(".rels")]:
        files[name] = _linked_pictures(name, files, repacked.linked)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for name, content in files.items():
            copy.writestr(name, content)
    return repacked


# Where a word processor writes the document's language: its properties (dc:language), else the
# default of its styles (Word's w:lang, LibreOffice's fo:language and fo:country).
DECLARED = (("docProps/core.xml", re.compile(rb"<dc:language>\s*([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\s*</dc:language>")),
            ("meta.xml", re.compile(rb"<dc:language>\s*([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\s*</dc:language>")),
            ("word/styles.xml", re.compile(rb"<w:docDefaults>.*?<w:lang\b[^>]*\bw:val=\"([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\"", re.S)),
            ("styles.xml", re.compile(rb"<style:default-style\b[^>]*style:family=\"paragraph\".*?"
                                      rb"fo:language=\"([a-z]{2,3})\"(?:[^>]*fo:country=\"([A-Z]{2})\")?", re.S)))


def declared_language(files: dict[str, bytes]) -> str:
    """The language a .docx or .odt says it is written in ("es-US"), or "" when it says none."""
    for name, pattern in DECLARED:
        found = pattern.search(files.get(name, b""))
        if found:
            return "-".join(part.decode("ascii") for part in found.groups() if part)
    return ""


RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>")
ATTRIBUTE = re.compile(rb'([A-Za-z]+)\s*=\s*"([^"]*)"')


def _linked_pictures(name: str, files: dict[str, bytes], linked: dict[str, str]) -> bytes:
    """A Word relationships file with every picture that is not inside the container pointed at a
    stand-in picture added to it (`linked` records what each stand-in replaced)."""
    base = posixpath.dirname(posixpath.dirname(name))  # word/_rels/document.xml.rels → word

    def inside(match: re.Match[bytes]) -> bytes:
        attributes = {key.decode(): value.decode("utf-8", "replace") for key, value in ATTRIBUTE.findall(match.group(0))}
        if not attributes.get("Type", "").endswith("/image"):
            return match.group(0)
        target = attributes.get("Target", "")
        resolved = posixpath.normpath(posixpath.join(base, target)).lstrip("/")
        if attributes.get("TargetMode") != "External" and resolved in files and not target.startswith("/"):
            return match.group(0)
        stand_in = f"not-imported-{len(linked) + 1}.png"
        linked[stand_in] = target
        files[posixpath.join(base, "media", stand_in)] = STAND_IN
        return (f'<Relationship Id="{html.escape(attributes.get("Id", ""))}" Type="{html.escape(attributes["Type"])}" '
                f'Target="media/{stand_in}"/>').encode()

    return RELATIONSHIP.sub(inside, files[name])


def _stand_in() -> bytes:
    """A one-pixel PNG: what pandoc extracts in place of a picture the document only links to."""
    row = b"\x00\xff\xff\xff"
    chunks = [(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)), (b"IDAT", zlib.compress(row)), (b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(struct.pack(">I", len(body)) + kind + body
                                          + struct.pack(">I", zlib.crc32(kind + body)) for kind, body in chunks)


STAND_IN = _stand_in()


def _unpacked(path: Path, container: zipfile.ZipFile, member: zipfile.ZipInfo, room: int, ratio_max: int) -> bytes:
    """One entry's bytes, read in chunks and given up as soon as it passes the room left or the ratio."""
    parts: list[bytes] = []
    size = 0
    with container.open(member) as entry:
        while chunk := entry.read(CHUNK):
            size += len(chunk)
            if size > room:
                raise SourceError(path, None, f"the document unpacks to more than the limit of "
                                              f"{int(setting('import_unpacked_max_bytes')):,} bytes: refused as a "
                                              "possible zip bomb")
            if size > 1_000_000 and size > ratio_max * max(member.compress_size, 1):
                raise SourceError(path, None, f"{member.filename} unpacks to over {ratio_max} times its packed size: "
                                              "refused as a possible zip bomb")
            parts.append(chunk)
    return b"".join(parts)


def short(text: str, limit: int = 160) -> str:
    """A message from a library, on one line and no longer than a line should be."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class _ActiveParts(HTMLParser):
    """Counts the elements and attributes of a web page that run, fetch or restyle something."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """One opening tag: an active element, and each event handler it carries."""
        if tag in ACTIVE_ELEMENTS:
            self.found[f"<{tag}>"] += 1
        self.found["event handler"] += sum(1 for name, _value in attrs if name.startswith("on"))

    handle_startendtag = handle_starttag


def active_html(text: str) -> Counter[str]:
    """What a web page (or the raw HTML in a Markdown file) holds that an import leaves out."""
    parser = _ActiveParts()
    parser.feed(text)
    parser.close()
    return Counter({kind: count for kind, count in parser.found.items() if count})


def kept_link(target: str) -> bool:
    """A link a handout may keep: to the web, an e-mail address or a phone number."""
    return urlsplit(target.strip()).scheme.lower() in LINK_SCHEMES


def passive(node: Any, dropped: Counter[str]) -> Any:
    """The pandoc tree with raw HTML and LaTeX left out and links that are not web, e-mail or phone
    links reduced to their text, each counted in `dropped` (raw HTML by what active parts it held)."""
    if isinstance(node, list):
        out: list[Any] = []
        for child in node:
            kept = passive(child, dropped)
            if kept is _LEFT_OUT:
                continue
            out.extend(kept if isinstance(child, dict) and child.get("t") == "Link" and isinstance(kept, list) else [kept])
        return out
    if not isinstance(node, dict) or "t" not in node:
        return node
    kind, content = node["t"], node.get("c")
    if kind in ("RawBlock", "RawInline"):
        found = active_html(content[1]) if content[0] == "html" else Counter()
        dropped.update(found or Counter({f"raw {content[0]}": 1}))
        return _LEFT_OUT
    if kind == "Link" and not kept_link(content[2][0]):
        dropped["link that is not a web, e-mail or phone link"] += 1
        return passive(content[1], dropped)
    if "c" not in node:
        return node
    return {"t": kind, "c": passive(content, dropped)}


_LEFT_OUT = object()


def dropped_lines(dropped: Counter[str]) -> list[str]:
    """One note line for each kind of thing an import left out, with how many."""
    why = {"event handler": "event handlers (onclick and the like) run code",
           "link that is not a web, e-mail or phone link": "kept their text only",
           "raw html": "raw HTML is not part of a handout", "raw tex": "raw LaTeX is not part of a handout"}
    lines = []
    for kind, count in sorted(dropped.items()):
        reason = why.get(kind) or ("a handout never runs, embeds or fetches anything" if kind.startswith("<") else "")
        lines.append(f"left out {count} × {kind}: {reason}" if reason else f"left out {count} × {kind}")
    return lines
