"""An attacker's and a newcomer's pass on `import ota`, `import snapshots` and `backfill`
(issue 14: "bad archives get clear errors"). Real git repositories made here and read by
the real git binary, real folders, a fake Wayback Machine on 127.0.0.1, the real CLI (in
this process, or as a subprocess where it is signalled). Each test names the attack, what
it did before and what it does now; bench/HOSTILE.md lists them."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.importer.snapshots import snapshot_steps
from monitor.watchlist import load_config
from tests.cli_helpers import policy
from tests.httpserver import LocalServer, Reply
from tests.shared import SHARED, need
from tests.test_attacks import DOC, entry, manifest_folder
from tests.test_backfill import CAPTURES, HEADER, URL, FakeWayback, backfill, capture_path
from tests.test_import import PATH, changes, git, ota_repo, run, watchlist

AI_LINE = "<li>We may use your posts to train our AI models.</li>"


def ota(capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Path, path: str):  # type: ignore[no-untyped-def]
    return run(capsys, tmp_path, "import", "ota", str(repo), "--document", DOC, "--path", path)


# -- the OTA importer: --path and the repository ---------------------------------------------
@pytest.mark.parametrize(
    "path,cause",
    [
        ("Example", "'Example' is a folder in commit {head}, not a file: give the document's "
         "file with --path, e.g. 'Example/A Cookie Policy.md', 'Example/Privacy Policy.md'"),
        ("Example/", "'Example' is a folder in commit {head}, not a file"),
        ("Example/*", "'Example/*' is in no commit of {repo}"),
        ("*.md", "'*.md' is in no commit of {repo}"),
        (":(glob)**/*.md", "':(glob)**/*.md' is in no commit of {repo}"),
    ],
)  # fmt: skip
def test_a_path_that_is_a_folder_or_a_pattern_records_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, cause: str
) -> None:
    """Attack (or a newcomer's slip: tab completion ends a folder with a slash): `--path
    Example` (a folder), `Example/`, a pattern (`Example/*`, `*.md`, `:(glob)...`). Once
    `Example/` imported the folder's first file, whichever it was, as the document, at
    every commit of any file in it; the others recorded every commit as a failed step, so
    the right --path then imported nothing ("3 already imported"). Now one line before
    anything is recorded (git reads --path literally), and the right --path imports all."""
    repo = ota_repo(tmp_path)
    (repo / "Example" / "A Cookie Policy.md").write_text("# Cookies\n\nWe use cookies.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record new changes of Cookies", date="2024-03-01T00:00:00Z")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout[:12]  # fmt: skip
    done = ota(capsys, tmp_path, repo, path)
    assert done.code == 1 and "Traceback" not in done.err, done.err
    assert len(done.err.strip().splitlines()) == 1, done.err
    assert done.err.startswith(f"error: {DOC}: ota: " + cause.format(head=head, repo=repo)), (
        done.err
    )
    right = ota(capsys, tmp_path, repo, PATH)
    assert right.out.splitlines()[0] == (f"{DOC}: ota: 3 step(s) imported, 2 change(s), "
                                         "1 AI-training, 1 not versions"), right.out  # fmt: skip


@pytest.mark.parametrize("where", ["Example", "empty"])
def test_a_folder_inside_a_repository_is_not_read_as_that_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """Attack: `import ota` on a folder inside a clone (its `Example/` folder, or an empty
    folder kept in it: a home directory in git, the monitor's own clone). git looked for
    the repository in the folders above and read that one: every commit of the clone
    recorded as a failed step (or its files as the policy). Now that folder is no
    repository, in one line."""
    repo = ota_repo(tmp_path)
    (repo / "empty").mkdir()
    path = "Privacy Policy.md" if where == "Example" else "../Example/Privacy Policy.md"
    done = ota(capsys, tmp_path, repo / where, path)
    assert done.code == 1 and len(done.err.strip().splitlines()) == 1, done.err
    assert done.err.startswith(f"error: {DOC}: ota: git: not a git repository"), done.err
    assert f"{repo / where} is no clone" in done.err, done.err
    assert changes(capsys, tmp_path) == []


def test_a_damaged_object_stops_the_import_where_it_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: one version's object damaged in the clone (a disk error, an interrupted
    copy). Once "is over 20 MB: not read", recorded as a failed step: after `git fetch`
    mended the clone the step stayed "already imported", the version lost. Now the import
    stops there without recording it, and the next run, on the mended clone, reads it."""
    repo = ota_repo(tmp_path)
    blob = subprocess.run(["git", "-C", str(repo), "rev-parse", f"HEAD~2:{PATH}"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stored = repo / ".git" / "objects" / blob[:2] / blob[2:]
    kept = stored.read_bytes()
    stored.chmod(0o644)
    stored.write_bytes(b"damaged")
    done = ota(capsys, tmp_path, repo, PATH)
    assert done.code == 1 and "Traceback" not in done.err, done.err
    assert "git cannot read" in done.err and "(will retry)" in done.err, done.err
    assert "1 step(s) imported, 0 change(s)" in done.out, done.out
    stored.write_bytes(kept)
    again = ota(capsys, tmp_path, repo, PATH)
    assert again.code == 0, again.err
    assert "2 step(s) imported, 2 change(s), 1 AI-training, 1 already imported" in again.out
    assert len(changes(capsys, tmp_path)) == 2


# -- snapshot folders ------------------------------------------------------------------------
def test_a_listed_file_missing_stops_the_import_where_it_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a manifest listing a file not (yet) in the folder (a copy still running, a
    git-annex file not fetched). Once a failed step: when the file came, the import said
    "already imported" and the version was never recorded. Now the import stops at that
    step, exit status 1, and the next run reads it."""
    a, b = policy(token="a"), policy(extra="<li>We may train our AI models on it.</li>")
    folder = manifest_folder(tmp_path, [entry("a.html", a, 1), entry("b.html", b, 2),
                                        entry("c.html", a, 3)])  # fmt: skip
    (folder / "a.html").write_bytes(a)
    (folder / "c.html").write_bytes(a)
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert done.code == 1 and "Traceback" not in done.err, done.err
    assert "cannot read b.html now (No such file or directory)" in done.err, done.err
    assert "(will retry)" in done.err and "1 step(s) imported" in done.out, done.out
    (folder / "b.html").write_bytes(b)
    again = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert again.code == 0, again.err
    assert "2 step(s) imported, 2 change(s), 2 AI-training, 1 already imported" in again.out


def test_a_gzipped_snapshot_cut_short_is_never_a_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a `.html.gz` snapshot cut in half (a download interrupted). zlib inflated
    what was there without a word: half the policy recorded as a version, two false
    changes (its second half "removed", then "added" back). Now that step fails in one
    line and no change is recorded."""
    whole = policy(extra="".join(f"<li>Clause {n} of how we use data.</li>" for n in range(300)))
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "2024-01-01.html").write_bytes(whole)
    packed = gzip.compress(whole)
    (folder / "2024-02-01.html.gz").write_bytes(packed[: len(packed) // 2])
    (folder / "2024-03-01.html").write_bytes(whole)
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert "2 step(s) imported, 0 change(s)" in done.out and "1 failed" in done.out, done.out
    assert "2024-02-01.html.gz is cut short (a download interrupted?)" in done.err, done.err
    assert changes(capsys, tmp_path) == []


# -- times -----------------------------------------------------------------------------------
def _saved(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "saved"
    folder.mkdir()
    for number, name in enumerate(names):
        (folder / name).write_bytes(policy(token=str(number)))
    return folder


@pytest.mark.parametrize("kind", ["file name", "manifest", "capture"])
def test_a_step_dated_before_the_web_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer, kind: str
) -> None:
    """Attack: a snapshot named `0001-01-01.html`, a manifest's `fetched_at` in year 1, a
    CDX row dated `00010101000000`. Once an OverflowError traceback (the check's windows
    reach before year 1) and nothing after it imported; now that step is refused in one
    line (before 1990 no archive holds a web page) and the rest is imported."""
    if kind == "capture":
        archive = FakeWayback(local_server, [Reply(body=json.dumps(
            [HEADER, ["00010101000000", URL, "200", "d0", "text/html"]]
            + [[s, URL, "200", f"D{s}", "text/html"] for s in CAPTURES]).encode())])  # fmt: skip
        archive.serve(capture_path("00010101000000"), [Reply(body=policy(token="y1"))])
        done = backfill(capsys, tmp_path, local_server)
    else:
        names = ["0001-01-01.html", "1969-07-20T20-17-00Z.html", "2023-01-01.html"]
        folder = _saved(tmp_path, names)
        if kind == "manifest":
            entries = [{"file": n, "fetched_at": t} for n, t in
                       zip(names, ["0001-01-01T00:00:00Z", "1969-07-20T20:17:00Z",
                                   "2023-01-01T00:00:00Z"], strict=True)]  # fmt: skip
            (folder / "manifest.json").write_text(json.dumps({"snapshots": entries}))
        done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert "Traceback" not in done.err, done.err
    refused = [line for line in done.err.splitlines() if "before 1990: not recorded" in line]
    assert len(refused) == (1 if kind == "capture" else 2), done.err
    assert "dated 0001-01-01T00:00:00+00:00, before 1990" in refused[0], refused
    assert " 0 step(s) imported" not in done.out, done.out


@pytest.mark.parametrize(
    "name,at",
    [
        ("2024-06-26T10-00-00+02-00.html", "2024-06-26T08:00:00+00:00"),  # date -Iseconds | tr : -
        ("2024-06-26T10-00-00-05-00.html", "2024-06-26T15:00:00+00:00"),
        ("2024-06-26T10-00-00-0500.html", "2024-06-26T15:00:00+00:00"),
        ("2024-06-26T10-00-00+0200.html.gz", "2024-06-26T08:00:00+00:00"),
        ("2024-06-26T10-00-00Z.html", "2024-06-26T10:00:00+00:00"),
        ("2024-06-26T10-00Z.pdf", "2024-06-26T10:00:00+00:00"),
        ("2024-06-26T10:00:00+02:00.html", "2024-06-26T08:00:00+00:00"),
        ("20240626100000.html", "2024-06-26T10:00:00+00:00"),
    ],
)  # fmt: skip
def test_a_snapshot_named_by_its_time_without_colons_keeps_its_time_zone(
    tmp_path: Path, name: str, at: str
) -> None:
    """Newcomer: files named by `date -Iseconds | tr : -` (colons are awkward in names):
    `2024-06-26T10-00-00+02-00.html` was "its name is not a time", though README reads
    `10-00-00` as 10:00:00. Now the offset reads the same way."""
    (tmp_path / name).write_bytes(b"x")
    (step,) = snapshot_steps(tmp_path)
    assert step.at.isoformat() == at


def test_a_binary_snapshot_prints_no_stray_library_line(tmp_path: Path) -> None:
    """Attack: a saved "page" of random bytes. It failed in one line, but BeautifulSoup's
    charset detection also printed "Some characters could not be decoded, and were
    replaced with REPLACEMENT CHARACTER." on stderr (logging's last resort): a line in no
    format of ours, which a cron job mails. Now only the step's own lines."""
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "2024-01-01.html").write_bytes(random.Random(1).randbytes(300_000))
    wl, data = watchlist(tmp_path), tmp_path / "data"
    args = [sys.executable, "-m", "monitor", "import", "snapshots", str(folder), "--document",
            DOC, "--watchlist", str(wl), "--data", str(data)]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert "1 failed" in done.stdout, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith(("level=", "warning: ")) for line in lines), lines


def test_a_cdx_answer_too_large_says_to_ask_for_fewer_captures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    """Attack: a CDX answer over the 15 MB cap (a page whose every capture differs, a
    token in it). The line said "page too large ... (raise max_bytes if it is really a
    policy)": no such option of backfill. Now it says to ask for fewer captures."""
    FakeWayback(local_server, [Reply(body=b"[]", content_length=20_000_000,
                                     content_type="application/json")])  # fmt: skip
    done = backfill(capsys, tmp_path, local_server, "--retries", "0")
    assert done.code == 1 and len(done.err.strip().splitlines()) == 1, done.err
    assert done.err.strip().endswith("ask for fewer with --since and --until"), done.err


@pytest.mark.parametrize("page", ["https://example.org/terms", "https://other.example/privacy"])
def test_a_capture_redirected_to_another_page_at_the_same_time_is_not_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer, page: str
) -> None:
    """Attack: the archive answers the June 2023 capture of /privacy with a redirect to a
    capture of the site's /terms (or of another site) taken the same second. The time
    and the site were checked, not the page: the terms were recorded as a version of the
    privacy policy, two false changes. Now that step fails in one line."""
    archive = FakeWayback(local_server)
    elsewhere = f"/web/20230629183422id_/{page}"
    local_server.route(elsewhere, body=policy(title="Terms of Service", extra=AI_LINE))
    june = capture_path("20230629183422")
    archive.serve(june, [Reply(status=302, headers={"Location": local_server.url(elsewhere)})])
    done = backfill(capsys, tmp_path, local_server)
    assert done.code == 0 and "Traceback" not in done.err, done.err
    warning = [line for line in done.err.splitlines() if "20230629183422" in line
               and line.startswith("warning")]  # fmt: skip
    assert len(warning) == 1 and "redirected" in warning[0], done.err
    assert [r["origin_ref"] for r in changes(capsys, tmp_path)] == ["20240208120000"]


# -- interrupted imports ---------------------------------------------------------------------
def _long_history(tmp_path: Path, commits: int = 120) -> Path:
    """A repository of ``commits`` versions of a 100-line policy, made at once by git
    fast-import."""
    repo = tmp_path / "versions"
    repo.mkdir()
    subprocess.run(["git", "-C", str(repo), "init", "-q"], check=True)
    parts = []
    for number in range(commits):
        lines = "".join(f"- Clause {j}: we use your data for purpose {number * j % 97}.\n"
                        for j in range(100))  # fmt: skip
        body = f"# Example Privacy Policy\n\n{lines}".encode()
        when = 946684800 + number * 86400
        parts.append(
            b"commit refs/heads/master\n"
            + f"author OTA <b@e.org> {when} +0000\n"
            f"committer OTA <b@e.org> {when} +0000\ndata 18\nRecord new changes\n"
            f"M 100644 inline {PATH}\ndata {len(body)}\n".encode()
            + body
            + b"\n"
        )
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(parts),
                   check=True)  # fmt: skip
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "master"], check=True)
    return repo


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    """The worker processes of ``pid``: the children it has in two looks 0.3 s apart,
    but ``git`` (the short-lived ones it runs to read the archive, some ahead of need
    since import7, may be caught between fork and exec, still named python)."""
    first = _child_pids(pid)
    time.sleep(0.3)
    return [child for child in _child_pids(pid) if child in first and not _is_git(child)]


def _child_pids(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(child) for child in found.stdout.split()]


def _is_git(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "git"
    except OSError:  # ended meanwhile: not a worker either
        return True


@pytest.mark.parametrize(("how", "frozen"), [(signal.SIGTERM, False), (signal.SIGKILL, False),
                                             (signal.SIGTERM, True)])  # fmt: skip
def test_a_killed_import_leaves_no_worker_behind_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: signal.Signals, frozen: bool
) -> None:
    """Attack: `import ota --jobs 2` ended by SIGTERM (a service manager, `timeout`) or
    SIGKILL (the OOM killer) mid-way. Both left the two worker processes running for ever,
    orphans waiting on a pipe no one would write (SIGTERM also ended the import without a
    word). Now SIGTERM stops it as Ctrl-C does (one line, exit status 130), a worker ends
    within a second of its parent, and the same command resumes.
    ``frozen``: the workers were stuck (here: SIGSTOP) when SIGTERM came. The stopped
    import asked them for its change pages and waited two minutes; once, in CI, it was
    still running a minute after SIGTERM. Now it ends them first and ends in bounded
    time, its feeds written."""
    repo = _long_history(tmp_path)
    args = [sys.executable, "-m", "monitor", "import", "ota", str(repo), "--document", DOC,
            "--path", PATH, "--jobs", "2", "--watchlist", str(watchlist(tmp_path)),
            "--data", str(tmp_path / "data")]  # fmt: skip
    log = tmp_path / "stderr"
    with log.open("wb") as err:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 120
            while "step=3/" not in log.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                time.sleep(0.05)
            workers = _children(process.pid)
            assert len(workers) == 2, (workers, log.read_text())
            for pid in workers if frozen else ():
                os.kill(pid, signal.SIGSTOP)
            process.send_signal(how)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # the test's own orphans, ended so they outlive no test
        os.kill(pid, signal.SIGKILL)
    assert left == [], "worker processes outlived the import"
    said = log.read_text().strip().splitlines()
    if how == signal.SIGTERM:
        assert code == 130 and "Traceback" not in log.read_text(), log.read_text()
        assert (tmp_path / "data" / "feeds" / "all.atom").is_file()
        assert not list((tmp_path / "data" / "locks").glob("import-*.json"))
        assert said[-1] == f"{DOC}: interrupted; what was imported is kept, run the same " \
                           "command again to resume"  # fmt: skip
    again = run(capsys, tmp_path, "import", "ota", str(repo), "--document", DOC, "--path", PATH,
                "--jobs", "0")  # fmt: skip
    assert again.code == 0, again.err
    assert "already imported" in again.out, again.out
    assert len(changes(capsys, tmp_path)) == 119


# -- a newcomer following README ---------------------------------------------------------------
def test_the_corpus_watchlist_of_the_readme_names_every_corpus_history() -> None:
    """Newcomer: README's `import snapshots ../shared/corpus/html/*/ --watchlist corpus.yaml`
    said "error: corpus.yaml: file not found": the file was to be written by hand. It is
    now in the repository, one document per corpus folder (named as the folder)."""
    corpus = need(SHARED / "corpus")
    folders = {p.name for kind in ("html", "versions") for p in (corpus / kind).iterdir()
               if (p / "manifest.json").is_file()}  # fmt: skip
    config = load_config(Path(__file__).resolve().parents[1] / "corpus.yaml")
    assert {watch.id for watch in config.documents} == folders


def test_backfill_dates_the_wrong_way_round_are_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    """Newcomer: `backfill ID --since 2024-01-01 --until 2023-01-01`. The archive was asked
    for captures from 2024 to 2023 and the command said "the archive has no steps to
    import", exit status 0: as if it held no history. Now a usage error, no request."""
    FakeWayback(local_server)
    done = backfill(capsys, tmp_path, local_server, "--since", "2024-01-01", "--until",
                    "2023-01-01")  # fmt: skip
    assert done.code == 2 and "--since 2024-01-01 is after --until 2023-01-01" in done.err
    assert local_server.hits("/cdx/search/cdx") == 0


@pytest.mark.parametrize("original", ["https://example.org/terms", "https://example.org/"])
def test_a_cdx_row_for_another_page_of_the_site_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer,
    original: str,
) -> None:  # fmt: skip
    """Attack: a CDX answer for /privacy listing a capture of the site's /terms (or its
    home page). Only the site was checked: the terms were fetched and recorded as a
    version of the privacy policy. Now the answer is refused in one line, as one listing
    another site was."""
    rows = [HEADER, [*capture_row("20220110090000")], ["20230101000000", original, "200",
                                                      "dx", "text/html"]]  # fmt: skip
    FakeWayback(local_server, [Reply(body=json.dumps(rows).encode())])
    done = backfill(capsys, tmp_path, local_server, "--retries", "0")
    assert done.code == 1 and len(done.err.strip().splitlines()) == 1, done.err
    assert done.err.startswith(f"error: {DOC}: wayback: the CDX answer lists a capture of "
                               f"another page ('{original}', not '{URL}')"), done.err  # fmt: skip


def capture_row(stamp: str) -> list[str]:
    return [stamp, URL, "200", f"D{stamp}", "text/html"]
