"""Hostile input against what changed last: the phrase search (m010), the compiled-pattern
cache, the sweep's recording, the zstd snapshot store (m011), the importers and the
board's marker. Each test is an attack that once worked (see the commit that fixed it)."""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import hashlib
import json
import marshal
import multiprocessing
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
import zstandard

from monitor.check.pipeline import record_batch
from monitor.classify import regex_cache
from monitor.errors import FetchError
from monitor.importer import reader
from monitor.importer.ahead import MIN_STEPS, Workers
from monitor.importer.ota import ota_steps
from monitor.importer.run import Report, import_steps
from monitor.importer.steps import Step
from monitor.models import CheckOutcome, FetchResult, Watch
from monitor.store import Store
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer, Reply
from tests.peak import run_with_peak
from tests.test_attacks import DOC, imported_change
from tests.test_backfill import AI, URL, FakeWayback, backfill, capture_path, changes
from tests.test_import import BASE, HISTORY, PATH, git, ota_repo, run
from tests.test_import_ahead import stored
from tests.test_sweep_states import NOW, watch


def test_first_seen_with_a_paragraph_row_deleted_is_a_damaged_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: delete the paragraphs row holding the phrase, its id list left as it was
    (every id still at most the largest). Once `first-seen` answered "in none of its
    versions" with exit 1, a false negative a journalist would cite; now the one-line
    damaged-database error, as `history` gives."""
    imported_change(tmp_path, capsys)
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    (pid,) = db.execute("select id from paragraphs where text like '%AI models%'").fetchone()
    db.execute("delete from paragraphs where id = ?", [pid])
    db.execute("insert into paragraphs (id, hash, text) values (?, 0, 'later')", [pid + 9])
    db.commit()
    db.close()
    data = ["--data", str(tmp_path / "data")]
    for args in (["first-seen", DOC, "AI models", *data], ["first-seen", DOC, "our", *data]):
        done = run_cli(capsys, *args)
        assert done.code == 2 and "Traceback" not in done.err, (args, done.err)
        assert len(done.err.strip().splitlines()) == 1 and "is damaged" in done.err, done.err
        assert "lost a paragraph" in done.err, done.err


def test_first_seen_finds_a_phrase_split_over_two_lines_in_turkish_capitals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a Turkish policy in capitals ("KİŞİSEL VERİLERİNİZİ" over two lines) and a
    phrase typed in lower case. ``lower()`` turns İ into i + a combining dot, so once the
    phrase was in none of the versions; now both sides fold alike."""
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "2023-01-05T10-00-00Z.html").write_bytes(policy(token="a"))
    turkish = "<p>YAPAY ZEKA İÇİN KİŞİSEL</p><p>VERİLERİNİZİ kullanabiliriz.</p>"
    (folder / "2023-06-05T10-00-00Z.html").write_bytes(policy(extra=turkish, token="b"))
    assert run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC).code == 0
    data = ["--data", str(tmp_path / "data")]
    for wanted in ("kişisel verilerinizi", "İçin kişisel", "yapay zeka için"):
        done = run_cli(capsys, "first-seen", DOC, wanted, *data)
        assert done.code == 0 and "first seen in v2" in done.out, (wanted, done.out, done.err)


# -- the compiled-pattern cache ------------------------------------------------------------
def old_name(source: str, flags: int) -> str:
    """The file name the cache gave a pattern before its key held a format version."""
    key = f"{sys.version}|{_sre.MAGIC}|{_sre.CODESIZE}".encode()
    digest = hashlib.sha256(key + f"|{flags}|".encode() + source.encode("utf-8", "surrogatepass"))
    return digest.hexdigest() + ".sre"


