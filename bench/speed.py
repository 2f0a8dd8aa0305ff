"""Speed of one `check` as cron runs it, as a ratio against floors measured in the same run.

Floors: starting the interpreter (`python -c pass`) and importing the libraries the
monitor needs. The monitor's own work is what a check costs above them. Serves a real
policy (the last Google privacy version of ../shared/corpus, Open Terms Archive data,
ODC-BY 1.0) or a synthetic one when the corpus is absent, wrapped in noisy page chrome.
Run: .venv/bin/python bench/speed.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "versions" / "google-privacy"
LIBS = "import httpx, bs4, lxml, diff_match_patch, sqlite_utils, feedgen, click, yaml"


def policy_html(variant: int) -> bytes:
    files = sorted(CORPUS.glob("*.md"))
    if files:
        text = files[-1 - variant % 2].read_text()
        paragraphs = "".join(f"<p>{line}</p>" for line in text.splitlines() if line.strip())
    else:
        paragraphs = "".join(f"<p>Clause {i}: we keep data {variant}.</p>" for i in range(400))
    chrome = f"<nav>menu {time.time()}</nav><footer>request {time.time_ns()}</footer>"
    return f"<html><body>{chrome}<main>{paragraphs}</main></body></html>".encode()


def serve(state: dict[str, int]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = policy_html(state["variant"])
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    py = sys.executable
    state = {"variant": 0}
    server = serve(state)
    with tempfile.TemporaryDirectory() as tmp:
        watchlist = Path(tmp) / "w.yaml"
        url = f"http://127.0.0.1:{server.server_address[1]}/p"
        watchlist.write_text(f"documents:\n  - {{id: p, company: C, title: T, url: '{url}'}}\n")
        check = [py, "-m", "monitor", "check", "--watchlist", str(watchlist), "--data", tmp]
        results: dict[str, list[float]] = {"interpreter": [], "libraries": [], "check": []}
        for i in range(runs):
            state["variant"] = i
            results["interpreter"].append(timed([py, "-c", "pass"]))
            results["libraries"].append(timed([py, "-c", LIBS]))
            results["check"].append(timed(check))
    server.shutdown()
    med = {k: statistics.median(v) for k, v in results.items()}
    print("| measure | median s | ratio to interpreter | ratio to libraries |")
    print("|---|---|---|---|")
    for name, value in med.items():
        print(f"| {name} | {value:.3f} | {value / med['interpreter']:.1f} | "
              f"{value / med['libraries']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
