"""The workbench's back end: the sources' git history (`store`), the build queue (`jobs`), and the
engine's lock that keeps two builds of one handout from interleaving.

The store's tests run git only, so they are in the fast layer; the queue's and the lock's start real
builds (large-print PDF and web page only, a few seconds each).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.workbench.jobs import BuildQueue, Job
from pipeline.workbench.store import EditConflict, SourceStore

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "sample-faq.md"
IDENTITY = {"GIT_AUTHOR_NAME": "Setup", "GIT_AUTHOR_EMAIL": "setup@example.invalid",
            "GIT_COMMITTER_NAME": "Setup", "GIT_COMMITTER_EMAIL": "setup@example.invalid"}
BAD_NAMES = ["../etc/passwd", "a/b", "..", "", "Capital", "-leading-hyphen", "a" * 65, "faq\n", "faq.md", "faq md"]


def git(cwd: Path, *args: str) -> str:
    """Run git as a person at a terminal would (the test's own setup and reading)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | IDENTITY
    return subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with one committed file and an empty `source/` folder in it."""
    top = tmp_path / "project"
    (top / "source").mkdir(parents=True)
    git(top, "init", "--quiet")
    (top / "notes.txt").write_text("first\n")
    git(top, "add", "notes.txt")
    git(top, "commit", "--quiet", "-m", "start")
    return top


# --- store ---------------------------------------------------------------------------------------


@pytest.mark.fast
def test_a_save_is_a_commit_of_that_file_by_its_author(project: Path) -> None:
    """A new handout is written and committed with the staff member as author and committer; a
    browser's "\\r\\n" line endings are stored as "\\n"; saving the same text again makes no commit."""
    store = SourceStore(project / "source")
    draft = store.save("wound-care", "# Wound care\r\n\r\nKeep it dry.\r\n", None, "Nurse Joy", "First draft")

    on_disk = (project / "source" / "wound-care.md").read_bytes()
    assert on_disk == b"# Wound care\n\nKeep it dry.\n"
    assert draft == store.read("wound-care")
    assert draft.version == hashlib.sha256(on_disk).hexdigest()
    assert git(project, "log", "-1", "--format=%an|%ae|%cn|%ce|%s").strip() == (
        "Nurse Joy|nurse-joy@workbench.invalid|Nurse Joy|nurse-joy@workbench.invalid|First draft")
    assert git(project, "show", "--name-only", "--format=", "HEAD").split() == ["source/wound-care.md"]
    [version] = store.history("wound-care")
    assert (version.author, version.message) == ("Nurse Joy", "First draft")
    assert store.last_change("wound-care") == version.when

    store.save("wound-care", draft.text, draft.version, "Nurse Joy", "nothing changed")
    assert len(store.history("wound-care")) == 1


@pytest.mark.fast
def test_a_stale_base_is_a_conflict_and_writes_nothing(project: Path) -> None:
    """Two people open the same version; the second save finds the first's and writes nothing.
    Negative control: the first save, with the same base while it was current, is written."""
    store = SourceStore(project / "source")
    opened = store.save("faq", "one\n", None, "Ann", "new")
    first = store.save("faq", "two\n", opened.version, "Ann", "Ann's edit")
    assert first.text == "two\n"

    with pytest.raises(EditConflict) as conflict:
        store.save("faq", "three\n", opened.version, "Ben", "Ben's edit")
    assert conflict.value.current == first
    assert (project / "source" / "faq.md").read_text() == "two\n"
    assert [v.message for v in store.history("faq")] == ["Ann's edit", "new"]

    with pytest.raises(EditConflict):  # "new" when one of that name exists
        store.save("faq", "four\n", None, "Ben", "a new handout")
    assert (project / "source" / "faq.md").read_text() == "two\n"
    assert not list((project / "source").glob(".*.tmp"))


@pytest.mark.fast
def test_history_lists_every_version_and_restore_puts_one_back_as_a_new_commit(project: Path) -> None:
    """Three saves, newest first; an old version's text by its short id; restoring it commits that
    text again under the restorer's name, and the history keeps what it replaced."""
    store = SourceStore(project / "source")
    draft = store.save("faq", "one\n", None, "Ann", "v1")
    draft = store.save("faq", "two\n", draft.version, "Ben", "v2")
    store.save("faq", "three\n", draft.version, "Cy", "v3")

    history = store.history("faq")
    assert [(v.author, v.message) for v in history] == [("Cy", "v3"), ("Ben", "v2"), ("Ann", "v1")]
    oldest = history[-1].commit
    assert store.version_text("faq", oldest[:7]) == "one\n"

    restored = store.restore("faq", oldest, "Dee")
    assert restored.text == "one\n" == (project / "source" / "faq.md").read_text()
    newest = store.history("faq")[0]
    assert (newest.author, newest.message) == ("Dee", f"Restore faq to {oldest[:7]}")
    assert len(store.history("faq")) == 4


@pytest.mark.fast
def test_a_sources_folder_inside_a_repository_commits_only_its_file(project: Path) -> None:
    """Another file staged in the same repository (someone's work in progress) stays staged and
    uncommitted. Negative control: git itself sees it staged before the save."""
    (project / "notes.txt").write_text("work in progress\n")
    git(project, "add", "notes.txt")
    assert git(project, "diff", "--cached", "--name-only").split() == ["notes.txt"]

    SourceStore(project / "source").save("faq", "text\n", None, "Ann", "new handout")

    assert git(project, "show", "--name-only", "--format=", "HEAD").split() == ["source/faq.md"]
    assert git(project, "diff", "--cached", "--name-only").split() == ["notes.txt"]
    assert git(project, "show", "HEAD:notes.txt") == "first\n"


@pytest.mark.fast
def test_a_folder_in_no_repository_becomes_one_at_its_first_save(tmp_path: Path) -> None:
    """No repository: nothing committed yet (mtime stands for the last change), then `git init` on the first save."""
    folder = tmp_path / "sources"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "sample-faq.md")
    store = SourceStore(folder)
    assert store.history("sample-faq") == []
    assert store.last_change("sample-faq")[:4].isdigit()

    store.save("sample-faq", "new text\n", store.read("sample-faq").version, "Ann", "edit")
    assert (folder / ".git").is_dir()
    assert [v.message for v in store.history("sample-faq")] == ["edit"]