def test_a_cache_file_of_the_format_before_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: a cache folder written by the code before (no format version in the key)
    holding, under a pattern's name, the code of another pattern. Once it was read as
    that pattern (it matched "other", not "AI"); now the format is in the key."""
    monkeypatch.setenv(regex_cache.ENV, str(tmp_path))
    source, flags = r"\bAI\b", re.IGNORECASE
    wrong = regex_cache._parts(r"\bother\b", flags)
    (tmp_path / old_name(source, flags)).write_bytes(zlib.compress(marshal.dumps(wrong)))
    got = regex_cache.compile_cached(source, flags)
    assert got == re.compile(source, flags) and got.search("train AI") is not None


def aged(path: Path, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(path, (then, then))


def test_the_cache_folder_keeps_only_the_entries_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: rules that change every day (or older formats) leave their entries behind:
    once the folder grew without bound (1,600 files here, and never fewer). Now the first
    entry a process writes removes the entries unused for a long time and, past
    ``MAX_ENTRIES``, the least recently used; nothing but the cache's own files."""
    folder = tmp_path / "regex"
    folder.mkdir()
    monkeypatch.setenv(regex_cache.ENV, str(folder))
    in_use = r"\bmodels?\b"
    regex_cache.compile_cached(in_use, re.IGNORECASE)
    (kept,) = folder.glob("*.sre")
    aged(kept, 200)
    regex_cache.compile_cached(in_use, re.IGNORECASE)  # a hit marks it used again
    for i in range(1_600):
        entry = folder / f"{hashlib.sha256(str(i).encode()).hexdigest()}.sre"
        entry.write_bytes(b"x")
        aged(entry, 100 if i < 400 else 1 + i / 1_000)
    foreign = [folder / "notes.txt", folder / ("f" * 64 + ".sre.bak")]
    for path in foreign:
        path.write_text("not the cache's")
        aged(path, 1_000)
    target = tmp_path / "elsewhere.sre"
    target.write_text("a file a link points at")
    (folder / ("e" * 64 + ".sre")).symlink_to(target)
    plans = [folder / f"{hashlib.sha256(b'plan%d' % i).hexdigest()}.plan3" for i in range(5)]
    for plan in plans:  # the prefilter's split of a pattern is the cache's own file too
        plan.write_bytes(b"x")
        aged(plan, 100)
    monkeypatch.setattr(regex_cache, "_pruned", False)  # as a new process
    regex_cache.compile_cached(r"\bnew pattern\b", re.IGNORECASE)  # a miss: writes, prunes
    assert not any(plan.exists() for plan in plans)
    entries = [p for p in folder.glob("*.sre") if not p.is_symlink()]
    assert len(entries) <= regex_cache.MAX_ENTRIES, len(entries)
    assert kept in entries and len(entries) > regex_cache.MAX_ENTRIES // 2
    assert all(p.exists() for p in foreign) and target.exists()
    assert (folder / ("e" * 64 + ".sre")).is_symlink()
    again = regex_cache.compile_cached(in_use, re.IGNORECASE)
    assert again == re.compile(in_use, re.IGNORECASE)


