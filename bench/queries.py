"""Queries on a large store: `changes --json`, `feed`, `status` with 10,000 changes.

A store is made with the monitor's own schema (``Store``), then filled in bulk: DOCS
documents, CHANGES changes (one version each, a 1.5 KB diff, every tenth flagged as
AI-training; stored as a check stores them: the diff and passages one zstd frame on the
paragraphs around the edit, the text a list of paragraphs) and FETCHES fetch attempts (a
year of 6-hourly checks of 50 documents is 73,000). Each command runs RUNS times in a
fresh process; the median wall time is shown next to the floor measured in the same run,
`python -c pass`, and the start-up of the CLI (`policy-monitor --help`).
Target (issue 15): each command <= 0.5 s.

Run: .venv/bin/python bench/queries.py [--changes 10000] [--fetches 73000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

from common import machine, median, run_child, table, verdict

TARGET = 0.5
DIFF = "\n".join(f"Line {i} of the policy {{+with an added clause+}} [-and a removed one-]"
                 for i in range(30))  # fmt: skip
FLAG = {
    "sentence": "We may use your posts to train our AI models.",
    "side": "added",
    "phrase": "train our AI models",
    "category": "public-data-training",
    "rule": "r1",
}


def fill(data: Path, docs: int, changes: int, fetches: int) -> None:
    from monitor.store import Store, change_body

    Store(data).close()  # the schema, by the monitor's migrations
    start = datetime(2025, 1, 1, tzinfo=UTC)
    when = [(start + timedelta(minutes=i)).isoformat(timespec="seconds") for i in range(fetches)]
    with sqlite3.connect(data / "monitor.db") as db:
        db.executemany(
            "insert into documents (id, company, title, url, added_at, consecutive_failures,"
            " current_version) values (?, ?, ?, ?, ?, 0, ?)",
            [(f"doc-{d}", f"Company {d % 10}", f"Policy {d}", f"https://example.com/{d}",
              when[0], changes // docs + 1) for d in range(docs)],
        )  # fmt: skip
        # Each version: the 30 lines of DIFF's policy, then a line of its own.
        lines = DIFF.split("\n") + [f"Version {i}." for i in range(changes + docs)]
        db.executemany("insert into paragraphs (id, hash, text) values (?, 0, ?)",
                       list(enumerate(lines, 1)))  # fmt: skip
        db.executemany(
            "insert into versions (document, number, text_sha256, key_sha256, paragraph_ids,"
            " snapshot_sha256, first_seen, last_seen, extractor, upgrade)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, '2', 0)",
            [(f"doc-{i % docs}", i // docs + 1,
              sha256("\n".join(lines[:30] + [lines[30 + i]]).encode()).hexdigest(),
              sha256(f"k{i}".encode()).digest(), f"[[1,30],{31 + i}]", f"s{i}", when[i], when[i])
             for i in range(changes + docs)],
        )  # fmt: skip
        body = (DIFF, ["with an added clause"], ["and a removed one"])
        rows = [{"document": f"doc-{i % docs}", "from_version": i // docs + 1,
                 "to_version": i // docs + 2} for i in range(changes)]  # fmt: skip
        db.executemany(
            "insert into changes (document, detected_at, kind, from_version, to_version,"
            " added_chars, removed_chars, body, flags, ai_related, ai_training, note,"
            " classifier) values (?, ?, 'changed', ?, ?, 40, 20, ?, ?, '[]', ?, '', 'rules4')",
            [(row["document"], when[i * fetches // changes], row["from_version"],
              row["to_version"], change_body.pack(db, row, body),
              json.dumps([FLAG] if i % 10 == 0 else []), int(i % 10 == 0))
             for i, row in enumerate(rows)],
        )  # fmt: skip
        db.executemany(
            "insert into fetches (document, started_at, duration, result, http_status, error,"
            " url, final_url, headers, snapshot_sha256, state, version)"
            " values (?, ?, 0.2, 'ok', 200, '', ?, null, '[]', ?, 'unchanged', 1)",
            [(f"doc-{i % docs}", when[i], "https://example.com/", f"s{i % docs}")
             for i in range(fetches)],
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--fetches", type=int, default=73_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    script = str(Path(sys.executable).parent / "policy-monitor")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        fill(data, args.docs, args.changes, args.fetches)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "policy-monitor --help": [script, "--help"],
            "changes --json": [script, "changes", "--json", "--data", tmp],
            "changes --json --diffs": [script, "changes", "--json", "--diffs", "--data", tmp],
            "feed --format rss": [script, "feed", "--format", "rss", "--data", tmp],
            "status": [script, "status", "--data", tmp],
            "status --json": [script, "status", "--json", "--data", tmp],
        }
        times: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                run = run_child(cmd)
                assert run.returncode == 0, (name, run.stderr.decode()[-500:])
                times.setdefault(name, []).append((run.wall, run.cpu))
    med = {k: (median([w for w, _ in v]), median([c for _, c in v])) for k, v in times.items()}
    help_wall = med["policy-monitor --help"][0]
    rows = [[name, f"{w:.3f}", f"{c:.3f}", f"{max(0.0, w - help_wall):.3f}"]
            for name, (w, c) in med.items()]  # fmt: skip
    print(f"machine: {machine()}; {args.changes} changes, {args.fetches} fetches, "
          f"{args.docs} documents; median of {args.runs} runs\n")  # fmt: skip
    print(table(["command", "wall s", "CPU s", "wall s above start-up (--help)"], rows))
    worst = max(med[k][0] for k in ("changes --json", "feed --format rss", "status"))
    worst_cpu = max(med[k][1] for k in ("changes --json", "feed --format rss", "status"))
    print(f"\nFIGURE queries: slowest of changes --json, feed, status: {worst:.2f} s wall, "
          f"{worst_cpu:.2f} s CPU (target <= {TARGET:g} s: {verdict(worst_cpu, TARGET)} on CPU, "
          f"{verdict(worst, TARGET)} on wall)")  # fmt: skip


if __name__ == "__main__":
    main()
