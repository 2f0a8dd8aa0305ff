"""Hostile input against the features merged with the static site, evidence, imports and
storage deltas: each test is an attack that once worked (see the commit that fixed it)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.cli_helpers import policy, run_cli
from tests.httpserver import LocalServer, Reply
from tests.test_backfill import FakeWayback, backfill
from tests.test_import import AI, BASE, HISTORY, PATH, git, ota_repo, run

DOC = "example-privacy"


def manifest_folder(tmp_path: Path, entries: list[dict[str, object]]) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"snapshots": entries}))
    return folder


def entry(name: str, body: bytes, month: int) -> dict[str, object]:
    return {"file": name, "sha256": hashlib.sha256(body).hexdigest(),
            "fetched_at": f"2025-{month:02d}-01T00:00:00+00:00"}  # fmt: skip


def imported_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "2023-01-05T10-00-00Z.html").write_bytes(policy(token="a"))
    (folder / "2023-06-05T10-00-00Z.html").write_bytes(
        policy(extra="<li>We may train our AI models on your posts.</li>", token="b")
    )
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert done.code == 0, done.err


STORED_FORMS = [  # (table, column, the damage): the bytes of a snapshot, a text's parts
    ("snapshots", "content", "x'78da00112233'"),
    ("versions", "paragraph_ids", "'[[1,'"),
    ("paragraphs", "text", "'a line that was never fetched'"),
]


@pytest.mark.parametrize(("table", "column", "damage"), STORED_FORMS)
def test_a_corrupted_stored_form_is_a_one_line_damaged_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, column: str, damage: str
) -> None:
    """Attack: flip the stored bytes (zlib or delta) of snapshots, or the paragraphs a text
    is made of. Once a zlib.error traceback; now the damaged-database line naming what
    to do."""
    imported_change(tmp_path, capsys)
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    db.execute(f"update {table} set {column} = {damage}")  # noqa: S608 (the test's own)
    db.commit()
    db.close()
    evidence_and_site_say_damaged(tmp_path, capsys)


# A zstd frame header that declares a terabyte (a raw empty last block follows): zstd
# allocates whatever a header declares unless the size is checked first.
TERABYTE_FRAME = b"\x28\xb5\x2f\xfd\xe0" + (1 << 40).to_bytes(8, "little") + b"\x01\x00\x00"
BOMB = 64 << 20  # bytes of zeros, a few KB compressed


def _bomb(codec: str) -> bytes:
    import zlib

    import zstandard

    zeros = bytes(BOMB)
    return zlib.compress(zeros, 9) if codec == "zlib" else zstandard.compress(zeros, 3)


HOSTILE_SNAPSHOTS = {  # what an attacker with the database file writes into the snapshots
    "a frame declaring a terabyte": ("content = ?", lambda: TERABYTE_FRAME),
    "the same with a matching size": ("content = ?, size = 1099511627776", lambda: TERABYTE_FRAME),
    "a 64 MB zstd bomb": ("content = ?", lambda: _bomb("zstd")),
    "a 64 MB zlib bomb in the old form": ("content = ?, codec = null", lambda: _bomb("zlib")),
    "bytes after the frame": ("content = content || ?", lambda: b"\x00"),
    "a snapshot based on itself": ("base = sha256, serial = 1 + 0 * length(?)", lambda: b""),
}


@pytest.mark.parametrize("attack", sorted(HOSTILE_SNAPSHOTS))
def test_a_crafted_snapshot_is_a_bounded_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], attack: str
) -> None:
    """Attack: a crafted zstd or zlib form of a raw snapshot. The frame must declare the
    recorded size, the recorded size must be usable, nothing may follow the frame, and a
    chain of bases must end: otherwise the damaged-database line, never a traceback, an
    allocation of what a header claims, or a loop."""
    imported_change(tmp_path, capsys)
    assignment, value = HOSTILE_SNAPSHOTS[attack]
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    db.execute(f"update snapshots set {assignment}", [value()])  # noqa: S608 (the test's own)
    db.commit()
    db.close()
    evidence_and_site_say_damaged(tmp_path, capsys)


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_a_snapshots_manifest_reads_no_file_outside_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """Attack: a manifest.json naming ``../secret.html``, ``/abs/secret.html`` or a symlink
    out of the folder. Once read and stored as a snapshot (any file the user can read, or
    /dev/zero until memory ran out); now refused, naming the file."""
    secret = tmp_path / "secret.html"
    secret.write_bytes(policy(title="Private notes of the operator"))
    folder = tmp_path / "corpus"
    folder.mkdir()
    name = {"dotdot": "../secret.html", "absolute": str(secret), "symlink": "link.html"}[kind]
    (folder / "link.html").symlink_to(secret)
    manifest_folder(tmp_path, [entry(name, secret.read_bytes(), 1)])
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert "0 step(s) imported" in done.out and "outside" in done.err, done.err
    assert done.err.strip().splitlines()[-1].endswith(f"{name} is outside {folder}: not read")


def test_an_ota_versions_manifest_reads_no_file_outside_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: the corpus layout of `import ota` naming ``../secret.md``."""
    (tmp_path / "secret.md").write_text("# Private notes\n\nNot a policy.\n")
    folder = tmp_path / "versions"
    folder.mkdir()
    versions = [{"file": "../secret.md", "commit": "abc", "date": "2024-01-01T00:00:00Z"}]
    (folder / "manifest.json").write_text(json.dumps({"versions": versions}))
    done = run(capsys, tmp_path, "import", "ota", str(folder), "--document", DOC,
               "--path", "x.md")  # fmt: skip
    assert "0 step(s) imported" in done.out and "outside" in done.err, done.err