# -- the sweep --------------------------------------------------------------------------
def test_a_database_error_in_one_document_leaves_the_sweep_going(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    """Attack: one document's stored text damaged, then every page changed. Once the sweep
    stopped at that document (exit 2, "is damaged") and the documents after it waited for
    the next run; now its failure is one line naming it, the others are recorded, exit 1."""
    docs = {d: local_server.url(f"/{d}") for d in ("a", "b", "c")}
    wl = write_watchlist(tmp_path / "watchlist.yaml", docs)
    args = ["check", "--watchlist", str(wl), "--data", str(tmp_path / "data"), "--delay", "0"]
    for d in docs:
        local_server.route(f"/{d}", body=policy(token=f"{d}1"))
    assert run_cli(capsys, *args).code == 0
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    db.execute("update versions set paragraph_ids = '[[1,' where document = 'b'")
    db.commit()
    db.close()
    later = "<li>We may share your posts with our partners.</li>"
    local_server.route("/b", body=policy(extra=later))
    for d in ("a", "c"):  # answered after b: recorded after its failure
        local_server.route(f"/{d}", body=policy(extra=later), delay=0.5)
    done = run_cli(capsys, *args)
    assert done.code == 1 and "Traceback" not in done.err, (done.out, done.err)
    failed = [line for line in done.out.splitlines() if line.startswith("b:")]
    assert len(failed) == 1 and "database are damaged" in failed[0], done.out
    changed = {
        c["document"]
        for c in json.loads(
            run_cli(capsys, "changes", "--json", "--data", str(tmp_path / "data")).out
        )
    }
    assert changed == {"a", "c"}, changed


@pytest.mark.parametrize(("name", "goes_on"), [("SQLITE_CORRUPT", True),
                                               ("SQLITE_CONSTRAINT_UNIQUE", True),
                                               ("SQLITE_FULL", False),
                                               ("SQLITE_IOERR_WRITE", False)])  # fmt: skip
def test_only_an_error_of_one_documents_rows_lets_the_batch_go_on(
    tmp_path: Path, name: str, goes_on: bool
) -> None:
    """The rows of one document: the others are recorded. The whole file or its disk
    (full, failing): the batch stops there as before, those checked before it kept."""
    store = Store(tmp_path / "data")
    docs = ["a", "b", "c"]
    store.sync_documents([watch(d) for d in docs], NOW)

    def check(w: Watch, result: FetchResult | FetchError) -> CheckOutcome:
        with store.transaction():  # as check_document: its own savepoint in the batch
            store.set_failures(w.id, 7)
            if w.id == "b":
                error = sqlite3.DatabaseError(f"{name} in b")
                error.sqlite_errorname = name
                raise error
        return CheckOutcome(w.id, "failed", str(result))

    failure = FetchError("down", url="http://x.test/")
    if goes_on:
        done = record_batch(store, [(watch(d), failure) for d in docs], check)
        assert done["b"].status == "failed" and name in done["b"].message
    else:
        with pytest.raises(sqlite3.DatabaseError, match=name):
            record_batch(store, [(watch(d), failure) for d in docs], check)
    again = Store(tmp_path / "data")
    counts = {d: again.consecutive_failures(d) for d in docs}
    assert counts == {"a": 7, "b": 0, "c": 7 if goes_on else 0}


# -- the zstd snapshot store (m011) --------------------------------------------------------
def zeros_frame(size: int) -> bytes:
    """One zstd frame of ``size`` zero bytes declaring its size, made 1 MB at a time."""
    chunk = bytes(1 << 20)
    squeezer = zstandard.ZstdCompressor(level=1).compressobj(size=size)
    parts = [squeezer.compress(chunk[: min(len(chunk), size - done)])
             for done in range(0, size, len(chunk))]  # fmt: skip
    return b"".join(parts) + squeezer.flush()


def test_a_snapshot_declaring_hundreds_of_mb_is_refused_before_it_is_inflated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a snapshot's frame replaced by 600 MB of zeros (20 KB stored), its recorded
    size set to match. Every limit held (under MAX_SIZE, 1 GB), so `evidence` inflated
    600 MB before the sha256 told it apart; no page the store takes is over 50 MB (an
    imported file; a fetch: 15 MB), so a size past 64 MB is now damaged at once."""
    imported_change(tmp_path, capsys)
    size = 600 << 20
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    db.execute("update snapshots set content = ?, size = ?, base = null, serial = 0",
               [zeros_frame(size), size])  # fmt: skip
    db.commit()
    db.close()
    assert evidence_peak_mb(tmp_path) < 150


def evidence_peak_mb(tmp_path: Path) -> float:
    """Runs `evidence 1` on the damaged store: one damaged-database line, exit 2; its peak
    memory."""
    command = [sys.executable, "-m", "monitor", "evidence", "1", "--out", str(tmp_path / "ev"),
               "--data", str(tmp_path / "data")]  # fmt: skip
    done = run_with_peak(command, timeout=120)
    assert done.code == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "damaged" in done.stderr, done.stderr
    return done.peak_mb


def zlib_zeros(size: int) -> bytes:
    squeezer = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = [squeezer.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + squeezer.flush()


def test_a_text_in_the_form_before_m010_is_inflated_within_a_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a version's text put back in its pre-m010 form (zlib in ``text``, no
    paragraph list) as 600 MB of zeros in 600 KB. Once `evidence` inflated all of it
    (no size bounded that form); now it stops past MAX_SIZE: the damaged-database line."""
    imported_change(tmp_path, capsys)
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    db.execute("update versions set paragraph_ids = null, text = ?, text_base = null"
               " where number = 2", [zlib_zeros(600 << 20)])  # fmt: skip
    db.commit()
    db.close()
    assert evidence_peak_mb(tmp_path) < 250


CACHE_BOMB_CHILD = """
import re, sys
from monitor.classify import regex_cache
source = r"\\bAI\\b"
path = regex_cache.cache_dir() / regex_cache._name(source, re.IGNORECASE)
path.parent.mkdir(parents=True, exist_ok=True)
path.write_bytes(open(sys.argv[1], "rb").read())
assert regex_cache.compile_cached(source, re.IGNORECASE) == re.compile(source, re.IGNORECASE)
print("same")
"""


def test_a_cache_file_inflating_to_hundreds_of_mb_is_not_inflated(tmp_path: Path) -> None:
    """Attack: a compiled-pattern cache file of 400 KB of zlib that inflates to 400 MB
    (under the 16 MB file cap; a 16 MB one inflates to 16 GB). Once every process that
    classified inflated all of it; now no more than a pattern's code can be (32 MB)."""
    bomb = tmp_path / "bomb"
    bomb.write_bytes(zlib_zeros(400 << 20))
    env = {**os.environ, regex_cache.ENV: str(tmp_path / "cache")}
    done = run_with_peak(["env", *(f"{k}={v}" for k, v in env.items()), sys.executable,
                          "-c", CACHE_BOMB_CHILD, str(bomb)], timeout=120)  # fmt: skip
    assert done.code == 0 and done.stdout.strip() == "same", done.stderr
    assert done.peak_mb < 150, done.peak_mb


# -- the stamps that let publishing be skipped -----------------------------------------------
def _garbage(path: Path) -> None:
    path.write_bytes(b"\xff\xfe\x00garbage after a crash\n\x80\n\x81 \x82")


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


STAMP_DAMAGE = {"bytes that are no UTF-8": _garbage, "a directory": _directory,
                "a FIFO": _fifo}  # fmt: skip


@pytest.mark.parametrize("name", ["feeds.stamp", "board.stamp"])
@pytest.mark.parametrize("damage", sorted(STAMP_DAMAGE))
def test_a_damaged_stamp_is_published_over_not_a_hang_or_a_traceback(
    tmp_path: Path, local_server: LocalServer, name: str, damage: str
) -> None:
    """Attack: the publishing stamp (feeds.stamp) or the board's marker (board.stamp) left
    as bytes that are no UTF-8, a FIFO or a directory, then a check that finds nothing
    new and one that finds a change. Once a UnicodeDecodeError traceback ended each check,
    or it waited on the FIFO for ever; now a stamp that does not read is no stamp (the
    check publishes and rewrites it), and a directory there is one line naming it."""
    local_server.route("/p", body=policy())
    wl = write_watchlist(tmp_path / "watchlist.yaml", {"p": local_server.url("/p")})
    data = tmp_path / "data"
    command = [sys.executable, "-m", "monitor", "check", "--watchlist", str(wl),
               "--data", str(data), "--delay", "0"]  # fmt: skip
    assert subprocess.run(command, capture_output=True, timeout=120).returncode == 0
    STAMP_DAMAGE[damage](data / name)
    for extra in ("", "<li>We may train our AI models on your posts.</li>"):
        local_server.route("/p", body=policy(extra=extra))
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"check waited on a {damage} at {name}")
        assert "Traceback" not in done.stderr, done.stderr
        if damage == "a directory" and done.returncode != 0:  # only the operator may remove it
            assert name in done.stderr and len(done.stderr.strip().splitlines()) == 1
            return
        assert done.returncode == 0 and damage != "a directory" or not extra, done.stderr
    assert "train our AI models" in (data / "feeds" / "all.rss").read_text()
    assert (data / name).is_file()


