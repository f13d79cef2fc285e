"""The clinic's workbench: a local web app where staff who never open a terminal import, write, check,
build and download handouts (`python -m pipeline serve`, `make serve`).

Server-rendered pages (Flask, Jinja templates in `templates/`), one small script for what a page
cannot do alone (the lint's findings as you type, a build's progress), and every form works without
it. Each screen is a thin layer over the pipeline's own engines: `importing` for an upload, `lint`
for the findings (the same rules as `python -m pipeline lint`), `build` and `check` in a queue of
worker processes (`jobs`), the library's reading of built folders, and a git history of the sources
(`store`) so that no save is ever lost and none overwrites a newer one silently.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, send_from_directory, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from .. import formats, library
from ..config import setting
from ..engine.build import BuildOptions, build
from ..errors import PipelineError, SourceError
from ..language.lint import Finding, lint
from ..source.importing import READERS, import_file, slug
from . import guard, layout
from .jobs import BuildQueue
from .store import EditConflict, SourceStore

PREVIEW_FORMATS = ("html", "pdf")


def create_app(sources: Path, out: Path, token: str = "", queue: BuildQueue | None = None) -> Flask:
    """The workbench over a folder of sources and the folder they are built into; with `token`,
    every page asks for it first (a server others can reach)."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secrets.token_bytes(32), MAX_CONTENT_LENGTH=int(setting("import_max_bytes")),
                      SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_HTTPONLY=True)
    store = SourceStore(sources)
    builds = queue or BuildQueue(sources, out)
    preview_root = Path(tempfile.mkdtemp(prefix="workbench-preview-"))
    guard.install(app, token)
    app.jinja_env.globals.update(csrf_token=guard.csrf_token, format_label=formats.label)

    @app.get("/login")
    def login() -> str:
        """The sign-in page (only when the server requires a token)."""
        return render_template("login.html", wrong=False, next=request.args.get("next", "/"))

    @app.post("/login")
    def sign_in() -> Any:
        """Signed in with the token the server printed when it started."""
        if not guard.token_matches(request.form.get("token", ""), token):
            return render_template("login.html", wrong=True, next="/"), 401
        session["signed_in"] = True
        session["author"] = request.form.get("author", "").strip()[:80]
        target = request.form.get("next", "/")
        return redirect(target if target.startswith("/") and not target.startswith("//") else "/")

    @app.get("/")
    def shelf() -> str:
        """Every handout with its language, last change, check status and downloads; search by title."""
        query = request.args.get("q", "").strip()
        built = {h.name: h for h in library.handouts(out)} if out.is_dir() else {}
        rows = []
        for name in store.names():
            handout = built.get(name)
            title = handout.title if handout else _title(store, name)
            if query and query.casefold() not in title.casefold():
                continue
            rows.append({"name": name, "title": title, "lang": handout.lang if handout else "",
                         "changed": store.last_change(name), "handout": handout})
        return render_template("library.html", rows=rows, query=query, author=session.get("author", ""))

    @app.post("/author")
    def set_author() -> Any:
        """The name every save is committed under (this browser's session)."""
        session["author"] = request.form.get("author", "").strip()[:80]
        return redirect(url_for("shelf"))

    @app.get("/import")
    def import_form() -> str:
        """The upload form."""
        return render_template("import.html", problem="", kinds=sorted(READERS))

    @app.post("/import")
    def import_upload() -> Any:
        """An uploaded Word, OpenDocument, web or Markdown file, imported as a new source and committed."""
        upload = request.files.get("file")
        problem = _refused(upload)
        if problem:
            return render_template("import.html", problem=problem, kinds=sorted(READERS)), 400
        assert upload is not None and upload.filename
        name = slug(Path(upload.filename).stem) or "handout"
        if name in store.names():
            return render_template("import.html", problem=f"A handout called {name} exists already: rename the "
                                   "file and upload it again.", kinds=sorted(READERS)), 409
        with tempfile.TemporaryDirectory() as scratch:
            received = Path(scratch) / f"upload{Path(upload.filename).suffix.lower()}"
            upload.save(received)
            try:
                imported = import_file(received, Path(scratch) / f"{name}.md")
            except PipelineError as exc:
                return render_template("import.html", problem=f"This file could not be imported: {exc}",
                                       kinds=sorted(READERS)), 400
            pictures = imported.source.parent / f"{name}-pictures"
            if pictures.is_dir():
                shutil.copytree(pictures, sources / pictures.name, dirs_exist_ok=True)
            text = imported.source.read_text(encoding="utf-8")
        store.save(name, text, None, _author(), f"Import {upload.filename}")
        return redirect(url_for("editor", name=name))

    @app.get("/edit/<name>")
    def editor(name: str) -> str:
        """Each section's full text and plain rendition side by side, the glossary as a table, and the
        lint's findings beside the lines they concern."""
        draft = store.read(guard.handout_name(_existing(store, name)))
        shape = layout.split(draft.text)
        return render_template("edit.html", name=name, shape=shape, base=draft.version,
                               findings=_placed(_lint_text(store, name, draft.text), draft.text, shape),
                               saved=request.args.get("saved") == "1", author=session.get("author", ""))

    @app.post("/edit/<name>")
    def save(name: str) -> Any:
        """Save the edited source as a commit, unless someone saved a newer version meanwhile (then the
        two are shown side by side and nothing is overwritten)."""
        name = guard.handout_name(_existing(store, name))
        text = _edited_text(store, name)
        if request.form.get("action") == "lint":
            shape = layout.split(text)
            return render_template("edit.html", name=name, shape=shape, base=request.form.get("base", ""),
                                   findings=_placed(_lint_text(store, name, text), text, shape), saved=False,
                                   author=session.get("author", ""))
        try:
            store.save(name, text, request.form.get("base", ""), _author(), request.form.get("message", "").strip()
                       or f"Edit {name}")
        except EditConflict as conflict:
            return render_template("conflict.html", name=name, mine=text, theirs=conflict.current.text), 409
        return redirect(url_for("editor", name=name, saved=1))

    @app.post("/lint/<name>")
    def lint_draft(name: str) -> Response:
        """The lint's findings for the text being edited (the page's script asks as the author types)."""
        name = guard.handout_name(_existing(store, name))
        text = _edited_text(store, name)
        return jsonify(_placed(_lint_text(store, name, text), text, layout.split(text)))

    @app.get("/history/<name>")
    def history(name: str) -> str:
        """Every saved version of the handout, newest first, each one restorable."""
        name = guard.handout_name(_existing(store, name))
        return render_template("history.html", name=name, versions=store.history(name))

    @app.post("/history/<name>/restore")
    def restore(name: str) -> Any:
        """Restore an earlier version as a new commit (nothing after it is lost)."""
        name = guard.handout_name(_existing(store, name))
        try:
            store.restore(name, request.form.get("commit", ""), _author())
        except (ValueError, LookupError):
            abort(400, "there is no such version of this handout")
        return redirect(url_for("editor", name=name, saved=1))

    @app.post("/preview/<name>")
    def preview(name: str) -> Any:
        """The page and the PDF of the text being edited, built aside (nothing is published or saved)."""
        name = guard.handout_name(_existing(store, name))
        text = _edited_text(store, name)
        draft = sources / f".preview-{name}.md"
        draft.write_text(text, encoding="utf-8")
        try:
            build(draft, BuildOptions(out_root=preview_root, formats=PREVIEW_FORMATS, quiet=True))
        except SourceError as exc:
            return render_template("problem.html", title="The preview could not be made", problem=str(exc)), 400
        finally:
            draft.unlink(missing_ok=True)
        return render_template("preview.html", name=name, folder=draft.stem,
                               pdf=formats.main_file("pdf", draft.stem))

    @app.get("/preview/<name>/<path:file>")
    def preview_file(name: str, file: str) -> Response:
        """A file of a preview."""
        name = guard.handout_name(name)
        return send_from_directory(preview_root / f".preview-{name}", file)

    @app.post("/build/<name>")
    def start_build(name: str) -> Any:
        """Queue a build of every format and its check (one at a time per handout)."""
        name = guard.handout_name(_existing(store, name))
        builds.submit(name)
        return redirect(url_for("build_status", name=name))

    @app.get("/build/<name>")
    def build_status(name: str) -> str:
        """The build's progress per format, then the check's sections x formats table and the files."""
        name = guard.handout_name(_existing(store, name))
        job = builds.latest(name)
        handout = library.read_handout(out / name) if (out / name).is_dir() else None
        return render_template("build.html", name=name, job=job, handout=handout, names=formats.names())

    @app.get("/build/<name>/progress")
    def build_progress(name: str) -> Response:
        """The build's state as JSON, for the page's script."""
        job = builds.latest(guard.handout_name(name))
        if job is None:
            return jsonify({"state": "none"})
        return jsonify({"state": job.state, "formats": job.formats, "exit_code": job.exit_code})

    @app.get("/files/<name>/<path:file>")
    def download(name: str, file: str) -> Response:
        """A built file (the handout's folder only; a path out of it is refused)."""
        return send_from_directory(out / guard.handout_name(name), file, as_attachment=file.endswith((".pdf", ".mp3", ".epub", ".brf", ".pef", ".m4b")))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error: Exception) -> Any:
        """An upload over the limit: one line, on the upload page."""
        limit = int(setting("import_max_bytes")) // 1_000_000
        return render_template("import.html", problem=f"This file is larger than {limit} MB: it was not uploaded.",
                               kinds=sorted(READERS)), 413

    @app.errorhandler(400)
    @app.errorhandler(401)
    @app.errorhandler(404)
    def problem(error: Any) -> Any:
        """A refused request: one line saying why."""
        return render_template("problem.html", title=error.name, problem=error.description), error.code

    return app


