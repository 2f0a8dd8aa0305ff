"""``make demo``: a one-minute tour with no internet.

Serves a bundled, synthetic privacy policy (three versions, written for the tests)
on 127.0.0.1 with page chrome that changes on every request, runs real `check`
sweeps over it, then shows `changes`, `diff`, `history` and the AI-training feed.
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

TRENDING = ("Ten ways to save on your next trip", "Stocks rally as markets close higher")
# How each version rewrites the one before it (policy.html is version 1).
EDITS: dict[int, tuple[tuple[str, str], ...]] = {
    2: (
        ("1 March 2026", "1 June 2026"),
        ("posts, photos and comments", "posts, photos, videos and comments"),
    ),
    3: (
        ("1 June 2026", "1 September 2026"),
        (
            "<li>To show you ads that may interest you.</li>",
            "<li>To show you ads that may interest you.</li>\n<li>To develop and improve our"
            " artificial intelligence, we may use your public posts and photos to train our AI"
            " models.</li>",
        ),
        (
            "delete your information in your settings.</p>",
            "delete your information in your settings. You have the right to object to the use"
            " of your information to train our AI models by using the form in your settings.</p>",
        ),
    ),
}


def page(version: int) -> bytes:
    """A demo page; the token and the trending box differ on every request, like real ones."""
    text = files("monitor.demo").joinpath("policy.html").read_text(encoding="utf-8")
    for edits in (EDITS[v] for v in range(2, version + 1)):
        for old, new in edits:
            text = text.replace(old, new)
    text = text.replace("{{TOKEN}}", secrets.token_hex(16))
    return text.replace("{{TRENDING}}", TRENDING[secrets.randbelow(len(TRENDING))]).encode()


@contextmanager
def serve(state: dict[str, int]) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page(state["version"])
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def monitor(*args: str) -> None:
    print(f"\n$ policy-monitor {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "monitor", *args], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="data/demo", help="data directory for the demo")
    data = Path(parser.parse_args().data)
    if (data / "monitor.db").exists():
        (data / "monitor.db").unlink()
    data.mkdir(parents=True, exist_ok=True)
    state = {"version": 1}
    with serve(state) as port:
        watchlist = data / "watchlist.yaml"
        watchlist.write_text(
            "documents:\n  - id: example-privacy\n    company: Example Social\n"
            f"    title: Privacy Policy\n    url: http://127.0.0.1:{port}/privacy\n"
        )
        common = ("--watchlist", str(watchlist), "--data", str(data))
        for version, why in (
            (1, "first visit"),
            (1, "same text, new page chrome"),
            (2, ""),
            (3, ""),
        ):
            state["version"] = version
            print(f"\n# serving version {version}{f' ({why})' if why else ''}")
            monitor("check", *common)
    monitor("changes", "--data", str(data))
    monitor("diff", "example-privacy", "--data", str(data))
    monitor("explain", "2", "--data", str(data))
    monitor("history", "example-privacy", "--data", str(data))
    monitor("feed", "--data", str(data), "--format", "rss", "--ai-only")
    print(f"\nFeeds written to {data / 'feeds'}/")


if __name__ == "__main__":
    main()
