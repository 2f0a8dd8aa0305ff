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


def best_of(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def stage_ratios(runs: int) -> None:
    """Extraction of a 1 MB page against parsing it; classifying two 100 KB texts
    against splitting them into words: the stages' own cost above what they must do."""
    import re

    from bs4 import BeautifulSoup

    sys.path.insert(0, str(ROOT))
    from monitor.classify import classify
    from monitor.extract.html import extract_text

    para = "We collect the information you provide and use it to run our services. " * 8
    page = ("<html><body><main>" + "".join(
        f"<section><h2>Part {i}</h2><p>{para}</p><ul><li>{para}</li></ul></section>"
        for i in range(700)) + "</main></body></html>").encode()  # fmt: skip
    old = "\n".join(f"{para} Clause {i}." for i in range(160))
    new = old.replace("Clause 80.", "Clause 80. We may use your posts to train our AI models.")
    extract_text(page), classify(old, new)  # warm: imports, compiled rules
    rows = [
        ("extract 1 MB page", best_of(runs, lambda: extract_text(page)),
         best_of(runs, lambda: BeautifulSoup(page, "lxml"))),
        ("classify 2 x 100 KB", best_of(runs, lambda: classify(old, new)),
         best_of(runs, lambda: (re.findall(r"\w+", old), re.findall(r"\w+", new)))),
    ]  # fmt: skip
    print(f"\n| stage ({len(page) // 1000} KB page) | best s | floor s | ratio to floor |")
    print("|---|---|---|---|")
    for name, value, floor in rows:
        print(f"| {name} | {value:.3f} | {floor:.3f} | {value / floor:.1f} |")


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
    stage_ratios(runs)


if __name__ == "__main__":
    main()
