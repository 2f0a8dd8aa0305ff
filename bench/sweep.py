"""Unchanged documents at scale: a sweep of many documents on many slow hosts, and urlwatch.

bench/hosts.py serves DOCS documents on HOSTS hosts of 127.0.0.0/8 (50 to 200 ms of
latency each, ETags, 304 to a matching If-None-Match). A first `check` records every
document; then `check` runs again RUNS times on the unchanged pages (conditional GETs,
304s) and the median is shown. Floors measured in the same run:
- wall: the busiest host's total latency (its documents one at a time, plus the
  politeness delay between two of them), what a sweep with hosts in parallel needs;
- CPU: a bare conditional fetch of every document (httpx, If-None-Match with the
  document's own ETag, one thread per host on one shared client) in a child process,
  interpreter and imports included like the monitor's (--variants: a client per thread,
  and httpx.AsyncClient on one event loop).
urlwatch (a separate venv, --urlwatch PY; not a project dependency) runs the same pages,
bs4 html2text filter, twice (the second run sends its cached ETags).
Targets (issue 15): sweep wall <= 1.3x the busiest host's latency; CPU per unchanged
document <= 2x the bare conditional fetch; peak memory <= 300 MB.

Run: .venv/bin/python bench/sweep.py [--docs 2000] [--hosts 50] [--runs 3] [--delay 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, ChildRun, machine, median, run_child, table, verdict
from hosts import LATENCY_MAX, etag_of

WALL_TARGET, CPU_TARGET, RSS_TARGET = 1.3, 2.0, 300.0
FIRST_ROW = ("policy-monitor check, first sweep", "policy-monitor check on the --first copy")
# The floor: every document's conditional GET with its own ETag (known in advance, as the
# monitor's store knows it: a 304 each), one thread per host on one shared client. The
# variants (--variants) show what else costs: a client per thread (each loads the CA
# bundle) and httpx.AsyncClient with one task per host on one event loop.
JOBS = """
import sys
by_host = {}
for job in sys.argv[1].split():
    url, etag = job.split("|")
    by_host.setdefault(url.split("/")[2], []).append((url, etag))
"""
# Each host's jobs in its own thread, all at once (the child scripts define `host`).
THREADS = """threads = [threading.Thread(target=host, args=(j,)) for j in by_host.values()]
[t.start() for t in threads]; [t.join() for t in threads]
"""
BARE = {
    "bare httpx conditional GETs (floor: a thread per host, one client)": JOBS
    + """
import threading, httpx
room = httpx.Limits(max_connections=len(by_host), max_keepalive_connections=len(by_host))
client = httpx.Client(limits=room)
def host(jobs):
    for url, etag in jobs:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
"""
    + THREADS,
    "bare httpx, a client per thread": JOBS
    + """
import threading, httpx
def host(jobs):
    with httpx.Client() as client:
        for url, etag in jobs:
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
"""
    + THREADS,
    "bare httpx.AsyncClient, a task per host": JOBS
    + """
import asyncio, httpx
async def host(client, jobs):
    for url, etag in jobs:
        assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
async def main():
    room = httpx.Limits(max_connections=len(by_host), max_keepalive_connections=len(by_host))
    async with httpx.AsyncClient(limits=room) as client:
        await asyncio.gather(*(host(client, j) for j in by_host.values()))
