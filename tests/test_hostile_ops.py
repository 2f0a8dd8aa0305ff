"""A data directory an operator broke, or a machine that fails under the monitor.

Damaged, foreign, newer and older databases, a data path that is a file, a read-only
data directory, a full disk, and cron's `check --quiet`: each gets one line on stderr
naming the file and what to do, the documented exit status, no leftover files, and
nothing already recorded is lost. Read-only commands work on a read-only directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import sqlite3
import string
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.cli import main
from monitor.cli.read import NO_BASE_URL
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer
from tests.pdfmaker import make_pdf

CASES = yaml.safe_load((Path(__file__).parent / "data" / "hostile_ops_cases.yaml").read_text())
AI_SENTENCE = "<li>We may use your public posts and photos to train our AI models.</li>"
REPO = Path(__file__).parents[1]
NOBODY = 65534
Completed = subprocess.CompletedProcess[str]


def cli(*args: str, user: list[str] | None = None, **options: Any) -> Completed:
    """`policy-monitor ARGS` in a real subprocess (real stderr, real file permissions),
    as another user when ``user`` is a command prefix such as :func:`unprivileged`'s."""
    return subprocess.run(
        [*(user or []), sys.executable, "-m", "monitor", *args], capture_output=True,
        text=True, timeout=60, cwd=REPO, **options,
    )  # fmt: skip


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.is_dir() else set()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real data directory: one document, two versions, one AI-training change."""
    root = tmp_path_factory.mktemp("recorded")
    with LocalServer() as server:
        watchlist = write_watchlist(root / "w.yaml", {"doc": server.url("/p")})
        args = ["check", "-q", "--watchlist", str(watchlist), "--data", str(root / "data"),
                "--delay", "0"]  # fmt: skip
        for body in (policy(), policy(extra=AI_SENTENCE)):
            server.route("/p", body=body)
            assert main(args) is None  # in-process: a subprocess costs a second of imports
    return root / "data"


def damage(data: Path, how: str) -> None:
    db = data / "monitor.db"
    if how == "random-bytes":
        db.write_bytes(random.Random(1).randbytes(50_000))
    elif how == "truncated":
        os.truncate(db, db.stat().st_size // 3 // 4096 * 4096)
    elif how == "foreign":
        db.unlink()
        with sqlite3.connect(db) as conn:
            conn.executescript("create table users(id, name); create table orders(id, total);")
        conn.close()
    elif how in ("newer", "older"):
        with sqlite3.connect(db) as conn:
            if how == "newer":
                conn.execute(
                    "insert into _sqlite_migrations (migration_set, name, applied_at)"
                    " values ('policy-monitor', 'm901_from_the_future', '2030-01-01')"
                )
            else:  # as before release 0.1's m004: no passages columns, no record of them
                conn.execute("delete from _sqlite_migrations where name = 'm004_change_passages'")
                conn.execute("alter table changes drop column added")
                conn.execute("alter table changes drop column removed")
        conn.close()
    elif how == "data-is-file":
        shutil.rmtree(data)
        data.write_text("not a directory\n")
    elif how == "no-database":
        shutil.rmtree(data)
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_unusable_data_gets_one_line_and_is_left_alone(
    case: dict[str, Any], recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(recorded, data)
    damage(data, case["setup"])
    watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": "http://127.0.0.1:9/p"})
    before, db_before = files(data), digest(data / "monitor.db")
    for command in case["commands"]:
        extra = ["--watchlist", str(watchlist)] if command == "check" else []
        result = run_cli(capsys, *command.split(), "--data", str(data), *extra)
        assert (result.code, result.out) == (case["exit"], ""), (command, result)
        line = one_error_line(result.err)
        for words in case["says"]:
            assert words.replace("DATA", str(data)) in line, (command, line)
    assert digest(data / "monitor.db") == db_before  # nothing written, nothing "repaired"
    assert files(data) - before <= {"monitor.lock"}  # the check's lock file, nothing else


def test_an_older_database_is_upgraded_by_check_then_read(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(recorded, data)
    damage(data, "older")
    watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": "http://127.0.0.1:9/p"})
    check = run_cli(
        capsys, "check", "--watchlist", str(watchlist), "--data", str(data), "--retries", "0"
    )
    assert (check.code, check.err) == (1, ""), check  # upgraded; the page itself is down
    assert "doc: failed: could not connect" in check.out
    result = run_cli(capsys, "changes", "--data", str(data))
    assert result.code == 0 and "AI-training added" in result.out, result


# A read-only data directory ----------------------------------------------------------


def unprivileged() -> list[str]:
    """A command prefix that drops root: root ignores file permissions, so chmod alone
    would let this test pass without proving anything."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")  # util-linux
    assert setpriv, "running as root: install util-linux's setpriv to drop privileges"
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.fixture
def read_only_copy(recorded: Path) -> Iterator[Path]:
    """The recorded data directory, copied where an unprivileged user can read it, then
    made read-only (directories 555, files 444)."""
    root = Path(tempfile.mkdtemp(prefix="policy-monitor-ro-"))
    data = root / "data"
    shutil.copytree(recorded, data)
    os.chmod(root, 0o755)
    for path in [data, *data.rglob("*")]:
        os.chmod(path, 0o555 if path.is_dir() else 0o444)
    try:
        yield data
    finally:
        for path in [data, *data.rglob("*")]:
            os.chmod(path, 0o755)
        shutil.rmtree(root)


