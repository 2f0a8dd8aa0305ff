"""Every read command's output on a data directory, one file per command, to compare two
trees byte for byte (journalist9: the split of monitor/views.py changed no output).

    .venv/bin/python bench/read_outputs.py DATA OUT   # then: diff -r OUT_A OUT_B

One process (click's CliRunner): `changes` (--json, --diffs, table, csv), `status`,
`feed` (rss, atom, --ai-only), and per document `history`, `diff`, `first-seen` (four
phrases, text and --json), per change `explain`, and `evidence` of every fifth change.
Evidence prints its --out folder: compare with that path replaced.
"""

import json
import shutil
import sys
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli

data, out = sys.argv[1], Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
runner = CliRunner()


def run(name, *args):
    r = runner.invoke(cli, [*args, "--data", data], catch_exceptions=True)
    tail = f"\n--exit {r.exit_code} {r.exception!r}\n".encode()
    (out / name).write_bytes(r.stdout_bytes + b"\n--stderr--\n" + r.stderr_bytes + tail)
    return r.stdout_bytes


changes = json.loads(run("changes.json", "changes", "--json"))
run("changes-diffs.json", "changes", "--json", "--diffs")
run("changes.txt", "changes")
run("changes.csv", "changes", "--format", "csv")
docs = [d["document"] for d in json.loads(run("status.json", "status", "--json"))]
run("status.txt", "status")
for fmt in ("rss", "atom"):
    run(f"feed-{fmt}.xml", "feed", "--format", fmt, "--include-history")
    run(f"feed-ai-{fmt}.xml", "feed", "--format", fmt, "--include-history", "--ai-only")
for d in docs:
    run(f"history-{d}.txt", "history", d)
    run(f"diff-{d}.txt", "diff", d)
    for p in ("train", "artificial intelligence", "machine learning", "legitimate interests"):
        s = p.replace(" ", "_")
        run(f"first-{d}-{s}.json", "first-seen", d, p, "--json")
        run(f"first-{d}-{s}.txt", "first-seen", d, p)
for c in changes:
    run(f"explain-{c['id']}.txt", "explain", str(c["id"]))
for c in changes[::5]:
    ev = out / f"ev-{c['id']}"
    shutil.rmtree(ev, ignore_errors=True)
    run(f"evidence-{c['id']}.txt", "evidence", str(c["id"]), "--out", str(ev))
print(len(changes), "changes,", len(docs), "documents")
