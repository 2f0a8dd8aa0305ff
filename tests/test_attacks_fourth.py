"""Hostile input against what changed last: the phrase search (m010), the compiled-pattern
cache, the sweep's recording, the zstd snapshot store (m011), the importers and the
board's marker. Each test is an attack that once worked (see the commit that fixed it)."""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import hashlib
import marshal
import os
import re
import sqlite3
import sys
import time
import zlib
from pathlib import Path

import pytest

from monitor.classify import regex_cache
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
    monkeypatch.setattr(regex_cache, "_pruned", False)  # as a new process
    regex_cache.compile_cached(r"\bnew pattern\b", re.IGNORECASE)  # a miss: writes, prunes
    entries = [p for p in folder.glob("*.sre") if not p.is_symlink()]
    assert len(entries) <= regex_cache.MAX_ENTRIES, len(entries)
    assert kept in entries and len(entries) > regex_cache.MAX_ENTRIES // 2
    assert all(p.exists() for p in foreign) and target.exists()
    assert (folder / ("e" * 64 + ".sre")).is_symlink()
    again = regex_cache.compile_cached(in_use, re.IGNORECASE)
    assert again == re.compile(in_use, re.IGNORECASE)