def test_a_snapshot_file_over_the_cap_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a huge (here sparse) file in a snapshots manifest: refused by its size,
    not read whole into memory first."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    with (folder / "huge.html").open("wb") as file:
        file.truncate(60_000_000)
    manifest_folder(tmp_path, [entry("huge.html", b"", 1)])
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert "0 step(s) imported" in done.out and "over 50 MB" in done.err, done.err


def test_a_fifo_in_a_snapshots_manifest_is_refused_not_waited_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: the manifest names a FIFO in the folder. Once the import blocked forever
    opening it (no writer ever comes); now refused as not a regular file."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    os.mkfifo(folder / "pipe.html")
    manifest_folder(tmp_path, [entry("pipe.html", b"", 1)])
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert "0 step(s) imported" in done.out and "pipe.html is not a regular file" in done.err


def test_an_ota_version_over_the_cap_is_refused_before_git_prints_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a commit of a 21 MB file (2 MB in git, compressed) in an OTA repository. Once
    printed by git whole into memory and imported (only 10x the cap was refused); now refused
    by its size, which git tells without printing it."""
    repo = ota_repo(tmp_path, HISTORY[:1])
    (repo / PATH).write_text(BASE.format(extra="- A long clause.\n" * 1_300_000))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record new changes of Example Privacy Policy",
        date="2024-01-01T00:00:00+00:00")  # fmt: skip
    done = run(capsys, tmp_path, "import", "ota", str(repo), "--document", DOC, "--path", PATH)
    assert "1 step(s) imported" in done.out and "1 failed" in done.out, done.out
    assert done.err.strip().splitlines()[-1].endswith("is over 20 MB: not read"), done.err


def test_an_archive_step_dated_in_the_future_is_not_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: an OTA commit dated 2099. Once recorded as a change detected in 2099: the
    newest entry of every feed and of the site until then, and every later import refused
    as "older" than it; now refused, and the step before it stays the latest."""
    future = ("2099-01-01T00:00:00+00:00", "Record new changes of Example Privacy Policy", AI)
    repo = ota_repo(tmp_path, [*HISTORY[:1], future])
    done = run(capsys, tmp_path, "import", "ota", str(repo), "--document", DOC, "--path", PATH)
    assert "1 step(s) imported, 0 change(s)" in done.out and "1 failed" in done.out, done.out
    assert "in the future" in done.err.strip().splitlines()[-1]
    out = run_cli(capsys, "changes", "--json", "--data", str(tmp_path / "data")).out
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("answer", "cause"),
    [
        (b'[["timestamp", "original", ["x"]], ["20240101000000", "https://a.test/", 1]]',
         "the CDX answer's first row is not a list of field names"),
        (b'[["timestamp", "original"], ["20241399000000", "https://a.test/"]]',
         "a CDX row's timestamp is not a time: '20241399000000'"),
        (b"[" * 50_000 + b"]" * 50_000, "the CDX answer is not JSON"),
    ],
)  # fmt: skip
def test_a_cdx_answer_of_wrong_types_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer,
    answer: bytes, cause: str,
) -> None:  # fmt: skip
    """Attack: a CDX server answering a header with a list in it, a 14-digit timestamp that
    is no date, or arrays nested 50,000 deep. Once a TypeError, ValueError or RecursionError
    traceback; now the one-line error of any CDX answer not as expected."""
    FakeWayback(local_server, [Reply(body=answer, content_type="application/json")])
    done = backfill(capsys, tmp_path, local_server, "--retries", "0")
    assert done.code == 1 and len(done.err.strip().splitlines()) == 1, done.err
    assert done.err.startswith(f"error: example-privacy: wayback: {cause}"), done.err