# -- the Wayback importer --------------------------------------------------------------------
@pytest.mark.parametrize("elsewhere", ["/web/20240208120000id_/" + URL, "/web/2024/" + URL,
                                       "/static/notice.html"])  # fmt: skip
def test_a_capture_redirected_to_another_is_not_recorded_under_its_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer,
    elsewhere: str,
) -> None:  # fmt: skip
    """Attack: the archive answers a listed capture (June 2023) with a redirect to another
    capture (February 2024, as the Wayback Machine does for the nearest one), to its
    calendar or to a page of its own. Once the 2024 text was recorded as June 2023's: a
    change dated eight months early (or the archive's page a version); now that step
    fails in one line, and the 2024 change keeps its own date."""
    archive = FakeWayback(local_server)
    local_server.route("/web/2024/" + URL, body=policy(title="Calendar of captures"))
    local_server.route("/static/notice.html", body=policy(title="Archive notice"))
    june = capture_path("20230629183422")
    archive.serve(june, [Reply(status=302, headers={"Location": local_server.url(elsewhere)})])
    done = backfill(capsys, tmp_path, local_server)
    assert done.code == 0 and "Traceback" not in done.err, done.err
    warning = [line for line in done.err.splitlines() if line.startswith("warning")]
    warning = [line for line in warning if "20230629183422" in line]
    assert len(warning) == 1 and "redirected" in warning[0], done.err
    rows = changes(capsys, tmp_path)
    assert [(r["detected_at"], r["origin_ref"]) for r in rows] == [
        ("2024-02-08T12:00:00+00:00", "20240208120000")
    ], rows


