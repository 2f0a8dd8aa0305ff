"""Replays tests/data/feed_history.yaml through the real CLI, and serves data/feeds statically.

    with FeedServer(tmp_path / "data" / "feeds") as feeds, LocalServer() as pages:
        replay = Replay(tmp_path, pages, base_url=feeds.url("/"))
        replay.run_all()

Commands run in-process through click's test runner (no capsys), so a replay can be
shared by the tests of a module.

The feed server is the standard library's static file server (Last-Modified from the
file's mtime, 304 on If-Modified-Since), as a feed folder would be served in production.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from click.testing import CliRunner

from monitor.cli import cli
from tests.cli_helpers import Result, policy
from tests.httpserver import LocalServer

HISTORY = yaml.safe_load((Path(__file__).parent / "data" / "feed_history.yaml").read_text())


@dataclass(frozen=True)
class Hit:
    """A request the feed server answered."""

    path: str
    status: int
    if_modified_since: str | None


class FeedServer:
    """Serves a folder on 127.0.0.1 with http.server; records each request's answer."""

    def __init__(self, folder: Path) -> None:
        self.hits: list[Hit] = []
        handler = functools.partial(_make_handler(self.hits), directory=str(folder))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def take_hits(self) -> list[Hit]:
        taken, self.hits[:] = list(self.hits), []
        return taken

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:  # fmt: skip
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _make_handler(hits: list[Hit]) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        extensions_map = {
            **SimpleHTTPRequestHandler.extensions_map,
            ".rss": "application/rss+xml", ".atom": "application/atom+xml",
            ".opml": "text/x-opml",
        }  # fmt: skip

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            status = int(code) if str(code).isdigit() else 0
            hits.append(Hit(self.path, status, self.headers.get("If-Modified-Since")))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@dataclass
class Replay:
    """The history's watchlist and pages, and `policy-monitor` commands on its data."""

    tmp_path: Path
    pages: LocalServer
    base_url: str | None = None
    items: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data = self.tmp_path / "data"
        self.watchlist = self.tmp_path / "watchlist.yaml"
        self.watchlist.write_text(yaml.safe_dump(self.watchlist_doc(), sort_keys=False))
        for doc in HISTORY["documents"]:
            self.set_page(doc["id"], [])

    def watchlist_doc(self) -> dict[str, Any]:
        documents = [
            {**doc, "url": self.pages.url(f"/{doc['id']}")} for doc in HISTORY["documents"]
        ]
        feeds = {"base_url": self.base_url} if self.base_url else {}
        return {"documents": documents, **({"feeds": feeds} if feeds else {})}

    def set_page(self, doc_id: str, items: list[str]) -> None:
        self.items[doc_id] = items
        extra = "".join(f"<li>{item}</li>" for item in items)
        self.pages.route(f"/{doc_id}", body=policy(title=doc_id, extra=extra))

    def sweep(self, changes: dict[str, list[str]] | None = None) -> Result:
        for doc_id, items in (changes or {}).items():
            self.set_page(doc_id, items)
        result = self.cli("check", "--watchlist", str(self.watchlist), "--delay", "0")
        assert result.code == 0, result.out + result.err
        return result

    def run_all(self) -> None:
        for changes in HISTORY["sweeps"]:
            self.sweep(changes)

    def cli(self, *args: str) -> Result:
        """Runs `policy-monitor ARGS --data DATA`; raises what the command raised."""
        result = CliRunner().invoke(cli, [*args, "--data", str(self.data)], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    def changes(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(self.cli("changes", "--json").out)
        return rows

    def company_of(self, doc_id: str) -> str:
        return next(str(d["company"]) for d in HISTORY["documents"] if d["id"] == doc_id)
