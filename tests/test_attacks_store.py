"""Hostile input against what the last session added: the paragraph store (m010), the
compiled-pattern cache, the sweep's batched recording and the importers. Each test is an
attack that once worked (see the commit that fixed it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli_helpers import policy, run_cli
from tests.test_attacks import DOC, imported_change
from tests.test_import import run

# A run list damaged in ways a flipped byte or a bad write can leave: each must be the
# one-line damaged-database error, never a traceback, a MemoryError or a hang.
DAMAGED_LISTS = [
    "[[1,",  # cut short
    "[1e400]",  # a number JSON reads as infinity
    "[[1,1e18]]",  # a run of 10^18 ids
    '{"a":1}',  # no list
    '["x"]',  # no id
    "[[5]]",  # a run of one number
    "[[true,false]]",  # booleans are no ids
    "[0]",  # below the first id
    "[[3,2]]",  # a run backwards
    "[" * 100_000,  # nested past Python's recursion limit
]


@pytest.mark.parametrize("damage", DAMAGED_LISTS, ids=lambda d: d[:12])
def test_a_damaged_paragraph_list_is_a_one_line_damaged_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """Attack: damage the latest version's ``paragraph_ids``. Once `first-seen` ended in a
    JSONDecodeError, ValueError, TypeError or IndexError traceback, and every reader
    (`history`, `evidence`, `site`, `first-seen`, the next import) in an OverflowError,
    a MemoryError or a RecursionError one; now each says the database is damaged."""
    imported_change(tmp_path, capsys)
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    db.execute("update versions set paragraph_ids = ? where number = 2", [damage])
    db.commit()
    db.close()
    later = tmp_path / "later"
    later.mkdir()
    (later / "2024-01-05T10-00-00Z.html").write_bytes(policy(token="c"))
    data = ["--data", str(tmp_path / "data")]
    for args in (["history", DOC, *data], ["first-seen", DOC, "AI models", *data],
                 ["evidence", "1", "--out", str(tmp_path / "ev"), *data],
                 ["site", "--out", str(tmp_path / "site"), *data]):  # fmt: skip
        done = run_cli(capsys, *args)
        assert done.code == 2 and "Traceback" not in done.err, (args, done.err)
        assert len(done.err.strip().splitlines()) == 1 and "is damaged" in done.err, done.err
    done = run(capsys, tmp_path, "import", "snapshots", str(later), "--document", DOC)
    assert "is damaged" in done.err and "Traceback" not in done.err, done.err
