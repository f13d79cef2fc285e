"""What the printed editions share (the large-print handout and the Easy Read guide), as pandoc's
writers share their helpers: WeasyPrint allowed to read only the project's files and the handout's
vetted pictures, the packaged fonts embedded, page labels, and CSS strings for the words CSS writes.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from .. import fonts, formats
from ..config import PROJECT_ROOT

if TYPE_CHECKING:
    import pydyf
    import weasyprint

PICTURES_BASE = "file:///handout/"  # the handout's pictures' URLs; the fetcher serves only the vetted ones
PAPER = formats.Setting("paper", "PDF paper size", choices=("letter", "a4"), flag="--paper")
PAPER_SIZES = {"letter": "letter", "a4": "A4"}


def page_size(paper: str) -> str:
    """The CSS page size of a `paper` setting ("a4" is "A4")."""
    size = PAPER_SIZES.get(paper.lower())
    if size is None:
        raise ValueError(f"unknown paper size {paper!r}; choose from {', '.join(PAPER_SIZES)}")
    return size


class RefusedResource(ValueError):
    """A resource the handout may not fetch; WeasyPrint drops it with a warning and goes on."""


@functools.cache
def _fetcher_class() -> type:
    """The fetcher class, a WeasyPrint URLFetcher (imported only when a handout is made)."""
    from weasyprint.urls import URLFetcher

    class HandoutFetcher(URLFetcher):
        """Lets WeasyPrint read files under the allowed folders only: a pasted source cannot reach out."""

        def __init__(self, roots: tuple[Path, ...], pictures: dict[str, Path] | None = None) -> None:
            super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
            self.roots = tuple(root.resolve() for root in roots)
            self.pictures = pictures or {}

        def fetch(self, url: str, headers: dict[str, str] | None = None):  # noqa: ANN201 (WeasyPrint's response)
            """The resource, if it is inline data, one of the handout's vetted pictures, or a local file
            inside an allowed folder."""
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if url in self.pictures:
                return super().fetch(self.pictures[url].as_uri(), headers)
            if scheme != "file":
                raise RefusedResource(f"refused {url}: the handout never fetches from the network")
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise RefusedResource(f"refused {url}: files on other machines are not read")
            path = Path(url2pathname(parts.path)).resolve()
            if not any(path.is_relative_to(root) for root in self.roots):
                raise RefusedResource(f"refused {url}: outside the project")
            return super().fetch(path.as_uri(), headers)

    return HandoutFetcher


def font_faces(folder: Path | None) -> str:
    """@font-face rules embedding the packaged font files (file:// URLs the fetcher allows)."""
    if folder is None:
        return ""
    files = [(folder / f"{stem}.ttf", weight, style) for stem, weight, style in fonts.FACES]
    return fonts.face_rules([(path.resolve().as_uri(), w, s) for path, w, s in files if path.is_file()])


def allowed_roots(folder: Path | None) -> tuple[Path, ...]:
    """Folders WeasyPrint may read: the project and the font package (wherever the venv is)."""
    return (PROJECT_ROOT,) if folder is None else (PROJECT_ROOT, folder)


def css_content(message: str, **counters: str) -> str:
    """A message with `{placeholders}` as a CSS `content` value: strings around counters."""
    parts = re.split(r"\{(\w+)\}", message)
    said = [f'"{css_string(part)}"' if index % 2 == 0 else counters[part] for index, part in enumerate(parts)]
    return " ".join(part for part in said if part != '""')


def css_string(value: str) -> str:
    """Text safe inside a CSS double-quoted string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def add_page_labels(_document: weasyprint.Document, pdf: pydyf.PDF) -> None:
    """Page labels 1, 2, 3... so a viewer's page box matches the "Page X of Y" footer."""
    import pydyf

    pdf.catalog["PageLabels"] = pydyf.Dictionary(
        {"Nums": pydyf.Array([0, pydyf.Dictionary({"S": "/D"})])}
    )


def render(html: str, roots: tuple[Path, ...], pictures: dict[str, Path], identifier: bytes) -> bytes:
    """The page as a tagged PDF/UA-1 with page labels, reading only `roots` and the vetted `pictures`
    (by their URL under PICTURES_BASE); `identifier` fixes the file identifier (same source, same bytes)."""
    import weasyprint

    page = weasyprint.HTML(string=html, base_url=PICTURES_BASE, url_fetcher=_fetcher_class()(roots, pictures))
    return page.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=identifier, finisher=add_page_labels)
