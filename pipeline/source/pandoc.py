"""Every pandoc run of the pipeline, in pandoc's `--sandbox` mode.

A handout's text comes from anyone who can hand the clinic a file. In sandbox mode pandoc reads only
the input it is given and writes only its output: no picture, iframe or stylesheet a document names
is fetched from the network or read from the machine's files, whatever the reader. Nothing else in
the pipeline calls pypandoc, so no run can forget the flag (a test holds the code to that).
"""

from __future__ import annotations

from pathlib import Path

import pypandoc

SANDBOX = ["--sandbox", "--quiet"]


def convert_text(text: str, to: str, reader: str, *options: str) -> str:
    """Text in one of pandoc's input formats as another format, read and written in the sandbox."""
    return pypandoc.convert_text(text, to, format=reader, extra_args=[*SANDBOX, *options])


def convert_file(path: Path, to: str, reader: str, *options: str) -> str:
    """A file (a .docx or .odt container, a web page) as another format, read in the sandbox; the
    one input file is all pandoc may open."""
    return pypandoc.convert_file(str(path), to, format=reader, extra_args=[*SANDBOX, *options])