# Runs several commands in one process (imports cost a second per process): each through
# the CLI's real entry point, with its own stdout, stderr and exit status.
BATCH = """
import contextlib, io, json, sys
from monitor.cli import main
results = []
for args in json.loads(sys.argv[1]):
    out, err, code = io.TextIOWrapper(io.BytesIO(), "utf-8"), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    out.flush()
    results.append([code, out.buffer.getvalue().decode(), err.getvalue()])
print(json.dumps(results))
"""


def batch(commands: list[list[str]], user: list[str]) -> list[tuple[int, str, str]]:
    done = subprocess.run(
        [*user, sys.executable, "-c", BATCH, json.dumps(commands)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [tuple(r) for r in json.loads(done.stdout)]


def test_read_only_commands_work_on_a_read_only_data_directory(read_only_copy: Path) -> None:
    data, as_user = read_only_copy, unprivileged()
    probe = subprocess.run([*as_user, "touch", str(data / "probe")], capture_output=True)
    assert probe.returncode != 0, "the directory is writable: this test would prove nothing"
    before = files(data)
    os.chmod(data.parent, 0o755)  # the watchlist, beside the read-only data directory
    watchlist = write_watchlist(data.parent / "w.yaml", {"doc": "http://127.0.0.1:9/p"})
    expected = {
        "status": "doc", "changes": "AI-training added", "history doc": "v2",
        "diff doc": "train our AI models", "explain 1": "train our AI models",
        "feed": "<rss", "changes --json": '"ai_training": true',
    }  # fmt: skip
    commands = [[*c.split(), "--data", str(data)] for c in expected]
    commands.append(["check", "--data", str(data), "--watchlist", str(watchlist)])
    *reads, check = batch(commands, as_user)
    for (command, shows), (code, out, err) in zip(expected.items(), reads, strict=True):
        said = f"{NO_BASE_URL}\n" if command == "feed" else ""  # the one-line note, no URL
        assert (code, err) == (0, said), (command, err)
        assert shows in out, command
    assert (check[0], check[1]) == (2, ""), check
    line = one_error_line(check[2])
    assert f"cannot write to data directory {data}" in line and "writable" in line
    assert files(data) == before  # no -wal, -shm, lock or temporary file appeared


# A full disk ---------------------------------------------------------------------------


def noise_page(seed: int, size: int) -> bytes:
    """A policy page of incompressible words, so its snapshot cannot fit a nearly full disk."""
    rng = random.Random(seed)
    words = (
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
        for _ in range(size // 6)
    )
    return policy(extra=f"<li>{' '.join(words)}</li>")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A 4 MB tmpfs when this may mount one (root), else a per-file size limit
    (RLIMIT_FSIZE: writes past it fail with EFBIG). Says which in the test's output."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                              capture_output=True)  # fmt: skip
        if done.returncode == 0:
            try:
                yield mount, "tmpfs"
            finally:
                subprocess.run(["umount", "-l", str(mount)], check=True)
            return
    yield mount, "rlimit"


def fill(mount: Path, how: str, leave: int) -> Callable[[], None] | None:
    """Leaves ``leave`` bytes of space; the preexec that enforces it for a subprocess."""
    if how == "tmpfs":
        stats = os.statvfs(mount)
        (mount / "filler").write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - leave))
        return None
    size = sum(p.stat().st_size for p in mount.rglob("monitor.db")) + leave
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def counts(db: Path) -> tuple[int, ...]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        tables = ("snapshots", "fetches", "versions", "changes")
        return tuple(conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables)
    finally:
        conn.close()


def test_a_full_disk_rolls_the_check_back_and_the_next_run_continues(
    small_disk: tuple[Path, str], local_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mount, how = small_disk
    data = mount / "data"
    local_server.route("/p", body=policy())
    watchlist = write_watchlist(mount.parent / "w.yaml", {"doc": local_server.url("/p")})
    args = ("check", "--watchlist", str(watchlist), "--data", str(data), "--delay", "0", "-q")
    assert run_cli(capsys, *args).code == 0
    before = counts(data / "monitor.db")
    local_server.route("/p", body=noise_page(1, 200_000))
    limit = fill(mount, how, leave=32 * 1024)
    full = cli(*args, preexec_fn=limit)
    with capsys.disabled():
        print(f"\nfull disk simulated with {how}: {full.stderr.strip()}")
    assert (full.returncode, full.stdout) == (1, ""), full
    line = one_error_line(full.stderr)
    assert str(data / "monitor.db") in line and "rolled back" in line
    assert counts(data / "monitor.db") == before  # the failed check left nothing half-done
    leftovers = {f for f in files(data) if f.endswith((".tmp", "-journal", "-wal", "-shm"))}
    assert not leftovers
    (mount / "filler").unlink(missing_ok=True)  # space comes back
    again = run_cli(capsys, *args)
    assert (again.code, again.err) == (0, ""), again
    assert "changed: v1 -> v2" in again.out
    assert counts(data / "monitor.db")[2] == before[2] + 1


# cron's `check --quiet` ----------------------------------------------------------------

PARAGRAPHS = (
    "<p>We collect the content you create, such as posts and photos, and how you use our "
    "services every day of the week.</p><p>You can access, correct or delete your "
    "information at any time you like, from your settings page.</p>"
)
PAGES: dict[str, tuple[bytes, str]] = {
    "xml-prolog": (
        b'<?xml version="1.0" encoding="utf-8"?>\n<policy><h1>Terms</h1>'
        + PARAGRAPHS.encode()
        + b"</policy>",
        "text/html",
    ),
    "xhtml": (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0'
        b' Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns='
        b'"http://www.w3.org/1999/xhtml"><head><title>T</title></head><body><main>'
        + PARAGRAPHS.encode()
        + b"</main></body></html>",
        "application/xhtml+xml",
    ),
    "plain": (
        b"Privacy policy\n\nWe collect the content you create, such as posts and photos, and"
        b" how you use our services.\n\nYou can access, correct or delete your information.\n",
        "text/plain; charset=utf-8",
    ),
    "pdf": (
        make_pdf(
            [
                "Privacy policy",
                "We collect the content you create, such as posts.",
                "You can access, correct or delete your information at any time.",
            ]
        ),
        "application/pdf",
    ),  # fmt: skip
    "html": (policy(), "text/html; charset=utf-8"),
}


def test_check_quiet_says_nothing_unless_something_happened(
    local_server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, (body, content_type) in PAGES.items():
        local_server.route(f"/{name}", body=body, content_type=content_type)
    docs = {name: local_server.url(f"/{name}") for name in PAGES}
    watchlist = write_watchlist(tmp_path / "w.yaml", docs)
    args = ("check", "--quiet", "--watchlist", str(watchlist), "--data", str(tmp_path / "d"),
            "--delay", "0")  # fmt: skip
    first = run_cli(capsys, *args)  # in-process (pytest turns any warning into an error)
    assert (first.code, first.out, first.err) == (0, "", ""), first
    body, content_type = PAGES["xml-prolog"]
    changed = body.replace(b"</policy>", AI_SENTENCE.encode() + b"</policy>")
    local_server.route("/xml-prolog", body=changed, content_type=content_type)
    local_server.route("/html", status=503)
    # a fresh process: Python's own warning output; the failure is an alert at once
    result = cli(*args, "--retries", "0", "--alert-after", "1")
    assert (result.returncode, result.stderr) == (1, ""), result
    lines = sorted(result.stdout.splitlines())  # the unchanged xhtml, plain and pdf: silent
    assert len(lines) == 2, lines
    assert lines[0].startswith("html: ALERT: monitoring failing: 1 check in a row failed since")
    assert "server error (HTTP 503" in lines[0], lines
    assert lines[1].startswith("xml-prolog: changed: v1 -> v2 (AI-training language added)")