@pytest.mark.fast
def test_names_lists_only_handouts(project: Path) -> None:
    """Only `NAME.md` files with a handout name; a link leading out of the folder is no handout."""
    folder = project / "source"
    for name in ("b-faq.md", "a-faq.md", "Bad Name.md", "notes.txt"):
        (folder / name).write_text("x\n")
    (project / "outside.md").write_text("secret\n")
    (folder / "linked.md").symlink_to(project / "outside.md")
    store = SourceStore(folder)
    assert store.names() == ["a-faq", "b-faq"]
    with pytest.raises(ValueError, match="outside"):
        store.read("linked")


@pytest.mark.fast
@pytest.mark.parametrize("bad", BAD_NAMES)
def test_a_name_that_is_no_handout_name_is_refused(project: Path, bad: str) -> None:
    """Every entry point refuses it with ValueError before touching a file or git; nothing is written.
    Negative control: a good name is accepted by the same calls."""
    store = SourceStore(project / "source")
    before = git(project, "rev-parse", "HEAD")
    for call in (lambda: store.read(bad), lambda: store.save(bad, "x\n", None, "Ann", "m"),
                 lambda: store.history(bad), lambda: store.last_change(bad), lambda: store.version_text(bad, before[:7])):
        with pytest.raises(ValueError, match="not a handout name"):
            call()
    assert git(project, "rev-parse", "HEAD") == before
    assert sorted(p.name for p in (project / "source").iterdir()) == []
    assert store.save("good-name", "x\n", None, "Ann", "m").name == "good-name"


@pytest.mark.fast
def test_a_commit_id_must_be_hex_and_known(project: Path) -> None:
    """A commit id is 7 to 40 lower-case hex digits (never a ref, an option or a range); a well-formed
    one that holds no such file is a LookupError."""
    store = SourceStore(project / "source")
    store.save("faq", "one\n", None, "Ann", "v1")
    for bad in ("HEAD", "abc12", "--output=/tmp/x", "ABCDEF1", "a" * 41, "1234567\n", "HEAD~1", "1234567:x"):
        with pytest.raises(ValueError, match="not a commit id"):
            store.version_text("faq", bad)
        with pytest.raises(ValueError, match="not a commit id"):
            store.restore("faq", bad, "Ann")
    with pytest.raises(LookupError):
        store.version_text("faq", "0" * 40)
    first = git(project, "rev-parse", "HEAD~1").strip()  # the setup commit: no faq.md in it
    with pytest.raises(LookupError):
        store.version_text("faq", first)


