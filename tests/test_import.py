"""`import ota` and `import snapshots`: archives recorded as a check would have recorded them,
with their origin, resumable, idempotent, out of the live feeds, and clear about bad input.
The OTA repository is a real git repository built here, read by the real git binary."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from pathlib import Path

import feedparser
import pytest

from monitor.importer.ota import ota_steps
from monitor.importer.progress import Progress
from monitor.importer.run import Report, import_steps
from monitor.importer.steps import Step
from monitor.models import Watch
from monitor.store import Store
from tests.cli_helpers import policy, run_cli
from tests.httpserver import LocalServer
from tests.pdfmaker import make_pdf

PATH = "Example/Privacy Policy.md"
BASE = """# Example Privacy Policy

We collect the content you create, such as posts and photos, and how you use our services.

## How we use information

- To provide and personalise our services.
- To keep our community safe and secure for everyone who uses it.
{extra}
## Your choices

You can access, correct or delete your information at any time in your settings.
"""
AI = "- To develop our AI, we may use your public posts to train our AI models.\n"
# (author date, subject, extra text): OTA's commit conventions, one technical re-extraction.
HISTORY = [
    ("2022-01-10T09:00:00+00:00", "First record of Example Privacy Policy", ""),
    ("2023-06-29T18:34:22+00:00", "Record new changes of Example Privacy Policy", AI),
    ("2023-07-01T08:00:00+00:00", "Apply technical or declaration upgrade on Example Privacy "
     "Policy", AI + "\n"),
    ("2024-02-08T12:00:00+00:00", "Record new changes of Example Privacy Policy",
     AI + "- To show you ads that may interest you.\n"),
]  # fmt: skip


def git(repo: Path, *args: str, date: str = "2022-01-01T00:00:00+00:00") -> None:
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
               GIT_AUTHOR_NAME="OTA", GIT_AUTHOR_EMAIL="bot@example.org",
               GIT_COMMITTER_NAME="OTA", GIT_COMMITTER_EMAIL="bot@example.org")  # fmt: skip
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def ota_repo(tmp_path: Path, history: list[tuple[str, str, str]] = HISTORY) -> Path:
    repo = tmp_path / "versions"
    (repo / "Example").mkdir(parents=True)
    git(repo, "init", "-q")
    for date, subject, extra in history:
        (repo / PATH).write_text(BASE.format(extra=extra))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", subject, date=date)
    return repo


def watchlist(tmp_path: Path, url: str = "https://example.org/privacy", feeds: str = "") -> Path:
    path = tmp_path / "watchlist.yaml"
    path.write_text(f"documents:\n  - id: example-privacy\n    company: Example\n"
                    f"    title: Example Privacy Policy\n    url: {url}\n{feeds}")  # fmt: skip
    return path


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str, wl: Path | None = None):  # type: ignore[no-untyped-def]
    wl = wl or watchlist(tmp_path)
    return run_cli(capsys, *args, "--watchlist", str(wl), "--data", str(tmp_path / "data"))


def changes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> list[dict[str, object]]:
    out = run_cli(capsys, "changes", "--json", "--data", str(tmp_path / "data")).out
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def test_ota_history_becomes_versions_and_changes_with_their_origin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ota_repo(tmp_path)
    done = run(capsys, tmp_path, "import", "ota", str(repo), "--document", "example-privacy",
               "--path", PATH)  # fmt: skip
    assert done.code == 0, done.err
    assert done.out.splitlines()[0] == ("example-privacy: ota: 3 step(s) imported, 2 change(s), "
                                        "1 AI-training, 1 not versions")  # fmt: skip
    rows = changes(capsys, tmp_path)
    assert [(r["detected_at"], r["ai_training"], r["origin"]) for r in rows] == [
        ("2023-06-29T18:34:22+00:00", True, "ota"),
        ("2024-02-08T12:00:00+00:00", False, "ota"),
    ]
    assert all(len(str(r["origin_ref"])) == 40 and r["archived_at"] == r["detected_at"]
               for r in rows)  # fmt: skip
    history = run_cli(capsys, "history", "example-privacy", "--data", str(tmp_path / "data"))
    assert history.out.count("imported from ota ") == 3
    assert "first seen 2022-01-10T09:00:00+00:00" in history.out
    explain = run_cli(capsys, "explain", str(rows[0]["id"]), "--data", str(tmp_path / "data"))
    ref = str(rows[0]["origin_ref"])[:12]
    assert explain.out.splitlines()[0].endswith(
        f"v1 -> v2, dated 2023-06-29T18:34:22+00:00 by the archive, imported from ota {ref}"
    )
    again = run(capsys, tmp_path, "import", "ota", str(repo), "--document", "example-privacy",
                "--path", PATH)  # fmt: skip
    assert "0 step(s) imported, 0 change(s), 0 AI-training, 3 already imported" in again.out
    assert len(changes(capsys, tmp_path)) == 2


def test_a_bare_clone_imports_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = ota_repo(tmp_path)
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    steps = ota_steps(bare, PATH)
    assert [s.at.year for s in steps] == [2022, 2023, 2023, 2024]
    assert [bool(s.skip) for s in steps] == [False, False, True, False]
    assert steps[1].load().data.decode().count("train our AI models") == 1


@pytest.mark.parametrize(
    "path,expected",
    [
        ("Other/Privacy Policy.md", "error: example-privacy: ota: 'Other/Privacy Policy.md' is in "
         "no commit of {repo} (did you mean 'Example/Privacy Policy.md'?)"),
        ("Nothing.md", "error: example-privacy: ota: 'Nothing.md' is in no commit of {repo}"),
        (None, "error: example-privacy: ota: {repo} is a git repository: say which file with "
         '--path, e.g. --path "Google/Privacy Policy.md"'),
    ],
)  # fmt: skip
def test_a_path_not_in_the_repository_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str | None, expected: str
) -> None:
    repo = ota_repo(tmp_path)
    where = ["--path", path] if path else []
    done = run(capsys, tmp_path, "import", "ota", str(repo), "--document", "example-privacy",
               *where)  # fmt: skip
    assert (done.code, done.err.strip()) == (1, expected.format(repo=repo))


def test_not_a_repository_and_unknown_document_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run(capsys, tmp_path, "import", "ota", str(empty), "--document", "example-privacy",
               "--path", PATH)  # fmt: skip
    assert done.code == 1 and done.err.startswith("error: example-privacy: ota: git: not a git")
    assert len(done.err.strip().splitlines()) == 1
    other = run(capsys, tmp_path, "import", "ota", str(empty), "--document", "nope", "--path", PATH)
    assert other.code == 2
    assert other.err.startswith("error: no document with id nope in ")
    assert "add each with its id, company, title and url to the watchlist" in other.err


def _watch() -> Watch:
    return Watch("example-privacy", "Example", "Example Privacy Policy", "https://example.org/p")


def _recorded(store: Store) -> list[tuple[object, ...]]:
    return [(c.detected_at, c.from_version, c.to_version, c.ai_training, c.origin)
            for c in store.changes()]  # fmt: skip


def test_an_interrupted_import_resumes_where_it_stopped(tmp_path: Path) -> None:
    history = [(f"202{i}-03-0{i + 1}T00:00:00+00:00", "Record new changes", f"- Clause {i}.\n")
               for i in range(6)]  # fmt: skip
    steps = ota_steps(ota_repo(tmp_path, history), PATH)

    def stop_after_three(report: Report, step: Step, status: str) -> None:
        if report.steps == 3:
            raise KeyboardInterrupt

    store = Store(tmp_path / "interrupted")
    store.sync_documents([_watch()], steps[0].at)
    with pytest.raises(KeyboardInterrupt):
        import_steps(store, _watch(), "ota", steps, tick=stop_after_three)
    assert len(store.versions("example-privacy")) == 3  # each step its own transaction
    resumed = import_steps(store, _watch(), "ota", steps)
    assert (resumed.skipped, resumed.imported) == (3, 3)
    whole = Store(tmp_path / "whole")
    whole.sync_documents([_watch()], steps[0].at)
    import_steps(whole, _watch(), "ota", steps)
    assert _recorded(store) == _recorded(whole) and len(_recorded(whole)) == 5


def test_progress_is_a_bar_on_a_terminal_and_logfmt_otherwise(tmp_path: Path) -> None:
    steps = ota_steps(ota_repo(tmp_path), PATH)
    store = Store(tmp_path / "data")
    store.sync_documents([_watch()], steps[0].at)
    seconds = iter(range(100))
    lines: list[str] = []
    bar = Progress(len(steps), lines.append, tty=True, clock=lambda: float(next(seconds)))
    import_steps(store, _watch(), "ota", steps[:2], tick=bar)
    assert lines[-1].startswith("\rexample-privacy [###############---------------] 2/4 ")
    assert lines[-1].endswith(" left, 1 change(s)") and "/s 00:0" in lines[-1]
    logged: list[str] = []
    log = Progress(len(steps), logged.append, tty=False)
    import_steps(store, _watch(), "ota", steps, tick=log)
    assert logged[-1].startswith("level=INFO document=example-privacy archive=ota step=4/4 ")
    assert " status=changed at=2024-02-08T12:00:00+00:00 rate=" in logged[-1]
    assert " status=skipped " in logged[0] and len(logged) == 4
    # A step the archive could not give is a warning an operator's log filter keeps.
    log(Report("example-privacy", "ota"), steps[0], "failed")
    assert logged[-1].startswith("level=WARN document=example-privacy archive=ota step=0/4 ")


def test_snapshot_files_named_by_time_go_through_extract_diff_classify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    first, second = policy(token="a"), policy(extra=f"<li>{AI[2:]}</li>", token="b")
    pdf = make_pdf([line.lstrip("#- ") for line in BASE.format(extra="").splitlines()])
    (folder / "2023-01-05T10-00-00Z.html").write_bytes(first)
    (folder / "20230629183422.html").write_bytes(second)
    (folder / "2024-01-01.pdf").write_bytes(pdf)
    (folder / "notes.txt").write_text("not a snapshot")
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document",
               "example-privacy")  # fmt: skip
    assert done.code == 0, done.err
    assert "3 step(s) imported, 2 change(s), 2 AI-training" in done.out
    rows = changes(capsys, tmp_path)
    assert [(r["detected_at"], r["origin_ref"], r["ai_direction"]) for r in rows] == [
        ("2023-06-29T18:34:22+00:00", "20230629183422.html", "added"),
        ("2024-01-01T00:00:00+00:00", "2024-01-01.pdf", "removed"),  # the PDF drops it
    ]
    store = Store(tmp_path / "data", read_only=True)
    versions = store.versions("example-privacy")
    assert [v.snapshot_sha256 for v in versions] == [hashlib.sha256(b).hexdigest()
                                                     for b in (first, second, pdf)]  # fmt: skip
    assert store.snapshot(versions[2].snapshot_sha256) == (pdf, "application/pdf")
    store.close()


def test_a_file_not_named_by_time_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "privacy.html").write_bytes(policy())
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document",
               "example-privacy")  # fmt: skip
    assert done.code == 1
    assert done.err.strip() == ("error: example-privacy: snapshots: privacy.html: its name is not "
                                "a time (name snapshots like 2024-06-26T10:00:00Z.html, or give "
                                "a manifest.json)")  # fmt: skip


def test_a_snapshot_that_does_not_match_its_manifest_is_never_a_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    bodies = [policy(token="a"), policy(extra="<li>To show you ads.</li>", token="b")]
    entries = []
    for n, body in enumerate(bodies, 1):
        (folder / f"{n:04d}.html").write_bytes(body)
        entries.append({"n": n, "file": f"{n:04d}.html", "sha256": hashlib.sha256(body).hexdigest(),
                        "fetched_at": f"2025-0{n}-01T00:00:00+00:00"})  # fmt: skip
    (folder / "0002.html").write_bytes(b"<html>tampered</html>")
    (folder / "manifest.json").write_text(json.dumps({"snapshots": entries}))
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document",
               "example-privacy")  # fmt: skip
    assert done.code == 0
    assert done.err.strip().splitlines()[-1] == ("warning: example-privacy: snapshots 0002.html: "
                                                 "0002.html does not match its sha256 in "
                                                 "manifest.json")  # fmt: skip
    assert "1 step(s) imported, 0 change(s), 0 AI-training, 1 failed" in done.out
    again = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document",
                "example-privacy")  # fmt: skip
    assert "2 already imported" in again.out and again.err.count("warning") == 0


def test_imported_changes_stay_out_of_live_feeds_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    repo = ota_repo(tmp_path)
    items = f"<li>{AI[2:]}</li><li>To show you ads that may interest you.</li>"
    local_server.route("/privacy", body=policy(extra=items + "<li>A live clause.</li>"))
    wl = watchlist(tmp_path, local_server.url("/privacy"))
    done = run(capsys, tmp_path, "import", "ota", str(repo), "--document", "example-privacy",
               "--path", PATH, wl=wl)  # fmt: skip
    assert done.code == 0, done.err
    feeds = tmp_path / "data" / "feeds"
    assert feedparser.parse((feeds / "all.rss").read_bytes()).entries == []
    assert run(capsys, tmp_path, "check", wl=wl).out.startswith("example-privacy: changed: v3")
    live = feedparser.parse((feeds / "all.rss").read_bytes()).entries
    assert len(live) == 1 and (feeds / "ai-training.rss").read_bytes().count(b"<item>") == 0
    asked = run_cli(capsys, "feed", "--data", str(tmp_path / "data"), "--include-history")
    assert len(feedparser.parse(asked.out).entries) == 3
    with_history = watchlist(tmp_path, local_server.url("/privacy"),
                             "feeds:\n  include_history: true\n")  # fmt: skip
    run(capsys, tmp_path, "check", wl=with_history)
    assert len(feedparser.parse((feeds / "all.rss").read_bytes()).entries) == 3
    entry = feedparser.parse((feeds / "ai-training.rss").read_bytes()).entries[0]
    assert entry.published_parsed[:3] == (2023, 6, 29)
    assert "Imported from ota " in entry.summary and "(archived 2023-06-29T18:34:22+00:00)" in (
        entry.summary
    )
    pages = [p.read_text() for p in (feeds / "changes").glob("*.html")]
    assert sum('<th scope="row">Imported</th>' in p for p in pages) == 2


def test_the_lock_is_taken_per_step_never_while_the_archive_is_read(tmp_path: Path) -> None:
    from monitor.importer.steps import Body
    from monitor.lock import data_lock

    data = tmp_path / "data"
    store = Store(data)
    store.sync_documents([_watch()], ota_steps(ota_repo(tmp_path), PATH)[0].at)
    held: list[bool] = []

    def load(body: bytes) -> Body:
        with data_lock(data, 0):  # a check could take the lock while an archive is read
            held.append(False)
        return Body(body, "text/html")

    times = [s.at for s in ota_steps(tmp_path / "versions", PATH)]
    bodies = [policy(extra=f"<li>Clause {i}.</li>") for i in range(3)]
    steps = [Step(f"r{i}", times[i], functools.partial(load, bodies[i])) for i in range(3)]
    report = import_steps(store, _watch(), "snapshots", steps, hold=lambda: data_lock(data, 5))
    assert (report.imported, report.changes, len(held)) == (3, 2, 3)


def test_history_never_goes_before_what_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    local_server.route("/privacy", body=policy())
    wl = watchlist(tmp_path, local_server.url("/privacy"))
    assert run(capsys, tmp_path, "check", wl=wl).code == 0  # a live check, now
    done = run(capsys, tmp_path, "import", "ota", str(ota_repo(tmp_path)), "--document",
               "example-privacy", "--path", PATH, wl=wl)  # fmt: skip
    assert "0 step(s) imported, 0 change(s), 0 AI-training, 3 older than what is recorded, " \
           "skipped, 1 not versions" in done.out  # fmt: skip


@pytest.mark.parametrize("ref,shown", [("abc", "abc"), ("a b.html", '"a b.html"'),
                                       ('x"=y', '"x\\"=y"')])  # fmt: skip
def test_logfmt_quotes_refs_that_need_it(ref: str, shown: str) -> None:
    from datetime import UTC, datetime

    lines: list[str] = []
    step = Step(ref, datetime(2024, 1, 1, tzinfo=UTC), lambda: None)  # type: ignore[arg-type,return-value]
    report = Report("d", "snapshots", steps=1)
    Progress(1, lines.append)(report, step, "imported")
    assert f" ref={shown} status=imported " in lines[0]


def test_the_bar_keeps_its_carriage_returns_and_nothing_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from monitor.cli.imports import _progress_writer

    _progress_writer()("\rdoc [##--] 1/2 \x1b[2J\x07 left")
    assert capsys.readouterr().err == "\rdoc [##--] 1/2 <U+0007> left"


def test_the_site_marks_imported_changes_on_the_timeline_and_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The timeline shows everything, imported changes marked with their archive and time,
    so a reader never takes an archive's date for the monitor's own observation."""
    repo = ota_repo(tmp_path)
    done = run(capsys, tmp_path, "import", "ota", str(repo), "--document", "example-privacy",
               "--path", PATH)  # fmt: skip
    assert done.code == 0, done.err
    site = tmp_path / "data" / "feeds"
    timeline = next((site / "documents").glob("*.html")).read_text()
    assert timeline.count('<span class="tag imported"') == 2
    assert timeline.count("dated by the archive, not seen live by this monitor") == 2
    assert "Imported from ota " in timeline and "(archived 2023-06-29T18:34:22+00:00)" in timeline
    # The change's own page dates it by the archive too, never "Detected".
    page = (site / "changes" / f"{changes(capsys, tmp_path)[0]['id']}.html").read_text()
    assert "Detected" not in page and page.count("Dated by the archive") == 2
    index = (site / "index.html").read_text()
    # Last change, last AI-training change, and the latest AI-training changes list.
    assert index.count('class="tag imported"') == 3
    # The archive's markdown is kept under its own extension, on the site and as evidence.
    assert {p.suffix for p in (site / "snapshots").iterdir()} == {".md"}
    rows = changes(capsys, tmp_path)
    out = tmp_path / "evidence"
    got = run_cli(capsys, "evidence", str(rows[0]["id"]), "--out", str(out),
                  "--data", str(tmp_path / "data"))  # fmt: skip
    assert got.code == 0, got.err
    names = [p.name for p in out.rglob("*")]
    assert sum(n.endswith(".md") for n in names) == 2 and not any(n.endswith(".bin") for n in names)