asyncio.run(main())
""",
}


def urls(port: int, docs: int, hosts: int) -> list[str]:
    return [f"http://127.0.0.{i % hosts + 2}:{port}/doc/{i}" for i in range(docs)]


def watchlist(path: Path, addresses: list[str]) -> None:
    lines = ["documents:"]
    for i, url in enumerate(addresses):
        lines.append(f"  - {{id: doc-{i}, company: C{i % 50}, title: Doc {i}, url: '{url}', "
                     "fetcher: http}")  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def check(tmp: Path, delay: float) -> ChildRun:
    cmd = [sys.executable, "-m", "monitor", "check", "--quiet", "--watchlist",
           str(tmp / "w.yaml"), "--data", str(tmp / "data"), "--delay", str(delay)]  # fmt: skip
    run = run_child(cmd)
    if run.returncode:
        print(run.stderr.decode()[-2000:], file=sys.stderr)
    return run


def urlwatch(python: str, tmp: Path, addresses: list[str]) -> ChildRun:
    jobs = "---\n".join(
        f"name: doc-{i}\nurl: {url}\nfilter:\n  - html2text: bs4\n"
        for i, url in enumerate(addresses)
    )
    (tmp / "urls.yaml").write_text(jobs)
    config = (
        "report:\n  stdout:\n    enabled: true\n    color: false\n  text:\n    details: false\n"
    )
    if not (tmp / "uw.yaml").exists():
        (tmp / "uw.yaml").write_text(config)
    cmd = [
        str(Path(python).parent / "urlwatch"),
        "--urls",
        str(tmp / "urls.yaml"),
        "--config",
        str(tmp / "uw.yaml"),
        "--cache",
        str(tmp / "uw.db"),
        "--hooks",
        str(tmp / "h.py"),
    ]
    return run_child(cmd)


def row(name: str, runs: list[ChildRun], docs: int, floor_wall: float) -> list[str]:
    wall, cpu = median([r.wall for r in runs]), median([r.cpu for r in runs])
    rss = max(r.rss_mb for r in runs)
    return [
        name,
        f"{wall:.1f}",
        f"{wall / floor_wall:.2f}",
        f"{cpu:.1f}",
        f"{cpu / docs * 1000:.1f}",
        f"{rss:.0f}",
        str(max(r.returncode for r in runs)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.0, help="politeness delay (s)")
    # `make bench` installs urlwatch in .venv-urlwatch and names its python here
    urlwatch_python = os.environ.get("URLWATCH_PYTHON", "/tmp/urlwatch/bin/python")
    parser.add_argument("--urlwatch", default=urlwatch_python)
    parser.add_argument("--variants", action="store_true", help="also other bare fetchers")
    parser.add_argument("--first", help="a data directory holding the first sweep already "
                        "(a copy is used: the first sweep's publishing takes minutes)")  # fmt: skip
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "hosts.py"), str(args.hosts)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert server.stdout is not None and server.stdin is not None
    port = int(server.stdout.readline().split()[1])
    per_host = -(-args.docs // args.hosts)
    floor_wall = per_host * LATENCY_MAX + (per_host - 1) * args.delay
    print(f"machine: {machine()}; {args.docs} documents on {args.hosts} hosts, delay "
          f"{args.delay:g} s; busiest host: {per_host} x {LATENCY_MAX * 1000:.0f} ms"
          f"{f' + {per_host - 1} x {args.delay:g} s' if args.delay else ''} = "
          f"{floor_wall:.1f} s; median of {args.runs} runs\n")  # fmt: skip
    addresses = urls(port, args.docs, args.hosts)
    try:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            watchlist(tmp / "w.yaml", addresses)
            if args.first:
                shutil.copytree(args.first, tmp / "data")
            first = check(tmp, args.delay)
            again = [check(tmp, args.delay) for _ in range(args.runs)]
            jobs = " ".join(f"{url}|{etag_of('/' + url.split('/', 3)[3])}" for url in addresses)
            floor_name, *variants = BARE
            bare = [run_child([sys.executable, "-c", BARE[floor_name], jobs])
                    for _ in range(args.runs)]  # fmt: skip
            rows = [
                row(FIRST_ROW[bool(args.first)], [first], args.docs, floor_wall),
                row("policy-monitor check, unchanged (304)", again, args.docs, floor_wall),
                row(floor_name, bare, args.docs, floor_wall),
            ]
            for name in variants if args.variants else []:
                runs = [run_child([sys.executable, "-c", BARE[name], jobs])
                        for _ in range(args.runs)]  # fmt: skip
                rows.append(row(name, runs, args.docs, floor_wall))
            if Path(args.urlwatch).exists():
                (tmp / "h.py").write_text("")
                uw_first = urlwatch(args.urlwatch, tmp, addresses)
                uw_again = [urlwatch(args.urlwatch, tmp, addresses) for _ in range(args.runs)]
                rows += [
                    row("urlwatch 2.29, first run", [uw_first], args.docs, floor_wall),
                    row("urlwatch 2.29, unchanged", uw_again, args.docs, floor_wall),
                ]
            else:
                print(f"(urlwatch not measured: {args.urlwatch} is missing; see bench/README.md)")
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    header = ["run", "wall s", "x busiest host", "CPU s", "CPU ms / doc", "peak MB", "exit"]
    print(table(header, rows))
    wall = median([r.wall for r in again]) / floor_wall
    cpu = median([r.cpu for r in again]) / median([r.cpu for r in bare])
    rss = max(r.rss_mb for r in [first, *again])
    print(f"\nFIGURE sweep: unchanged sweep {wall:.2f}x the busiest host's latency (target <= "
          f"{WALL_TARGET:g}x: {verdict(wall, WALL_TARGET)}); CPU {cpu:.2f}x the bare "
          f"conditional fetch (target <= {CPU_TARGET:g}x: {verdict(cpu, CPU_TARGET)}); peak "
          f"{rss:.0f} MB (target <= {RSS_TARGET:g} MB: {verdict(rss, RSS_TARGET)})")  # fmt: skip


if __name__ == "__main__":
    main()