@pytest.mark.fast
def test_an_author_must_be_a_name(project: Path) -> None:
    """An empty author, or one with what git's identity forbids, is refused and nothing is written."""
    store = SourceStore(project / "source")
    for bad in ("", "   ", "Ann <ann@x>", "Ann\x00"):
        with pytest.raises(ValueError, match="author"):
            store.save("faq", "x\n", None, bad, "m")
    assert not (project / "source" / "faq.md").exists()


# --- the build queue ----------------------------------------------------------------------------


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A sources folder holding the small fixture FAQ."""
    folder = tmp_path / "sources"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "sample-faq.md")
    return folder


def finished(queue: BuildQueue, job_id: str, timeout: float = 300) -> Job:
    """The job once it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.get(job_id)
        if job is not None and job.state in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {queue.get(job_id)}")


def test_a_queued_handout_is_built_and_checked(sources: Path, tmp_path: Path) -> None:
    """The job ends done, each chosen format done, the rest not asked for, with the check's report.
    Negative control: a broken source then fails (exit 2, the source's error line), and the report
    of the earlier build is not handed out as this job's."""
    builds = BuildQueue(sources, tmp_path / "out", formats=("html", "pdf"))
    try:
        job = finished(builds, builds.submit("sample-faq").id)
        assert (job.state, job.exit_code) == ("done", 0), job.lines
        assert job.formats == {"html": "done", "audio": "n/a", "pdf": "done", "easyread": "n/a", "epub": "n/a",
                               "braille": "n/a"}
        assert "[sample-faq] pdf: building" in job.lines
        assert job.report is not None and job.report["ok"] is True
        assert set(job.report["formats"]) == {"html", "pdf"}
        assert builds.latest("sample-faq") == job

        (sources / "sample-faq.md").write_text("no metadata block\n")
        broken = finished(builds, builds.submit("sample-faq").id)
        assert broken.id != job.id
        assert (broken.state, broken.exit_code, broken.report) == ("failed", 2, None)
        assert broken.formats["pdf"] == "failed"
        assert any(line.startswith("error: ") for line in broken.lines)
        assert (tmp_path / "out" / "sample-faq" / "report.json").is_file()
    finally:
        builds.shutdown()


def test_two_submits_at_once_give_one_job(sources: Path, tmp_path: Path) -> None:
    """Eight requests for the same handout at the same moment share one job; once it has ended a
    new request makes a new job."""
    builds = BuildQueue(sources, tmp_path / "out", formats=("html",))
    start, ids = threading.Barrier(8), []

    def ask() -> None:
        start.wait()
        ids.append(builds.submit("sample-faq").id)

    try:
        askers = [threading.Thread(target=ask) for _ in range(8)]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join()
        assert len(ids) == 8 and len(set(ids)) == 1
        assert finished(builds, ids[0]).state == "done"
        assert builds.submit("sample-faq").id != ids[0]
    finally:
        builds.shutdown()


@pytest.mark.fast
def test_the_queue_refuses_a_bad_or_unknown_name_before_anything_runs(sources: Path, tmp_path: Path) -> None:
    """A name that is no handout name is a ValueError, one with no source a FileNotFoundError; no job is made."""
    builds = BuildQueue(sources, tmp_path / "out")
    try:
        for bad in BAD_NAMES:
            with pytest.raises(ValueError):
                builds.submit(bad)
        with pytest.raises(FileNotFoundError):
            builds.submit("no-such-handout")
        assert builds.latest("no-such-handout") is None and builds.get("0" * 32) is None
        with pytest.raises(ValueError, match="unknown formats"):
            BuildQueue(sources, tmp_path / "out", formats=("pdf", "fax"))
    finally:
        builds.shutdown()


# --- the engine's lock ---------------------------------------------------------------------------


