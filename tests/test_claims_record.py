"""A claim's record is written over the last one in place (perf9: truncating the lock file
first cost ~3 ms of I/O per document fetched). Whatever an earlier holder left in the file
(a longer record, one of an older version, nothing), the process turned away is told who
holds the claim now, and a second claim on a held document is still refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from monitor.claims import LOCKS_FOLDER, Claims

LONG = json.dumps({"pid": 1, "host": "h" * 900, "command": "daemon", "started": "2020"})
LEFT = {
    "nothing": b"",
    "an unpadded record of an older version": LONG[:200].encode(),
    "a record longer than the padding": LONG.encode(),
    "a padded record": json.dumps({"pid": 2, "host": "x"}).encode().ljust(512),
}


@pytest.mark.parametrize("left", LEFT.values(), ids=LEFT.keys())
def test_the_process_turned_away_reads_the_current_holder(tmp_path: Path, left: bytes) -> None:
    folder = tmp_path / LOCKS_FOLDER
    folder.mkdir()
    (folder / "fetch-doc.lock").write_bytes(left)
    holder, other = Claims(tmp_path, "check"), Claims(tmp_path, "daemon")
    assert holder.take("doc") is None
    busy = other.take("doc")  # a second open file description: flock refuses it
    assert busy is not None and busy.startswith(f"pid {os.getpid()} on "), busy
    assert ": check, fetching since 20" in busy, busy
    holder.release("doc")
    assert other.take("doc") is None  # released: the other may fetch it
    assert holder.take("doc") is not None
    other.release_all()