def test_a_capture_redirected_to_itself_under_another_address_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    """What the Wayback Machine does with a capture of two addresses (http and https,
    www. or not): a redirect to the same time give or take seconds. That is the capture."""
    archive = FakeWayback(local_server)
    same = "/web/20230629183430id_/" + URL.replace("https://", "https://www.")
    local_server.route(same, body=policy(extra=AI, token="b"))
    june = capture_path("20230629183422")
    archive.serve(june, [Reply(status=301, headers={"Location": local_server.url(same)})])
    done = backfill(capsys, tmp_path, local_server)
    assert done.code == 0 and "redirected" not in done.err, done.err
    rows = changes(capsys, tmp_path)
    assert [r["origin_ref"] for r in rows] == ["20230629183422", "20240208120000"], rows


# -- the import's worker processes -----------------------------------------------------------
def _history(tmp_path: Path) -> list[Step]:
    history = [(f"{2000 + i // 12}-{i % 12 + 1:02d}-01T00:00:00+00:00", "Record", f"- C {i}.\n")
               for i in range(4 * MIN_STEPS)]  # fmt: skip
    return ota_steps(ota_repo(tmp_path, history), PATH)


def _signal_workers(number: int) -> None:
    for worker in multiprocessing.active_children():
        os.kill(worker.pid or 0, number)


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_an_import_outlives_its_workers_dying_or_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Attack: the import's workers killed (the OOM killer) or stopped (a hung worker)
    after the third step. Once a killed worker ended the import in a BrokenProcessPool
    traceback (the next chunk was sent to the broken pool), and a stopped one made it
    wait for ever; now the importing process reads the rest itself (a worker's chunk is
    waited for at most WORKER_DEADLINE s), and stores what one process stores."""
    monkeypatch.setattr(reader, "WORKER_DEADLINE", 2.0)
    steps = _history(tmp_path)
    watch = Watch("example-privacy", "Example", "Example Privacy Policy", "https://example.org/p")
    number = signal.SIGKILL if how == "killed" else signal.SIGSTOP

    def strike(report: Report, step: Step, status: str) -> None:
        if report.steps == 3:
            _signal_workers(number)

    store = Store(tmp_path / "helped")
    store.sync_documents([watch], steps[0].at)
    woken: list[bool] = []

    def wake() -> None:  # a hang, ended: the test fails, not the suite
        woken.append(True)
        _signal_workers(signal.SIGCONT)

    watchdog = threading.Timer(120, wake)
    watchdog.start()
    try:
        with Workers(2) as workers:
            report = import_steps(store, watch, "ota", steps, tick=strike, workers=workers)
    finally:
        watchdog.cancel()
        _signal_workers(signal.SIGKILL)
    assert not woken, "the import waited on a stopped worker"
    assert report.imported == len(steps) and report.problems == []
    whole = Store(tmp_path / "whole")
    whole.sync_documents([watch], steps[0].at)
    import_steps(whole, watch, "ota", steps)
    assert stored(store, watch.id) == stored(whole, watch.id)


# -- the OTA importer's git repositories -------------------------------------------------------
def signed_commit(repo: Path, subject: str) -> None:
    """A commit of the work tree carrying a (bogus) PGP signature header."""
    git(repo, "add", "-A")
    tree = subprocess.run(["git", "-C", str(repo), "write-tree"], capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    parent = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()  # fmt: skip
    body = (f"tree {tree}\nparent {parent}\nauthor OTA <bot@example.org> 1700000000 +0000\n"
            "committer OTA <bot@example.org> 1700000000 +0000\ngpgsig -----BEGIN PGP "
            f"SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\n{subject}\n")  # fmt: skip
    made = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-t", "commit", "-w", "--stdin"],
        input=body, capture_output=True, text=True, check=True,
    )  # fmt: skip
    git(repo, "update-ref", "HEAD", made.stdout.strip())


def test_a_repository_config_cannot_make_the_import_run_a_program(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a versions repository (downloaded, not ours) whose .git/config sets
    ``log.showSignature`` and ``gpg.program``, with a signed commit. Once `import ota`
    ran that program for the signed commit (code execution by importing a history);
    now git runs with those settings overridden."""
    repo = ota_repo(tmp_path)
    (repo / PATH).write_text(BASE.format(extra="- We may train our AI models on your posts.\n"))
    signed_commit(repo, "Record new changes of Example Privacy Policy")
    marker = tmp_path / "ran"
    program = tmp_path / "gpg.sh"
    program.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    program.chmod(0o755)
    for key, value in (("log.showSignature", "true"), ("gpg.program", str(program)),
                       ("core.fsmonitor", str(program))):  # fmt: skip
        git(repo, "config", key, value)
    done = run(capsys, tmp_path, "import", "ota", str(repo), "--document", DOC, "--path", PATH)
    assert done.code == 0, done.err
    assert not marker.exists(), "the repository's gpg.program ran"


