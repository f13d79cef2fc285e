"""The model's blocks as HTML: the one writer helper the page, the e-book and the PDF share.

The model keeps each rendition of a section as format-neutral blocks (pandoc's JSON tree, with the
ids the reader marked). A format that shows HTML asks for a section's HTML here; every section of a
handout is rendered by one pandoc call, once per process however many formats ask (each section is
fenced by a comment marker, then split out), with scoped table header cells.
"""

from __future__ import annotations

import functools
import json
import re
import threading

from .source import pandoc
from .source.tree import API_VERSION
from .model import Document, Section

RENDITIONS = ("full", "plain")
_RENDERING = threading.Lock()


def section_html(doc: Document, section: Section, rendition: str) -> str:
    """A section's full or plain rendition as HTML."""
    return handout_html(doc)[f"{rendition}:{section.id}"]


def handout_html(doc: Document) -> dict[str, str]:
    """Every section's renditions as HTML, by "full:ID" and "plain:ID" (one pandoc call per handout)."""
    fenced = tuple((f"{kind}:{s.id}", s.full_blocks if kind == "full" else s.plain_blocks)
                   for s in doc.sections for kind in RENDITIONS)
    with _RENDERING:
        return _rendered(fenced)


@functools.lru_cache(maxsize=8)
def _rendered(fenced: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Render the fenced renditions in one pandoc run and split them apart."""
    blocks: list[dict] = []
    for name, rendition in fenced:
        blocks.append(_marker(name))
        blocks.extend(json.loads(rendition))
    blocks.append(_marker("end"))
    tree = {"pandoc-api-version": API_VERSION, "meta": {}, "blocks": blocks}
    html = pandoc.convert_text(json.dumps(tree), "html5", "json", "--wrap=none")
    pieces = re.split(r"<!--@@((?:full|plain):[a-z0-9-]+|end)@@-->", html)
    return {pieces[i]: _with_scopes(pieces[i + 1].strip()) for i in range(1, len(pieces) - 1, 2)}


def _marker(name: str) -> dict:
    """The comment that fences one rendition in the joined HTML."""
    return {"t": "RawBlock", "c": ["html", f"<!--@@{name}@@-->"]}


def _with_scopes(html: str) -> str:
    """Table header cells with `scope` (col in the head, row in the body), which pandoc leaves out
    and screen readers and PDF tagging use to tie each cell to its headers."""
    if "<th" not in html:
        return html
    return re.sub(r"<(thead|tbody|tfoot)>(.*?)</\1>", _scope_part, html, flags=re.S)


def _scope_part(match: re.Match[str]) -> str:
    """One table part with its header cells scoped."""
    scope = "col" if match.group(1) == "thead" else "row"
    cells = re.sub(r"<th(?=[\s>])(?![^>]*\sscope=)", f'<th scope="{scope}"', match.group(2))
    return f"<{match.group(1)}>{cells}</{match.group(1)}>"