def _author() -> str:
    """Who saves: the name this session gave, else the computer's user."""
    return session.get("author") or os.environ.get("USER", "") or "workbench"


def _existing(store: SourceStore, name: str) -> str:
    """The name of a handout that exists, else 404."""
    if guard.handout_name(name) not in store.names():
        abort(404)
    return name


def _title(store: SourceStore, name: str) -> str:
    """A handout's title from its source (before it is built), else its name."""
    return str(layout.split(store.read(name).text).metadata.get("title") or name)


def _refused(upload: Any) -> str:
    """Why an upload is refused, in one line, or ""."""
    if upload is None or not upload.filename:
        return "Choose a file to upload."
    filename = upload.filename
    if "/" in filename or "\\" in filename or ".." in filename or filename.startswith("."):
        return "The file's name is not a plain file name: rename it and upload it again."
    if Path(filename).suffix.lower() not in READERS:
        return f"This kind of file cannot be imported: give a {', '.join(sorted(READERS))} file."
    return ""


def _edited_text(store: SourceStore, name: str) -> str:
    """The source as the editor's form has it: the saved text with each section's boxes and the
    glossary table put in."""
    shape = layout.split(store.read(name).text)
    count = len(shape.sections)
    fulls = [request.form.get(f"full-{n}", shape.sections[n].full) for n in range(count)]
    plains = [request.form.get(f"plain-{n}", shape.sections[n].plain) for n in range(count)]
    terms = request.form.getlist("term")
    meanings = request.form.getlist("meaning")
    glossary = {t.strip(): m.strip() for t, m in zip(terms, meanings) if t.strip()} if terms else None
    if glossary == shape.glossary:
        glossary = None  # unchanged: the metadata block stays byte for byte
    return layout.join(layout.edited(shape, fulls, plains, glossary))