def test_a_symlink_committed_at_the_policys_path_is_no_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a commit that turns the policy's file into a symlink whose target reads as
    a sentence, the next one back. Once the link's target was recorded as a version of
    the policy: two false changes (one flagged AI training); now that step fails in one
    line, no change."""
    repo = ota_repo(tmp_path)
    text = (repo / PATH).read_text()
    (repo / PATH).unlink()
    sentence = "We may use your posts and photos to train our AI models " * 3
    (repo / PATH).symlink_to(f"/{sentence}/{sentence}/{sentence}")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record new changes", date="2024-05-01T00:00:00+00:00")
    (repo / PATH).unlink()
    (repo / PATH).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record new changes", date="2024-06-01T00:00:00+00:00")
    log = ["git", "-C", str(repo), "log", "--format=%H"]
    before = len(subprocess.run(log, capture_output=True, text=True, check=True).stdout.split())
    done = run(capsys, tmp_path, "import", "ota", str(repo), "--document", DOC, "--path", PATH)
    assert "Traceback" not in done.err, done.err
    assert "symlink" in done.err, done.err
    assert before == len(HISTORY) + 2 and "2 change(s), 1 AI-training" in done.out, done.out
    assert "1 failed" in done.out and len(changes(capsys, tmp_path)) == 2, done.out
