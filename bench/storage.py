"""Storage: bytes per version for a one-sentence edit, and per check of an unchanged page.

A real policy (the last Google privacy version of ../shared/corpus, ODC-BY 1.0) is served
as replay.py serves it: rendered, in chrome whose tokens, clock and "trending" box change
on every request. Into a real store, in this process:
- EDITS checks, each adding one sentence to a different paragraph: the database's growth
  per version (file size after a WAL checkpoint and VACUUM) against the floor, the zlib-compressed
  text diff of the edit (``difflib.unified_diff``, no context lines);
- CHECKS checks of the same text in fresh chrome (a new token each time): the growth per
  check, against the zlib-compressed diff of the raw bytes of two such fetches (what an
  exact copy of each fetch must at least cost).
Targets (issue 15): one-sentence edit <= 5x the compressed diff; an unchanged page's
raw bytes stored once per text version or as a compressed delta.

Run: .venv/bin/python bench/storage.py [--edits 60] [--checks 100]
(60 edits: long enough for a new whole snapshot to be taken inside the window.)
"""

from __future__ import annotations

import argparse
import difflib
import sqlite3
import tempfile
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import machine, table, verdict
from hosts import policy_html

EDIT_TARGET = 5.0


def db_bytes(data: Path) -> int:
    conn = sqlite3.connect(data / "monitor.db")
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.execute("vacuum")  # no free pages or half-empty pages counted
    # VACUUM in WAL mode writes the WAL: only a checkpoint puts it in the file (the store's
    # own connection is still open, so closing this one does not).
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    return (data / "monitor.db").stat().st_size


def table_bytes(data: Path) -> dict[str, int]:
    """Bytes of each table and index (SQLite's dbstat pages), after the same VACUUM; empty
    where SQLite was built without dbstat."""
    db_bytes(data)
    conn = sqlite3.connect(data / "monitor.db")
    try:
        return dict(conn.execute("select name, sum(pgsize) from dbstat group by name").fetchall())
    except sqlite3.OperationalError:
        return {}
    finally:
        conn.close()


def breakdown(before: dict[str, int], after: dict[str, int], edits: int) -> str:
    """Where the bytes of one edit go, largest first."""
    grown = {name: (after.get(name, 0) - before.get(name, 0)) / edits for name in after}
    rows = [[name, f"{size:.0f}"] for name, size in sorted(grown.items(), key=lambda kv: -kv[1])
            if size >= 1]  # fmt: skip
    return table(["table or index", "bytes per edit"], rows)


def compressed_diff(old: str, new: str) -> int:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), n=0, lineterm="")
    return len(zlib.compress("\n".join(lines).encode(), 9))


def run(edits: int, checks: int) -> tuple[list[str], list[str], float, float, str]:
    import replay

    from monitor.check.pipeline import check_document
    from monitor.extract.html import extract_text
    from monitor.models import FetchResult, Watch
    from monitor.store import Store

    policy = policy_html()
    paragraphs = policy.split("</p>")
    url = "http://127.0.0.1/p"
    watch = Watch("p", "C", "T", url)
    with tempfile.TemporaryDirectory() as name:
        data = Path(name)
        store = Store(data)
        store.sync_documents([watch], datetime.now(UTC))
        at = datetime.now(UTC)

        def check(html: str) -> tuple[str, bytes]:
            nonlocal at
            at += timedelta(hours=6)
            body = replay.noisy_page("Privacy", html)
            result = FetchResult(url, url, 200, (), body, "text/html", at, 0.1)
            outcome = check_document(store, watch, result, clock=lambda: at)
            return outcome.status, body

        check(policy)
        floors, bodies = [], []
        tables = table_bytes(data)
        before = db_bytes(data)
        for i in range(edits):
            old = extract_text(replay.noisy_page("Privacy", "</p>".join(paragraphs)))
            k = 10 + (7 * i) % (len(paragraphs) - 11)  # wraps: 60 edits > the paragraphs
            paragraphs[k] += f" We also keep a record number {i} of this edit for our files."
            status, _ = check("</p>".join(paragraphs))
            new = extract_text(replay.noisy_page("Privacy", "</p>".join(paragraphs)))
            floors.append(compressed_diff(old, new))
        per_version = (db_bytes(data) - before) / edits
        where = breakdown(tables, table_bytes(data), edits)
        before = db_bytes(data)
        for _ in range(checks):
            status, body = check("</p>".join(paragraphs))
            assert status == "unchanged", status
            bodies.append(body)
        per_check = (db_bytes(data) - before) / checks
        store.close()
    floor_edit = sum(floors) / len(floors)
    old, new = bodies[0].decode().splitlines(), bodies[1].decode().splitlines()
    raw = "\n".join(difflib.unified_diff(old, new, n=0, lineterm="")).encode()
    floor_check = len(zlib.compress(raw, 9))
    size = len(bodies[0])
    edit_row = ["one-sentence edit", f"{size / 1e3:.0f}", f"{per_version / 1e3:.1f}",
                f"{floor_edit:.0f}", f"{per_version / floor_edit:.1f}"]  # fmt: skip
    check_row = ["unchanged text, new token", f"{size / 1e3:.0f}", f"{per_check / 1e3:.1f}",
                 f"{floor_check}", f"{per_check / floor_check:.1f}"]  # fmt: skip
    return edit_row, check_row, per_version / floor_edit, per_check, where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--checks", type=int, default=100)
    args = parser.parse_args()
    print(f"machine: {machine()}; database growth after a WAL checkpoint and VACUUM\n")
    edit_row, check_row, ratio, per_check, where = run(args.edits, args.checks)
    header = ["case", "page KB", "stored KB per check", "floor bytes", "x floor"]
    print(table(header, [edit_row, check_row]))
    print(f"\nWhere an edit's bytes go (dbstat pages):\n\n{where}")
    print(f"\nFIGURE storage: one-sentence edit {ratio:.1f}x the compressed diff (target <= "
          f"{EDIT_TARGET:g}x: {verdict(ratio, EDIT_TARGET)}); unchanged page with a changing "
          f"token {per_check / 1e3:.1f} KB per check; per year at 6 h: "
          f"{per_check * 4 * 365 / 1e6:.1f} MB per document")  # fmt: skip


if __name__ == "__main__":
    main()
