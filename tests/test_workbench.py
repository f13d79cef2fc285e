"""The clinic's workbench (issue 30): a nurse's path in Chromium (upload a .docx, write a plain answer,
see the facts error appear and go away, build, read the check table, download the PDF and the MP3)
with axe at 320 and 1280 px on every screen; and the guards: a path in an upload's name, a file over
the limit, a request without the token to a server others can reach, a form without its CSRF token,
a save over a newer version."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from pipeline.workbench import layout
from pipeline.workbench.app import create_app
from pipeline.workbench.jobs import BuildQueue

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def a_docx(path: Path) -> Path:
    """A nurse's Word handout: a title and two questions, one with a dose."""
    import docx

    document = docx.Document()
    document.add_heading("Taking Your Pain Medicine", level=0)
    document.add_heading("How much do I take?", level=1)
    document.add_paragraph("Take 2 tablets of acetaminophen every 6 hours when you have pain.")
    document.add_heading("When should I call?", level=1)
    document.add_paragraph("Call the clinic if the pain gets worse.")
    document.save(path)
    return path


def csrf_of(client) -> str:
    """This test session's form token, as a page gives it."""
    page = client.get("/import").get_data(as_text=True)
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / "sample-faq.md").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


# --- the guards (Flask's test client) -----------------------------------------------------------

@pytest.mark.fast
def test_a_server_others_can_reach_asks_for_the_token(sources: Path, tmp_path: Path) -> None:
    """With a token (any --host but this machine), every page and post without it is refused; with it, served.
    Control: the same request after signing in succeeds."""
    app = create_app(sources, tmp_path / "out", token="s3cret")
    client = app.test_client()
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302
    assert client.get("/edit/sample-faq", headers={"Accept": "application/json"}).status_code == 401
    assert client.get("/files/sample-faq/index.html").status_code in (302, 401)
    token = client.get("/login").get_data(as_text=True).split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert client.post("/login", data={"csrf": token, "token": "wrong", "author": "Ana"}).status_code == 401
    assert client.post("/login", data={"csrf": token, "token": "s3cret", "author": "Ana"}).status_code == 302
    assert client.get("/edit/sample-faq").status_code == 200


@pytest.mark.fast
def test_every_response_has_a_strict_policy_and_a_post_needs_its_form_token(sources: Path, tmp_path: Path) -> None:
    client = create_app(sources, tmp_path / "out").test_client()
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert client.post("/build/sample-faq").status_code == 400
    assert client.post("/build/sample-faq", data={"csrf": "forged"}).status_code == 400


@pytest.mark.fast
def test_an_upload_with_a_path_in_its_name_or_over_the_limit_is_refused(sources: Path, tmp_path: Path) -> None:
    """One clear line, status 400/413, and no file written anywhere. Control: a plain name of an unknown kind is
    refused for its kind, not its name."""
    import io

    app = create_app(sources, tmp_path / "out")
    client = app.test_client()
    token = csrf_of(client)
    before = sorted(p.name for p in sources.iterdir())
    sent = client.post("/import", data={"csrf": token, "file": (io.BytesIO(b"x"), "../../evil.docx")},
                       content_type="multipart/form-data")
    assert sent.status_code == 400 and "not a plain file name" in sent.get_data(as_text=True)
    kind = client.post("/import", data={"csrf": token, "file": (io.BytesIO(b"x"), "notes.exe")},
                       content_type="multipart/form-data")
    assert kind.status_code == 400 and "cannot be imported" in kind.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 1000
    big = client.post("/import", data={"csrf": token, "file": (io.BytesIO(b"x" * 5000), "big.docx")},
                      content_type="multipart/form-data")
    assert big.status_code == 413 and "larger than" in big.get_data(as_text=True)
    assert sorted(p.name for p in sources.iterdir()) == before


@pytest.mark.fast
def test_a_save_over_a_newer_version_is_shown_not_made(sources: Path, tmp_path: Path) -> None:
    """Two people open the same version; the first save is kept, the second gets the conflict page and
    writes nothing. The history holds the first save; restoring the original is a new version."""
    client = create_app(sources, tmp_path / "out").test_client()
    token = csrf_of(client)
    page = client.get("/edit/sample-faq").get_data(as_text=True)
    base = page.split('name="base" value="', 1)[1].split('"', 1)[0]
    first = client.post("/edit/sample-faq", data={"csrf": token, "base": base, "plain-0": "First person's words."})
    assert first.status_code == 302
    second = client.post("/edit/sample-faq", data={"csrf": token, "base": base, "plain-0": "Second person's words."})
    assert second.status_code == 409 and "Someone saved a newer version" in second.get_data(as_text=True)
    saved = (sources / "sample-faq.md").read_text(encoding="utf-8")
    assert "First person's words." in saved and "Second person's words." not in saved
    history = client.get("/history/sample-faq").get_data(as_text=True)
    assert "Edit sample-faq" in history


@pytest.mark.fast
def test_an_edit_changes_only_the_words_edited() -> None:
    """The editor's split keeps every other byte: every source of the corpus joins back to itself."""
    for source in [*ROOT.glob("source/*.md"), *ROOT.glob("tests/corpus/*.md"), *ROOT.glob("tests/fixtures/*.md")]:
        text = source.read_text(encoding="utf-8").replace("\r\n", "\n")
        shape = layout.split(text)
        same = layout.edited(shape, [s.full for s in shape.sections], [s.plain for s in shape.sections], None)
        assert layout.join(same) == text, source.name


# --- a nurse's path in Chromium ------------------------------------------------------------------

