"""Command line: `python -m pipeline build|check|index|import|lint`. Domain errors become one line and an exit code."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from . import __version__
from .config import setting
from .errors import InternalError, OutputError, PipelineError
from . import formats

DESCRIPTION = """\
Build a patient FAQ written in the pipeline's source format (Pandoc Markdown with YAML metadata,
one level-2 heading with an {#id} per section, and one ::: plain div per section) into a
large-print PDF, an EPUB 3 e-book, a plain-language web page and an audio narration; then check
that every built file holds every section.
"""

EXAMPLES = """\
examples:
  python -m pipeline build source/breast-cancer-recurrence.md
  python -m pipeline build source/*.md --out output --formats pdf,html
  python -m pipeline build source/*.md --cluster local:2
  python -m pipeline check output/breast-cancer-recurrence source/breast-cancer-recurrence.md
  python -m pipeline index output
  python -m pipeline import handout.docx --out source/handout.md
  python -m pipeline lint source/*.md

exit codes: 0 ok, 1 check failed (lint: errors found), 2 bad source or usage, 3 speech engine failed,
  4 output or disk error, 5 internal error, 6 the Dask cluster cannot be used, 130 interrupted
"""


def _formats(value: str) -> tuple[str, ...]:
    """Parse --formats, keeping the pipeline's order."""
    chosen = {name.strip() for name in value.split(",") if name.strip()}
    unknown = chosen - set(formats.names())
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {','.join(formats.names())} (got {value!r})")
    return tuple(name for name in formats.names() if name in chosen)


def parser() -> argparse.ArgumentParser:
    """The argument parser, with help that explains itself."""
    top = argparse.ArgumentParser(
        prog="python -m pipeline",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build sources into output/NAME/", description="Build each SOURCE into OUT/NAME/ (NAME is the file name without .md).")
    build.add_argument("sources", nargs="+", type=Path, metavar="SOURCE", help="FAQ source file(s), e.g. source/*.md")
    build.add_argument("--out", type=Path, default=Path(setting("output")), help="output folder (default: %(default)s)")
    build.add_argument("--formats", type=_formats, default=formats.names(), help=f"comma-separated subset of {','.join(formats.names())} (default: all)")
    build.add_argument("--jobs", type=int, default=None, metavar="N", help="utterances synthesised at once (default: every core; under `make -jN`, one plus the job slots make has free)")
    build.add_argument("--cache", type=Path, default=Path(setting("cache")), help="cache folder (default: %(default)s)")
    build.add_argument("--quiet", action="store_true", help="no progress lines")
    build.add_argument("--cluster", metavar="ADDRESS", default=None,
                       help="build and check each source as a task on a Dask cluster: a scheduler address "
                            "(tcp://host:8786) or local[:N] for N worker processes here; --out and --cache must "
                            "be paths every worker sees")
    for declared in formats.flags():
        build.add_argument(declared.flag, dest=declared.name, type=declared.type, choices=declared.choices or None,
                           metavar=declared.metavar, default=declared.value({}), help=f"{declared.help} (default: %(default)s)")

    check = commands.add_parser("check", help="check a built folder against its source", description="Check that every format in OUTPUT_DIR (a built OUT/NAME/) holds every section of SOURCE; writes OUTPUT_DIR/report.json.")
    check.add_argument("output_dir", type=Path, metavar="OUTPUT_DIR")
    check.add_argument("source", type=Path, metavar="SOURCE")
    check.add_argument("--formats", type=_formats, default=formats.names(), help="formats to check (default: all)")

    index = commands.add_parser("index", help="write the library page OUT/index.html", description="Write OUT_DIR/index.html: every built handout in OUT_DIR with links to its files, their sizes, audio lengths and last check result.")
    index.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the output folder holding built NAME/ folders")

    imported = commands.add_parser("import", help="make a source from a Word, OpenDocument, web or Markdown file",
                                   description="Read FILE (.docx, .odt, .html or .md) with pandoc and write it as a "
                                               "source: title, one section per heading, lists, tables, notes and "
                                               "pictures kept, and every plain rendition marked unwritten (the "
                                               "source will not build until each is written).")
    imported.add_argument("file", type=Path, metavar="FILE")
    imported.add_argument("--out", type=Path, default=None, help="the source to write (default: source/NAME.md)")
    imported.add_argument("--lang", default=None, help="the handout's language, a BCP 47 tag such as es-US "
                                                       "(default: what the document says, else en-US)")
    imported.add_argument("--force", action="store_true", help="replace --out if it exists")

    lint = commands.add_parser("lint", help="what to change in a source before it is built",
                               description="Report plain-language problems and facts that differ between the full "
                                           "and the plain rendition, as file:line:col: level rule: message. "
                                           "Exit 1 when there are errors.")
    lint.add_argument("sources", nargs="+", type=Path, metavar="SOURCE")
    lint.add_argument("--format", choices=("text", "json"), default="text", dest="style",
                      help="text lines (default) or a JSON list for editors")

    serve = commands.add_parser("serve", help="the clinic's workbench: a web app to import, edit, build and download",
                                description="Serve the workbench (docs/workbench.md) on this machine only, unless "
                                            "--host says otherwise; then every page asks for a token first.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    serve.add_argument("--sources", type=Path, default=Path("source"), help="the sources' folder (default: %(default)s)")
    serve.add_argument("--out", type=Path, default=Path(setting("output")), help="output folder (default: %(default)s)")
    serve.add_argument("--cluster", metavar="ADDRESS", default="",
                       help="build on a Dask cluster (tcp://host:8786 or local[:N]) instead of worker processes here")
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure becomes one line on stderr and its exit code, never a traceback.

    A PipelineError keeps its own code; an OSError (a full disk, a file where a folder must be)
    is an output error (4); anything else is a bug, an internal error (5). --debug adds the traceback.
    """
    args = parser().parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
        if args.command == "index":
            return _index(args)
        if args.command == "import":
            return _import(args)
        if args.command == "lint":
            return _lint(args)
        if args.command == "serve":
            return _serve(args)
        return _check(args)
    except PipelineError as exc:
        return _fail(args, exc)
    except OSError as exc:  # shutil.Error too
        return _fail(args, OutputError.of(exc, _written(args)))
    except KeyboardInterrupt:
        print("error: interrupted; the previous output was kept", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001  (the one place a bug becomes a line, not a traceback)
        return _fail(args, InternalError(exc))


def _fail(args: argparse.Namespace, error: PipelineError) -> int:
    """Print the error as one line (after the traceback under --debug) and give its exit code."""
    if args.debug:
        traceback.print_exc()
    print(f"error: {error}", file=sys.stderr)
    return error.exit_code


def _written(args: argparse.Namespace) -> Path:
    """The folder the command writes, named when the system's error names no file."""
    where = {"build": "out", "check": "output_dir", "index": "out_dir", "import": "out"}.get(args.command)
    return (getattr(args, where) if where else None) or Path("source")


def _build(args: argparse.Namespace) -> int:
    """`build`: each source into OUT/NAME/."""
    from .engine.build import BuildOptions, build

    if args.jobs is not None and args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    if args.rate_wpm < 80 or args.rate_wpm > 300:
        print("error: --rate must be between 80 and 300 words per minute", file=sys.stderr)
        return 2
    options = BuildOptions(
        out_root=args.out, formats=args.formats, jobs=args.jobs, cache_dir=args.cache, quiet=args.quiet,
        settings={declared.name: getattr(args, declared.name) for declared in formats.flags()},
    )
    if args.cluster is not None:
        from .engine.cluster import build_library

        return build_library(args.sources, options, args.cluster)
    for source in args.sources:
        build(source, options)
    return 0


def _index(args: argparse.Namespace) -> int:
    """`index`: the library page listing every built handout."""
    from .library import build_index

    if not args.out_dir.is_dir():
        print(f"error: {args.out_dir} is not a folder (run build first)", file=sys.stderr)
        return 2
    print(f"wrote {build_index(args.out_dir)}")
    return 0


def _check(args: argparse.Namespace) -> int:
    """`check`: the sections x formats table, report.json, and exit 1 naming what is missing."""
    from . import checks
    from .source.reader import parse

    doc = parse(args.source)
    if not args.output_dir.is_dir():
        print(f"error: {args.output_dir} is not a built folder (run build first)", file=sys.stderr)
        return 2
    reports = checks.run(doc, args.output_dir, args.formats)
    print(checks.table(doc, reports))
    checks.enforce(doc, reports)
    made = [r.format for r in reports if not r.unavailable]
    absent = [r.format for r in reports if r.unavailable]
    print(f"all {len(doc.sections)} sections present in {', '.join(made)}"
          + (f" (no {' or '.join(absent)} for {doc.meta.lang} on this machine)" if absent else ""))
    return 0


def _import(args: argparse.Namespace) -> int:
    """`import`: a Word, OpenDocument, web or Markdown file as a source to finish."""
    from .source.importing import import_file

    result = import_file(args.file, args.out, args.lang, args.force)
    count = len(result.pictures)
    print(f"wrote {result.source}: {result.sections} sections, {count} picture{'' if count == 1 else 's'}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"next: write each ::: {{.plain .unwritten}} div in plain words, then "
          f"python -m pipeline lint {result.source}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    """`serve`: the workbench until Ctrl-C; a token (WORKBENCH_TOKEN, else a new one, printed) when others can reach it."""
    import os
    import secrets

    import waitress

    from .errors import SourceError
    from .workbench.app import create_app
    from .workbench.guard import local_only
    from .workbench.jobs import BuildQueue

    if not args.sources.is_dir():
        raise SourceError(args.sources, None, "is not a folder of sources: give --sources")
    token = "" if local_only(args.host) else (os.environ.get("WORKBENCH_TOKEN") or secrets.token_urlsafe(18))
    queue = BuildQueue(args.sources.resolve(), args.out.resolve(), cluster=args.cluster)
    app = create_app(args.sources.resolve(), args.out.resolve(), token, queue)
    print(f"workbench: http://{args.host}:{args.port}/ (Ctrl-C stops it)")
    if token and not os.environ.get("WORKBENCH_TOKEN"):
        print(f"token: {token} (give it to each person who signs in; set WORKBENCH_TOKEN to choose it)")
    waitress.serve(app, host=args.host, port=args.port, threads=8, _quiet=True)
    return 0


def _lint(args: argparse.Namespace) -> int:
    """`lint`: findings as file:line:col lines (or JSON); 1 when any is an error, 2 for an unreadable source."""
    from .errors import SourceError
    from .language.lint import Finding, lint, report

    findings: list[Finding] = []
    unreadable = False
    for source in args.sources:
        try:
            findings += lint(source)
        except SourceError as exc:
            unreadable = True
            findings.append(Finding(str(exc.path), exc.line or 1, 1, "error", "source", exc.problem))
    if findings:
        print(report(findings, args.style))
    elif args.style == "json":
        print("[]")
    if unreadable:
        return 2
    return 1 if any(f.level == "error" for f in findings) else 0
