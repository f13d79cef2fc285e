"""Importing a received file never reads the machine's files or reaches its network.

Each test hands `import` a web page, a Markdown file, a .docx or an .odt that points at
/etc/passwd, a file:// address, a `../` path, a link out of its folder and a local web server that
records every request it gets. Nothing may reach the server, no byte of the named files may appear
under the output, every such picture becomes a visible placeholder with a note, active content is
left out and counted, and a zip bomb or an XML external entity is refused in one line.
"""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from pipeline.source import pandoc

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
PICTURE = ROOT / "tests" / "fixtures" / "images" / "armpit.png"
SECRET = "TOP-SECRET-3f9c1e: this line must never leave its folder"


class Listener:
    """A web server on 127.0.0.1 that answers every request and remembers its path."""

    def __init__(self) -> None:
        heard: list[str] = []
        self.heard = heard

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (the standard library's name)
                heard.append(self.path)
                body = b"\x89PNG\r\n\x1a\n listener body LISTENER-BYTES"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A local listener that must hear nothing; proven able to hear by a request of the test's own."""
    server = Listener()
    import urllib.request
    urllib.request.urlopen(f"{server.url}/proof-it-listens", timeout=5).read()
    assert server.heard == ["/proof-it-listens"]
    server.heard.clear()
    yield server
    server.close()


@pytest.fixture
def received(tmp_path: Path) -> Path:
    """The folder a clinic saved the received file in: a good picture beside it, a link from it to a
    secret file outside it, and that secret file one folder up."""
    folder = tmp_path / "received"
    folder.mkdir()
    (tmp_path / "secret.png").write_text(SECRET, encoding="utf-8")
    (folder / "ok.png").write_bytes(PICTURE.read_bytes())
    (folder / "escape.png").symlink_to(tmp_path / "secret.png")
    return folder


def _import(file: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`python -m pipeline import FILE --out OUT`, as a clinic runs it (notes on stdout, errors on stderr)."""
    return subprocess.run([sys.executable, "-m", "pipeline", "import", str(file), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def _notes(run: subprocess.CompletedProcess[str]) -> str:
    """What the import told the author."""
    return run.stdout


def _leaked(folder: Path) -> list[str]:
    """Files under `folder` holding a byte of the secret, /etc/passwd or the listener's answer."""
    passwd = Path("/etc/passwd").read_bytes().splitlines()[0]
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            if any(marker in content for marker in (SECRET.encode(), b"TOP-SECRET", passwd, b"LISTENER-BYTES")):
                found.append(str(path))
    return found


def _imported_quietly(file: Path, tmp_path: Path, listener: Listener) -> tuple[subprocess.CompletedProcess[str], str]:
    """Import FILE into tmp_path/source as a clinic would: it succeeds, the listener hears nothing and no
    byte of a secret lands in the output. Returns the run and the new source's text."""
    out = tmp_path / "source"
    out.mkdir()
    run = _import(file, out / f"{file.stem}.md")
    assert run.returncode == 0, run.stderr
    assert listener.heard == []
    assert _leaked(out) == []
    return run, (out / f"{file.stem}.md").read_text(encoding="utf-8")


def _targets(url: str) -> list[str]:
    """Every way a received file may name something it must not bring in."""
    return ["/etc/passwd", "file:///etc/passwd", "../secret.png", "escape.png", f"{url}/track.png"]


def test_a_web_page_imports_without_reading_files_or_fetching_and_leaves_out_active_content(
        received: Path, listener: Listener, tmp_path: Path) -> None:
    pictures = "".join(f'<p>Picture {n}: <img src="{t}" alt="hidden {n}"></p>\n' for n, t in enumerate(_targets(listener.url)))
    (received / "port.html").write_text(f"""<html lang="en-US"><head><title>Caring for your port</title>
<style>body {{ background: url({listener.url}/style.png) }}</style><script src="{listener.url}/s.js"></script>
<link rel="stylesheet" href="{listener.url}/sheet.css"></head><body>
<h1>How do I keep my port clean?</h1>
<p>Wash your hands first. <img src="ok.png" alt="A port under the skin"></p>
{pictures}<iframe src="{listener.url}/frame"></iframe><object data="{listener.url}/o"></object><embed src="{listener.url}/e">
<p><a href="javascript:alert(1)" onclick="steal()">Tap here</a>, <a href="file:///etc/passwd">this</a>,
<a href="https://www.cancer.org">the web</a>, <a href="mailto:nurse@example.org">mail</a>, <a href="tel:+15550100">call</a>.</p>
</body></html>""", encoding="utf-8")
    run, text = _imported_quietly(received / "port.html", tmp_path, listener)
    out = tmp_path / "source"
    for n, target in enumerate(_targets(listener.url)):
        assert f"*(Picture not imported: hidden {n})*" in text
        assert re.search(rf"picture '{re.escape(target)}' was not imported \(.+\); a placeholder", _notes(run)), target
    assert "![A port under the skin](port-pictures/picture-1.png)" in text
    assert [p.name for p in (out / "port-pictures").iterdir()] == ["picture-1.png"]
    for kind in ("<iframe>", "<object>", "<embed>", "<script>", "<style>", "event handler"):
        assert f"note: left out 1 × {kind}" in _notes(run)
    assert "note: left out 2 × link that is not a web, e-mail or phone link" in _notes(run)
    assert "javascript" not in text and "file://" not in text and "steal" not in text
    assert "[the web](https://www.cancer.org)" in text and "(tel:+15550100)" in text and "(mailto:nurse@example.org)" in text


def test_a_markdown_file_imports_without_reading_files_or_fetching(received: Path, listener: Listener,
                                                                   tmp_path: Path) -> None:
    pictures = "\n\n".join(f"Picture {n}: ![hidden {n}]({t})" for n, t in enumerate(_targets(listener.url)))
    (received / "drains.md").write_text(f"""---
title: Caring for your drain
lang: en-US
---

# How do I empty my drain?

Empty it twice a day. ![A drain bulb](ok.png)

{pictures}

<iframe src="{listener.url}/frame"></iframe>

Raw <img src="{listener.url}/raw.png"> and [a script](javascript:alert(1)).
""", encoding="utf-8")
    run, text = _imported_quietly(received / "drains.md", tmp_path, listener)
    out = tmp_path / "source"
    for n, target in enumerate(_targets(listener.url)):
        assert f"*(Picture not imported: hidden {n})*" in text
        assert f"picture '{target}' was not imported" in _notes(run)
    assert "![A drain bulb](drains-pictures/picture-1.png)" in text
    assert "note: left out 1 × <iframe>" in _notes(run) and "javascript" not in text and "<img" not in text


def _written_with_pictures(tmp_path: Path, kind: str, alt: str, linked: int) -> dict[str, bytes]:
    """The files of a .docx or .odt pandoc writes from a question with one picture, then `linked`
    more copies of it (each a picture the caller re-points outside the file), name → bytes."""
    body = "\n\n".join(["# How do I care for my arm?", "Move it every day.", f"![{alt}](ok.png)"]
                       + [f"Linked {n}: ![linked {n}](ok.png)" for n in range(linked)])
    (tmp_path / "made.md").write_text(f"---\ntitle: Arm care\nlang: en-US\n---\n\n{body}\n", encoding="utf-8")
    subprocess.run([pandoc_binary(), "made.md", "-o", f"made.{kind}"], cwd=tmp_path, check=True)
    with zipfile.ZipFile(tmp_path / f"made.{kind}") as original:
        return {info.filename: original.read(info) for info in original.infolist()}


def _docx_pointing_at(tmp_path: Path, targets: list[str]) -> Path:
    """A Word file with one embedded picture and one picture per target that Word links from outside
    (a relationship with TargetMode="External", as Insert > Picture > Link to File writes it)."""
    files = _written_with_pictures(tmp_path, "docx", "An arm in a sleeve", len(targets))
    document = files["word/document.xml"].decode()
    embeds = re.findall(r'r:embed="(rId\d+)"', document)
    assert len(embeds) == len(targets) + 1
    rels = files["word/_rels/document.xml.rels"].decode()
    kept, *linked = document.split(f'r:embed="{embeds[0]}"')
    assert len(linked) == len(targets) + 1
    for n, target in enumerate(targets):
        mode = "" if target.startswith("../") else ' TargetMode="External"'
        rels = rels.replace("</Relationships>", f'<Relationship Id="rIdX{n}" Type="http://schemas.openxmlformats.org/'
                            f'officeDocument/2006/relationships/image" Target="{target}"{mode}/></Relationships>')
    document = kept + f'r:embed="{embeds[0]}"' + linked[0] + "".join(
        f'r:embed="rIdX{n}"' + part for n, part in enumerate(linked[1:]))
    files["word/_rels/document.xml.rels"], files["word/document.xml"] = rels.encode(), document.encode()
    target_file = tmp_path / "received" / "arm.docx"
    _zip(target_file, files)
    return target_file


def _zip(path: Path, files: dict[str, bytes]) -> None:
    """Write a container from name → bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as container:
        for name, content in files.items():
            container.writestr(name, content)


def pandoc_binary() -> str:
    """The pandoc the pipeline runs (tests make their Word files with it, outside the sandbox)."""
    import pypandoc
    return pypandoc.get_pandoc_path()


def test_a_word_file_keeps_its_own_pictures_and_fetches_no_linked_one(received: Path, listener: Listener,
                                                                       tmp_path: Path) -> None:
    targets = ["file:///etc/passwd", "/etc/passwd", "../../../secret.png", f"{listener.url}/linked.png"]
    (tmp_path / "ok.png").write_bytes(PICTURE.read_bytes())
    word = _docx_pointing_at(tmp_path, targets)
    run, text = _imported_quietly(word, tmp_path, listener)
    out = tmp_path / "source"
    assert "![An arm in a sleeve](arm-pictures/picture-1.png)" in text
    assert (out / "arm-pictures" / "picture-1.png").read_bytes() == PICTURE.read_bytes()
    assert len(list((out / "arm-pictures").iterdir())) == 1
    for n in range(len(targets)):
        assert f"*(Picture not imported: linked {n})*" in text
    for target in targets:
        assert f"picture '{target}' was not imported (linked from outside the document)" in _notes(run)


def test_an_odt_file_fetches_no_linked_picture(received: Path, listener: Listener, tmp_path: Path) -> None:
    (tmp_path / "ok.png").write_bytes(PICTURE.read_bytes())
    targets = ["/etc/passwd", "file:///etc/passwd", "../secret.png", f"{listener.url}/linked.png"]
    files = _written_with_pictures(tmp_path, "odt", "Small meals on a plate", len(targets))
    content = files["content.xml"].decode()
    links = re.findall(r'xlink:href="(Pictures/[^"]+)"', content)
    assert len(links) == len(targets) + 1
    pointed = iter([links[0], *targets])
    content = re.sub(r'xlink:href="Pictures/[^"]+"', lambda _m: f'xlink:href="{next(pointed)}"', content)
    files["content.xml"] = content.encode()
    odt = received / "food.odt"
    _zip(odt, files)
    run, text = _imported_quietly(odt, tmp_path, listener)
    out = tmp_path / "source"
    assert "food-pictures/picture-1.png" in text and len(list((out / "food-pictures").iterdir())) == 1
    assert text.count("*(Picture not imported:") == len(targets)


def _word_files(tmp_path: Path) -> dict[str, bytes]:
    """The files of a small, good Word document."""
    (tmp_path / "q.md").write_text("# What is a port?\n\nA small disc under the skin.\n", encoding="utf-8")
    subprocess.run([pandoc_binary(), "q.md", "-o", "good.docx"], cwd=tmp_path, check=True)
    with zipfile.ZipFile(tmp_path / "good.docx") as original:
        return {info.filename: original.read(info) for info in original.infolist()}


def test_a_zip_bomb_is_refused_in_one_line_before_it_is_unpacked(tmp_path: Path) -> None:
    files = _word_files(tmp_path)
    document = files["word/document.xml"]
    files["word/document.xml"] = document.replace(b"A small disc", b"A" * 300_000_000 + b" small disc")
    bomb = tmp_path / "bomb.docx"
    _zip(bomb, files)
    assert bomb.stat().st_size < 2_000_000
    run = _import(bomb, tmp_path / "bomb.md")
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and len(run.stderr) < 300
    assert "zip bomb" in run.stderr and str(bomb) in run.stderr
    assert not (tmp_path / "bomb.md").exists()


def test_a_container_of_many_files_is_refused(tmp_path: Path) -> None:
    files = _word_files(tmp_path)
    files.update({f"word/media/filler-{n}.bin": b"" for n in range(6000)})
    crowded = tmp_path / "crowded.docx"
    _zip(crowded, files)
    run = _import(crowded, tmp_path / "crowded.md")
    assert run.returncode == 2 and "6,0" in run.stderr and "zip bomb" in run.stderr


def test_an_xml_external_entity_is_refused_in_one_line(tmp_path: Path) -> None:
    files = _word_files(tmp_path)
    document = files["word/document.xml"].decode()
    declaration = '<!DOCTYPE w:document [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
    document = document.replace("?>", "?>" + declaration, 1).replace("A small disc", "&leak; A small disc")
    files["word/document.xml"] = document.encode()
    entity = tmp_path / "entity.docx"
    _zip(entity, files)
    run = _import(entity, tmp_path / "entity.md")
    assert run.returncode == 2
    assert run.stderr.startswith(f"error: {entity}: word/document.xml declares XML entities")
    assert run.stderr.count("\n") == 1
    assert not (tmp_path / "entity.md").exists()


def test_the_good_word_file_the_negative_controls_start_from_imports(tmp_path: Path) -> None:
    """The controls above fail for what was added, not for the document they were made from."""
    good = tmp_path / "good-copy.docx"
    _zip(good, _word_files(tmp_path))
    run = _import(good, tmp_path / "good.md")
    assert run.returncode == 0, run.stderr
    assert "A small disc under the skin." in (tmp_path / "good.md").read_text(encoding="utf-8")


def test_a_document_with_no_text_names_its_file_not_its_title(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text(f"<html><head><title>{'A' * 5000}</title></head><body></body></html>", encoding="utf-8")
    run = _import(page, tmp_path / "empty.md")
    assert run.returncode == 2
    assert run.stderr == f"error: {page}: the document has no text to import\n"


def test_every_pandoc_run_of_the_pipeline_is_sandboxed(listener: Listener) -> None:
    """pandoc's HTML reader fetches an iframe's page unless sandboxed; the pipeline's runs never do,
    and no module but pipeline/source/pandoc.py calls pypandoc."""
    page = f'<p>Hello</p><iframe src="{listener.url}/frame"></iframe><img src="{listener.url}/i.png" alt="x">'
    pandoc.convert_text(page, "json", "html")
    pandoc.convert_text(f"![x]({listener.url}/m.png)", "html5", "markdown", "--embed-resources", "--standalone")
    assert listener.heard == []
    callers = [p for p in (ROOT / "pipeline").rglob("*.py")
               if re.search(r"^\s*(import|from) pypandoc", p.read_text(encoding="utf-8"), re.M)]
    assert callers == [ROOT / "pipeline" / "source" / "pandoc.py"]


def test_unsandboxed_pandoc_would_fetch_so_the_listener_test_can_fail(listener: Listener, tmp_path: Path) -> None:
    """The negative control: the same page read without --sandbox reaches the listener."""
    page = tmp_path / "frame.html"
    page.write_text(f'<p>Hello</p><iframe src="{listener.url}/frame"></iframe>', encoding="utf-8")
    subprocess.run([pandoc_binary(), "-f", "html", "-t", "json", "--quiet", str(page)], check=True,
                   capture_output=True, timeout=60)
    assert listener.heard == ["/frame"]
