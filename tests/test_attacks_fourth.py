"""Hostile input against what changed last: the phrase search (m010), the compiled-pattern
cache, the sweep's recording, the zstd snapshot store (m011), the importers and the
board's marker. Each test is an attack that once worked (see the commit that fixed it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli_helpers import policy, run_cli
from tests.test_attacks import DOC, imported_change
from tests.test_import import run


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
