"""An imported file keeps the language it declares (issue 27): a Word file's properties, a
LibreOffice file's, a web page's `<html lang>`; `--lang` still wins, and a file that declares none
is written as en-US with a note saying so (the negative control)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import docx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


def _imported(file: Path, *args: str) -> tuple[str, str]:
    """The `lang:` line of the source the import writes, and what it printed."""
    out = file.with_suffix(".imported.md")
    done = subprocess.run([str(PYTHON), "-m", "pipeline", "import", str(file), "--out", str(out), *args],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lang = next(line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("lang:"))
    return lang.split(":", 1)[1].strip(), done.stdout + done.stderr


def _word(path: Path, language: str) -> Path:
    """A Word file as python-docx writes it, its language in its properties (Word's File > Info)
    over the template's en-US default style."""
    document = docx.Document()
    if language:
        document.core_properties.language = language
    document.add_heading("¿Qué es el linfedema?", 1)
    document.add_paragraph("Es una hinchazón del brazo.")
    document.save(path)
    return path


@pytest.mark.fast
def test_an_import_keeps_the_language_the_file_declares(tmp_path: Path) -> None:
    assert _imported(_word(tmp_path / "es.docx", "es-US"))[0] == "es-US"
    page = tmp_path / "vi.html"
    page.write_text('<html lang="vi"><head><title>Chăm sóc</title></head><body><h1>Tôi cần gì?</h1>'
                    "<p>Uống nước.</p></body></html>", encoding="utf-8")
    assert _imported(page)[0] == "vi"
    import pypandoc

    markdown = tmp_path / "ru.md"
    markdown.write_text('---\ntitle: "Грипп"\nlang: ru\n---\n\n# Что это?\n\nЭто вирус.\n', encoding="utf-8")
    pypandoc.convert_file(str(markdown), "odt", outputfile=str(tmp_path / "ru.odt"))
    assert _imported(tmp_path / "ru.odt")[0] == "ru"
    assert _imported(_word(tmp_path / "given.docx", "es-US"), "--lang", "es-MX")[0] == "es-MX"


@pytest.mark.fast
def test_a_file_that_declares_no_language_is_english_with_a_note(tmp_path: Path) -> None:
    page = tmp_path / "none.html"
    page.write_text("<html><head><title>Care</title></head><body><h1>What?</h1><p>Drink water.</p></body></html>",
                    encoding="utf-8")
    lang, printed = _imported(page)
    assert lang == "en-US" and "does not say its language" in printed
    assert _imported(_word(tmp_path / "template.docx", ""))[0] == "en-US"  # Word's template says en-US itself
