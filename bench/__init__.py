"""Benchmark of the whole pipeline on synthetic clinic libraries (`make bench`, `python -m bench`).

`generate` writes N handouts in the source format from the real FAQ's sentences; `harness` runs the
repository's own Makefile on them (cold, no-op, one-section edit, `-j1` against `-j2`) and times the
bare tools (pandoc, WeasyPrint, Piper) on the same sources; `__main__` prints the Markdown tables.
"""
