"""Hostile input against the features merged with the static site, evidence, imports and
storage deltas: each test is an attack that once worked (see the commit that fixed it)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli_helpers import policy, run_cli
from tests.test_import import run

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


@pytest.mark.parametrize("table", ["snapshots", "versions"])
def test_a_corrupted_stored_form_is_a_one_line_damaged_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str
) -> None:
    """Attack: flip the stored bytes (zlib or delta) of snapshots or texts. Once a zlib.error
    traceback; now the damaged-database line naming what to do."""
    imported_change(tmp_path, capsys)
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    column = "content" if table == "snapshots" else "text"
    db.execute(f"update {table} set {column} = x'78da00112233'")  # noqa: S608 (the test's own)
    db.commit()
    db.close()
    for args in (["evidence", "1", "--out", str(tmp_path / "ev")],
                 ["site", "--out", str(tmp_path / "site")]):  # fmt: skip
        done = run_cli(capsys, *args, "--data", str(tmp_path / "data"))
        assert done.code != 0 and "Traceback" not in done.err
        assert len(done.err.strip().splitlines()) == 1 and "damaged" in done.err, done.err