def _lint_text(store: SourceStore, name: str, text: str) -> list[Finding]:
    """The lint's findings for a text, read beside the source (so its pictures are found)."""
    draft = store.folder / f".lint-{name}-{secrets.token_hex(4)}.md"
    draft.write_text(text, encoding="utf-8")
    try:
        return lint(draft)
    except SourceError as exc:
        return [Finding(str(draft), exc.line or 1, 1, "error", "source", exc.problem)]
    finally:
        draft.unlink(missing_ok=True)


def _placed(findings: list[Finding], text: str, shape: layout.Layout) -> list[dict[str, Any]]:
    """Each finding with the box it concerns ("full-2", "plain-2", "glossary" or "source") and its line
    within that box, so the page shows it beside the words."""
    boxes = _box_lines(shape)
    placed = []
    for finding in findings:
        if finding.rule == "unwritten":
            continue  # the editor says it above the section's boxes, and writing in the box is the fix
        box, line = next(((box, max(finding.line - first + (0 if box.startswith("plain") else 1), 1))
                          for box, first, last in boxes if first <= finding.line <= last),
                         ("source", finding.line))
        placed.append({"box": box, "line": line, "level": finding.level, "rule": finding.rule, "message": finding.message})
    return placed


def _box_lines(shape: layout.Layout) -> list[tuple[str, int, int]]:
    """(box, first line, last line) of each text box's words in the whole source."""
    boxes = [("glossary", 1, shape.front.count("\n"))]
    line = shape.front.count("\n") + shape.preamble.count("\n") + 1
    for n, section in enumerate(shape.sections):
        line += section.heading.count("\n")
        boxes.append((f"full-{n}", line, line + max(section.full.count("\n") - 1, 0)))
        line += section.full.count("\n")
        boxes.append((f"plain-{n}", line, line + section.plain.count("\n")))  # from its fence: "not written yet" is told there
        line += section.fence.count("\n") + section.plain.count("\n") + section.rest.count("\n")
    return boxes