def start_build(source: Path, out: Path, cache: Path) -> subprocess.Popen:
    """`python -m pipeline build` of the web page and PDF, its progress lines readable as they come."""
    return subprocess.Popen([sys.executable, "-m", "pipeline", "build", str(source), "--out", str(out),
                             "--cache", str(cache), "--formats", "html,pdf"],
                            cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


def lines_of(process: subprocess.Popen) -> queue.Queue:
    """A queue the process's stderr lines arrive on while it runs, then None when it has closed stderr."""
    arrived: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stderr:
            arrived.put(line.rstrip("\n"))
        arrived.put(None)

    threading.Thread(target=read, daemon=True).start()
    return arrived


def rest_of(arrived: queue.Queue) -> list[str]:
    """The lines still to come on the queue, up to the end of its process's stderr."""
    return list(iter(lambda: arrived.get(timeout=60), None))


def check(out: Path, source: Path) -> subprocess.CompletedProcess:
    """`python -m pipeline check` of the web page and PDF."""
    return subprocess.run([sys.executable, "-m", "pipeline", "check", str(out / "sample-faq"), str(source),
                           "--formats", "html,pdf"], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_a_build_waits_while_another_build_of_the_handout_holds_its_lock(tmp_path: Path) -> None:
    """With `OUT/.sample-faq.lock` held (as a build in another terminal holds it), a build says it
    waits and writes nothing (no staging folder, no output); let go, it builds, the check passes and
    no lock file is left. Negative control: a second build with no one holding the lock does not wait."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    out.mkdir()
    holder = open(out / ".sample-faq.lock", "a")
    fcntl.flock(holder, fcntl.LOCK_EX)
    waiter = start_build(SAMPLE, out, cache)
    arrived = lines_of(waiter)
    try:
        assert arrived.get(timeout=120) == "[sample-faq] waiting for another build of sample-faq"
        time.sleep(1.0)
        assert waiter.poll() is None
        assert sorted(p.name for p in out.iterdir()) == [".sample-faq.lock"]
    finally:
        (out / ".sample-faq.lock").unlink()  # as a build lets go: remove, then unlock
        holder.close()
    assert waiter.wait(timeout=300) == 0
    assert check(out, SAMPLE).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["sample-faq"]

    again = start_build(SAMPLE, out, cache)
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0
    assert "waiting for another build" not in stderr and "[sample-faq] pdf: up to date" in stderr


def test_a_build_holds_the_lock_while_it_builds(tmp_path: Path) -> None:
    """While a build runs, the lock beside its output is taken: the test's own try without waiting fails."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    build = start_build(SAMPLE, out, cache)
    lines_of(build)
    held = False
    while build.poll() is None and not held:
        try:
            with open(out / ".sample-faq.lock", "rb") as probe:  # never creates it
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except FileNotFoundError:
            pass
        except BlockingIOError:
            held = True
        time.sleep(0.01)
    assert build.wait(timeout=300) == 0
    assert held


def test_two_builds_of_one_handout_at_once_take_turns(tmp_path: Path) -> None:
    """Two terminals build the same handout into the same folder at once: one builds, the other
    waits, then finds every format up to date; both exit 0 and the check of what is published
    passes. Both are held at the lock until both wait, then let go together, so they always meet
    (started free, the second may start after the first has finished: it failed that way once in
    about 40 runs)."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    out.mkdir()
    holder = open(out / ".sample-faq.lock", "a")
    fcntl.flock(holder, fcntl.LOCK_EX)
    builds = [start_build(SAMPLE, out, cache) for _ in range(2)]
    arrived = [lines_of(build) for build in builds]
    try:
        for lines in arrived:
            assert lines.get(timeout=120) == "[sample-faq] waiting for another build of sample-faq"
    finally:
        (out / ".sample-faq.lock").unlink()
        holder.close()
    assert [build.wait(timeout=300) for build in builds] == [0, 0]
    said = ["\n".join(rest_of(lines)) for lines in arrived]
    built = [text for text in said if "[sample-faq] pdf: wrote" in text]
    assert len(built) == 1, said
    waited = said[1 - said.index(built[0])]
    assert "[sample-faq] html: up to date" in waited and "[sample-faq] pdf: up to date" in waited, said
    assert check(out, SAMPLE).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["sample-faq"]

