"""Property-based fuzzing of whole handouts: whatever a clinic writes, `build` ends in one of its
documented exit codes with at most one error line, never a traceback, and a source it accepts checks
clean: every section present in every format it built (only the source's own plain-language rules
may fail).

Hypothesis writes sources from the parts real handouts have (headings in any script, ids that
collide, lists, tables, footnotes, pictures with and without alt text, raw HTML, numbers, long
sentences) and runs the real command line in-process on them. The examples are derandomised, so CI
always tries the same ones; run with `--hypothesis-seed=N` to explore others.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import cli

ROOT = Path(__file__).resolve().parent.parent
PICTURE = ROOT / "tests" / "fixtures" / "images" / "armpit.png"
BUILD_CODES = {0, 2, 3}  # built, a bad source named with its line, or no voice for its language
# A source the build accepts must check clean: every section present in every format. The only rules
# it may fail are the plain-language ones its generated words can break (readability, sentence length).
SOURCE_RULES = re.compile(r"readability ")

WORDS = ["the", "nurse", "can", "help", "you", "cancer", "30%", "555-0100", "e.g.", "Dr.", "and/or",
         "tamoxifen", "día", "médico", "سرطان", "乳腺癌", "🎗️", "<b>", "&amp;", "**bold**", "*it*", "`code`",
         "[link](#a)", "[bad](javascript:x)", "x\u00a0y", "—", "“quoted”", "{#x}", "\\", "$5", "1/2"]
GOOD_IDS = ["a", "a-s1", "a-s2", "a-t1r1", "b", "q1", "know", "a-n1", "x" * 64]
BAD_IDS = ["a_s1", "Bad Id", "x" * 70, ""]  # rare: each makes the source a bad one


def sentence() -> st.SearchStrategy[str]:
    """A run of words ending like a sentence (or not)."""
    return st.builds(lambda ws, end: " ".join(ws) + end, st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
                     st.sampled_from([".", "?", "!", "", ".[^n]"]))


def paragraph() -> st.SearchStrategy[str]:
    return st.lists(sentence(), min_size=1, max_size=4).map(" ".join)


def table() -> st.SearchStrategy[str]:
    """A pipe table, sometimes ragged, sometimes with a caption."""
    cell = st.lists(st.sampled_from(WORDS), min_size=0, max_size=3).map(lambda ws: " ".join(ws).replace("|", "/"))

    def draw(columns: int, rows: list[list[str]], caption: str) -> str:
        head = "| " + " | ".join(f"H{n}" for n in range(columns)) + " |\n|" + "---|" * columns + "\n"
        body = "".join("| " + " | ".join(row[:columns] + [""] * (columns - len(row))) + " |\n" for row in rows)
        return head + body + (f"\n: {caption}\n" if caption else "")

    return st.integers(1, 4).flatmap(lambda n: st.builds(draw, st.just(n), st.lists(st.lists(cell, max_size=5), max_size=4),
                                                          st.sampled_from(["", "Your schedule"])))


def block() -> st.SearchStrategy[str]:
    """One block of a section's text, as a clinic might write it."""
    good = st.one_of(
        paragraph(),
        st.lists(paragraph(), min_size=1, max_size=3).map(lambda items: "\n".join(f"- {i}" for i in items)),
        st.lists(paragraph(), min_size=1, max_size=3).map(lambda items: "\n".join(f"{n}. {i}" for n, i in enumerate(items, 1))),
        table(),
        st.sampled_from([
            "![A drawing of the armpit](pic.png)", "Look ![a small drawing](pic.png) here.",
            "<div onclick='x()'>raw</div> words", "```\ncode block\n```", "> a quoted line", "Term\n: its meaning",
            "| a |\n|---|\n| ![cell picture](pic.png) |", "Word[^n] and word[^n].", "Line one\\\nline two",
        ]),
        st.integers(50, 400).map(lambda n: ", ".join(["you can ask your nurse"] * (n // 5)) + "."),
    )
    return good


def section(ident: str) -> st.SearchStrategy[str]:
    """One question with its full text and plain rendition."""
    title = st.lists(st.sampled_from(WORDS[:20] + ["Who do I call?", "¿Qué es?", "متى؟"]), min_size=1, max_size=5).map(" ".join)
    return st.builds(
        lambda heading, full, plain: f"## {heading} {{#{ident}}}\n\n" + "\n\n".join(full)
        + "\n\n::: plain\n" + "\n\n".join(plain) + "\n:::\n",
        title, st.lists(block(), min_size=1, max_size=4), st.lists(block(), min_size=1, max_size=2),
    )


MISTAKES = ["![](pic.png)", "![A map](missing.png)", "![A map](https://example.org/x.png)", "bad id", "bad metadata",
            "no metadata"]


def source() -> st.SearchStrategy[str]:
    """A whole handout: metadata, one to three sections with unique ids, notes, and now and then one
    mistake a clinic could make (a picture without alt text or file, a bad id, broken metadata)."""
    head = st.sampled_from(["---\ntitle: Fuzz\nlang: en-US\n---\n\n"] * 5 + ["---\ntitle: Fuzz\nlang: es-US\n---\n\n"])
    ids = st.lists(st.sampled_from(GOOD_IDS), min_size=1, max_size=3, unique=True)
    sections = ids.flatmap(lambda chosen: st.tuples(*(section(i) for i in chosen)))
    notes = st.sampled_from(["", "\n[^n]: A note with ![a picture](pic.png) in it.\n", "\n[^n]: A note.\n"])
    mistake = st.sampled_from([None] * 12 + MISTAKES)
    return st.builds(_written, head, sections, notes, mistake)


def _written(head: str, sections: tuple[str, ...], notes: str, mistake: str | None) -> str:
    """The handout's text, with its one mistake if it has one."""
    parts = list(sections)
    if mistake == "bad id":
        parts[-1] = parts[-1].replace("{#", "{#Bad_", 1)
    elif mistake == "bad metadata":
        head = "---\ntitle: [unclosed\n---\n\n"
    elif mistake == "no metadata":
        head = ""
    elif mistake:
        parts[0] = parts[0].replace("\n\n::: plain", f"\n\n{mistake}\n\n::: plain", 1)
    return head + "\n".join(parts) + notes


def run(argv: list[str]) -> tuple[int, list[str]]:
    """The command line in-process: its exit code and its error lines."""
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(argv)
    return code, [line for line in errors.getvalue().splitlines() if line.startswith("error:") or "Traceback" in line]


@pytest.fixture(scope="module")
def workshop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the picture the sources show, and one cache for every example."""
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copyfile(PICTURE, folder / "pic.png")
    return folder


def _try(workshop: Path, text: str, formats: str) -> None:
    """Build and check one generated source; only documented outcomes are allowed."""
    path = workshop / "handout.md"
    path.write_text(text, encoding="utf-8")
    out = workshop / "out"
    code, errors = run(["build", str(path), "--out", str(out), "--cache", str(workshop / "cache"),
                        "--formats", formats, "--quiet"])
    assert code in BUILD_CODES and len(errors) == (code != 0), (code, errors, text)
    if code == 0:
        code, errors = run(["check", str(out / "handout"), str(path), "--formats", formats])
        report = json.loads((out / "handout" / "report.json").read_text(encoding="utf-8"))
        absent = [f"{name}: {sid}: {p['detail']}" for name, entry in report["formats"].items()
                  for sid, p in entry["sections"].items() if not p["present"]]
        broken = [f"{name}: {r['name']}: {r['detail']}" for name, entry in report["formats"].items()
                  for r in entry["rules"] if not r["ok"] and not SOURCE_RULES.match(r["name"])]
        assert not absent and not broken, (absent, broken, text)
        assert code in (0, 1) and len(errors) == (code != 0), (code, errors, text)


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(text=source())
def test_any_handout_builds_and_checks_without_a_traceback(workshop, text):
    _try(workshop, text, "html,pdf,epub")


@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(text=source())
def test_any_handout_is_narrated_and_heard_without_a_traceback(workshop, text):
    _try(workshop, text, "audio,html,pdf,epub")


def test_a_build_that_drops_a_section_fails_the_fuzz_check(workshop, monkeypatch) -> None:
    """Negative control: when the formats lose a section's words (its HTML rendered empty), the
    fuzz check's clean-check assertion fails, naming the section absent."""
    import pipeline.rendering

    real = pipeline.rendering.section_html
    monkeypatch.setattr(pipeline.rendering, "section_html",
                        lambda doc, section, rendition: "" if section.id == "b" else real(doc, section, rendition))
    for module in ("pipeline.formats.html", "pipeline.formats.pdf", "pipeline.formats.epub"):
        monkeypatch.setattr(f"{module}.section_html", pipeline.rendering.section_html)
    text = ("---\ntitle: Fuzz\nlang: en-US\n---\n\n## Who do I call? {#a}\n\nCall the nurse.\n\n::: plain\nCall the nurse.\n:::\n"
            "\n## When? {#b}\n\nCall the nurse each day before noon with your questions.\n\n::: plain\nCall each day.\n:::\n")
    with pytest.raises(AssertionError, match=r"html: b: "):
        _try(workshop, text, "html,pdf,epub")