@pytest.fixture
def served_workbench(tmp_path: Path):
    """The workbench on a free local port, served by waitress as `serve` does."""
    import waitress.server

    sources = tmp_path / "source"
    sources.mkdir()
    queue = BuildQueue(sources, tmp_path / "out", formats=("html", "pdf", "audio"))
    app = create_app(sources, tmp_path / "out", queue=queue)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = waitress.server.create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", sources, tmp_path
    finally:
        server.close()
        queue.shutdown()


def axe_clean(page, where: str) -> None:
    """axe-core finds no WCAG 2.2 AA violation on this screen at 320 and 1280 px."""
    from axe_playwright_python.sync_playwright import Axe

    for width in (320, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        assert results.violations_count == 0, f"{where} at {width}px: {results.generate_snapshot()}"


def test_a_nurse_imports_writes_builds_and_downloads(served_workbench) -> None:
    from playwright.sync_api import expect

    from pipeline.screenshots import chromium

    url, sources, tmp_path = served_workbench
    word = a_docx(tmp_path / "pain medicine.docx")
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        page = context.new_page()
        page.goto(url + "/")
        axe_clean(page, "library (empty)")
        page.get_by_label("Your name").fill("Nurse Ana")
        page.get_by_role("button", name="Use this name").click()
        page.get_by_role("link", name="Import a file").first.click()
        axe_clean(page, "import")
        page.get_by_label("File").set_input_files(str(word))
        page.get_by_role("button", name="Import").click()
        page.wait_for_url("**/edit/pain-medicine")
        axe_clean(page, "editor")
        plain = page.get_by_label("In plain words").first
        plain.fill("Take some pills when it hurts.")
        page.locator("#findings-plain-0 li.error", has_text="facts").first.wait_for(timeout=30_000)
        plain.fill("Take 2 tablets every 6 hours when you have pain. The medicine is called acetaminophen.")
        expect(page.locator("#findings-plain-0 li.error")).to_have_count(0, timeout=30_000)
        page.get_by_label("In plain words").nth(1).fill("Call the clinic if the pain gets worse.")
        page.get_by_role("button", name="Save").click()
        page.get_by_role("status").filter(has_text="Saved").wait_for()
        page.get_by_role("button", name="Build and check every format").click()
        page.wait_for_url("**/build/pain-medicine")
        page.get_by_text("Built and checked.").wait_for(timeout=600_000)
        table = page.get_by_role("table", name="The check: is every section in every format?")
        assert table.is_visible() and "missing" not in table.inner_text()
        axe_clean(page, "build")
        with page.expect_download() as pdf:
            page.get_by_role("link", name="Large-print handout").click()
        assert pdf.value.suggested_filename == "pain-medicine.pdf"
        with page.expect_download() as mp3:
            page.locator("a[href$='.mp3']").first.click()
        assert mp3.value.suggested_filename.endswith(".mp3")
        page.goto(url + "/history/pain-medicine")
        assert "Nurse Ana" in page.content()
        axe_clean(page, "history")
        context.close()
    assert (sources / "pain-medicine.md").read_text(encoding="utf-8").count("::: plain") == 2


def test_a_preview_builds_the_edited_text_aside_and_publishes_nothing(sources: Path, tmp_path: Path) -> None:
    """The page and PDF of the text in the editor, served from a preview folder: the edited words are in
    the preview's page; the source, its history and the output folder are untouched."""
    client = create_app(sources, tmp_path / "out").test_client()
    token = csrf_of(client)
    before = (sources / "sample-faq.md").read_bytes()
    shown = client.post("/preview/sample-faq", data={"csrf": token, "plain-0": "Words only the preview has."})
    assert shown.status_code == 200
    page = client.get("/preview/sample-faq/index.html")
    assert page.status_code == 200 and "Words only the preview has." in page.get_data(as_text=True)
    pdf = client.get("/preview/sample-faq/.preview-sample-faq.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert (sources / "sample-faq.md").read_bytes() == before and not (tmp_path / "out").exists()
    assert not list(sources.glob(".preview-*")) and client.get("/preview/sample-faq/../../etc/passwd").status_code == 404


def test_the_other_screens_pass_axe_and_the_keyboard_reaches_everything(served_workbench) -> None:
    """Sign-in, a refused request, the preview and the conflict page: axe finds nothing at 320 and 1280
    px; and with the keyboard alone (Tab, Enter) a nurse goes from the library to the editor and saves."""
    from pipeline.screenshots import chromium

    url, sources, _ = served_workbench
    (sources / "sample-faq.md").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(url + "/login")
        axe_clean(page, "sign-in")
        page.goto(url + "/edit/no-such-handout")
        axe_clean(page, "refused request")
        page.goto(url + "/")
        for _ in range(40):  # Tab until the handout's link has the focus, then follow it with Enter
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == "Getting Ready for a Mammogram":
                break
        page.keyboard.press("Enter")
        page.wait_for_url("**/edit/sample-faq")
        other = context.new_page()
        other.goto(url + "/edit/sample-faq")
        with context.expect_page() as preview:
            page.get_by_role("button", name="Preview the page and PDF").click()
        preview.value.wait_for_load_state()
        assert "Preview of sample-faq" in preview.value.content()
        axe_clean(preview.value, "preview")
        page.get_by_label("In plain words").first.fill("The first nurse's words.")
        page.get_by_label("In plain words").first.focus()
        for _ in range(60):  # on to the Save button by keyboard
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == "Save":
                break
        page.keyboard.press("Enter")
        page.get_by_role("status").filter(has_text="Saved").wait_for()
        other.get_by_label("In plain words").first.fill("The second nurse's words.")
        other.get_by_role("button", name="Save").click()
        other.get_by_role("heading", name="Someone saved a newer version").wait_for()
        axe_clean(other, "conflict")
        context.close()
    saved = (sources / "sample-faq.md").read_text(encoding="utf-8")
    assert "The first nurse's words." in saved and "The second nurse's words." not in saved