@pytest.mark.parametrize("days", ["nan", "inf", "1e12", "365001", "-1"])
def test_prune_refuses_a_day_count_that_is_no_date_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    """Attack: `prune --raw-older-than nan` (or inf, 1e12). Once a ValueError or
    OverflowError traceback; now a usage error, and nothing is pruned."""
    imported_change(tmp_path, capsys)
    done = run_cli(capsys, "prune", "--raw-older-than", days, "--data", str(tmp_path / "data"))
    assert done.code == 2 and "Traceback" not in done.err
    assert "--raw-older-than" in done.err and "days" in done.err, done.err


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_serve_refuses_a_port_out_of_range_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], port: str
) -> None:
    """Attack: `serve --port 99999`. Once an OverflowError traceback from bind(); now a
    usage error naming the option."""
    (tmp_path / "data" / "feeds").mkdir(parents=True)
    (tmp_path / "data" / "feeds" / "index.html").write_text("<p>site</p>")
    done = run_cli(capsys, "serve", "--port", port, "--data", str(tmp_path / "data"))
    assert done.code == 2 and "Traceback" not in done.err and "--port" in done.err, done.err


@pytest.mark.parametrize(
    "args",
    [["--delay", "inf"], ["--delay", "nan"], ["--timeout", "nan"], ["--timeout", "inf"],
     ["--wait", "nan"], ["--delay", "-1"]],
)  # fmt: skip
def test_backfill_refuses_seconds_that_are_no_duration_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer,
    args: list[str],
) -> None:  # fmt: skip
    """Attack: `backfill --delay inf` (or nan, --timeout nan, --wait nan). Once an
    OverflowError or ValueError traceback from the sleep, the HTTP client or the lock;
    now a usage error naming the option, before any request."""
    FakeWayback(local_server)
    done = backfill(capsys, tmp_path, local_server, *args)
    assert done.code == 2 and "Traceback" not in done.err and args[0] in done.err, done.err
    assert not local_server.requests("/cdx/search/cdx")


@pytest.mark.parametrize("command", ["snapshots", "ota"])
def test_a_manifest_nested_deep_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Attack: a manifest.json of arrays nested 100,000 deep. Once a RecursionError
    traceback from json; now the one-line "not a manifest" error."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    path = ["--path", "x.md"] if command == "ota" else []
    done = run(capsys, tmp_path, "import", command, str(folder), "--document", DOC, *path)
    assert done.code == 1 and "Traceback" not in done.err, done.err
    assert "manifest.json is not a" in done.err and len(done.err.strip().splitlines()) == 1


def test_a_snapshot_file_name_cannot_write_escape_sequences_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a snapshot file named with an OSC escape (retitles the terminal window), a
    bell and a bidi override. Once printed raw in the error line (warnings were cleaned,
    the fatal error was not); now dropped or named like every other terminal line."""
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "\x1b]0;pwned\x07\u202eevil.html").write_bytes(policy())
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert done.code == 1 and "its name is not a time" in done.err
    assert not {"\x1b", "\x07", "\u202e"} & set(done.err), repr(done.err)
    assert "<U+202E>evil.html" in done.err


def test_evidence_of_a_version_whose_snapshot_is_not_stored_is_still_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a version whose raw snapshot is not in the database (lost, or recorded before
    snapshots were kept). Once a KeyError traceback from `evidence`; now the folder holds
    the texts, the diff and the other snapshot, and says which raw page is missing."""
    imported_change(tmp_path, capsys)
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    # (Deleting v1's snapshot itself would be damage now: v2's is a delta on it.)
    lost = hashlib.sha256(b"a page never stored").hexdigest()
    db.execute("update versions set snapshot_sha256 = ? where number = 1", [lost])
    db.commit()
    db.close()
    out = tmp_path / "ev"
    done = run_cli(capsys, "evidence", "1", "--out", str(out), "--data", str(tmp_path / "data"))
    assert done.code == 0, done.err
    names = sorted(p.name for p in out.iterdir())
    assert "before-v1-text.txt" in names and not any(n.startswith("before-v1-snap") for n in names)
    assert any(n.startswith("after-v2-snapshot-") for n in names)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["versions"]["before"]["snapshot_file"] is None
    assert f"holds no snapshot {lost}" in (out / "README.txt").read_text()
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == len(names) - 1  # every file but SHA256SUMS itself


def evidence_and_site_say_damaged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`evidence` and `site` on a damaged store: one line saying so, no traceback."""
    for args in (["evidence", "1", "--out", str(tmp_path / "ev")],
                 ["site", "--out", str(tmp_path / "site")]):  # fmt: skip
        done = run_cli(capsys, *args, "--data", str(tmp_path / "data"))
        assert done.code != 0 and "Traceback" not in done.err
        assert len(done.err.strip().splitlines()) == 1 and "damaged" in done.err, done.err
