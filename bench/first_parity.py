"""A first check's outputs, this tree against an older commit: byte for byte.

Both trees check the same page (one served here with fixed headers) into a new data
directory at the same path with a frozen clock; then every published file, the JSON of
`changes`, `board` and `status`, and every row of every table (a fetch's duration and a
step's applied_at aside, which are times) are compared. ``feeds.stamp`` holds a
fingerprint of the code that reads the rule packs: it differs when that code does.

Run: .venv/bin/python bench/first_parity.py --old main [--page FILE]
"""

from __future__ import annotations

import argparse
import filecmp
import http.server
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from common import ROOT

FROZEN = """
import datetime as _dt, sys
class Frozen(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        at = cls(2026, 12, 3, 12, 0, 0, tzinfo=_dt.UTC)
        return at.astimezone(tz) if tz else at.replace(tzinfo=None)
_dt.datetime = Frozen
from monitor.cli import main
sys.exit(main(sys.argv[1:]))
"""
SKIP = {"fetches": {3}, "_sqlite_migrations": {3}}  # duration, applied_at


def serve(body: bytes) -> http.server.HTTPServer:
    class Page(http.server.BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return "static"

        def date_time_string(self, timestamp: float | None = None) -> str:
            return "Thu, 03 Dec 2026 12:00:00 GMT"

        def do_GET(self) -> None:  # noqa: N802 - the handler's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = http.server.HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(tree: Path, data: Path, watchlist: Path, out: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(tree))
    base = [sys.executable, "-c", FROZEN]
    where = watchlist.parent  # not this checkout: `python -c` imports from its folder first
    subprocess.run([*base, "check", "--watchlist", str(watchlist), "--data", str(data)],
                   env=env, check=True, capture_output=True, cwd=where)  # fmt: skip
    for command in ("changes", "board", "status"):
        done = subprocess.run([*base, command, "--json", "--data", str(data)], env=env,
                              check=True, capture_output=True, cwd=where)  # fmt: skip
        (data / f"{command}.json").write_bytes(done.stdout)
    (data / "rows.txt").write_text(rows(data / "monitor.db"))
    version = [*base[:2], "import monitor; print(monitor.__file__)"]
    done = subprocess.run(version, env=env, cwd=where, capture_output=True, text=True)
    print(f"{tree.name}: monitor from {done.stdout.strip()}")
    (data / "monitor.db").unlink()
    shutil.move(data, out)


def rows(path: Path) -> str:
    conn = sqlite3.connect(path)
    lines = []
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
    for table in sorted(tables):
        for row in conn.execute(f"select * from [{table}]"):
            kept = [v for i, v in enumerate(row) if i not in SKIP.get(table, ())]
            lines.append(f"{table} {kept!r}")
    conn.close()
    return "\n".join(sorted(lines))


def differences(a: Path, b: Path) -> list[str]:
    found = []
    compared = filecmp.dircmp(a, b)
    found += [f"only in one: {name}" for name in compared.left_only + compared.right_only]
    for name in compared.diff_files:
        if name == "feeds.stamp" and _unfingerprinted(a / name) == _unfingerprinted(b / name):
            print("feeds.stamp: only its rules fingerprint (the packs' reading code changed)")
        else:
            found.append(str(a / name))
    for name in compared.common_dirs:
        found += differences(a / name, b / name)
    return found


def _unfingerprinted(stamp: Path) -> list[str]:
    *lines, rules = stamp.read_text().split("\n")
    return [*lines, rules.partition(" ")[2]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="main", help="the commit to compare with")
    default = ROOT / "tests" / "data" / "board_pages" / "meta-genai.html"
    parser.add_argument("--page", type=Path, default=default, help="the page checked")
    args = parser.parse_args()
    server = serve(args.page.read_bytes())
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.old, "monitor"],
                                 check=True, capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        watchlist = Path(tmp) / "w.yaml"
        url = f"http://127.0.0.1:{server.server_port}/p"
        watchlist.write_text(f"documents:\n  - {{id: p, company: C, title: T, url: '{url}'}}\n")
        for name, tree in (("old", old), ("new", ROOT)):
            run(tree, Path(tmp) / "data", watchlist, Path(tmp) / f"out-{name}")
        found = differences(Path(tmp) / "out-old", Path(tmp) / "out-new")
    server.shutdown()
    print("\n".join(found) if found else "IDENTICAL")
    print(f"FIGURE first-check parity with {args.old}: {len(found)} files differ")


if __name__ == "__main__":
    main()
