"""Replays real Open Terms Archive histories (../shared/corpus/versions) through the real
check pipeline, at the dates Open Terms Archive recorded them, for the board's tests.

Each version's markdown is rendered to HTML (markdown-it, as ../shared/eval/replay.py does)
and served on 127.0.0.1; each step is one `sweep` (fetch, store, extract, diff, classify)
with the clock set to the version's date, then the feeds are written (which updates the
board), as `check` does after a sweep.

    with CorpusReplay(tmp_path) as replay:
        for step in replay.run("linkedin-privacy-pga", "linkedin-privacy", "LinkedIn"):
            board = replay.board()
"""

from __future__ import annotations

import html
import json
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType

from markdown_it import MarkdownIt

from monitor.check.pipeline import sweep
from monitor.fetch.http import Fetcher, FetchSettings, make_client
from monitor.models import Watch
from monitor.publish.feed import FeedSettings
from monitor.publish.write import write_feeds
from monitor.store import Store
from tests.httpserver import LocalServer
from tests.shared import SHARED, need

CORPUS = SHARED / "corpus" / "versions"
_MD = MarkdownIt("commonmark").enable("table")


def page(title: str, markdown: str) -> bytes:
    """A plain policy page around one Open Terms Archive version."""
    body = _MD.render(markdown)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title></head><body><nav><a href='/'>Home</a></nav><main>{body}</main>"
        "<footer>© policy</footer></body></html>"
    ).encode()


@dataclass(frozen=True)
class Step:
    """One replayed version: its index in the corpus, its date, and the monitor's version."""

    index: int
    date: datetime
    version: int


@dataclass
class CorpusReplay:
    tmp_path: Path
    server: LocalServer = field(default_factory=LocalServer)
    # monitor version number -> the corpus index that first produced it, per document
    origins: dict[str, dict[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data = self.tmp_path / "data"
        self.store = Store(self.data)
        settings = FetchSettings(timeout=10, retries=0, host_delay=0)
        self.client = make_client(settings)
        self.fetcher = Fetcher(self.client, settings)

    def run(
        self, slug: str, doc_id: str, company: str, indexes: Container[int] | None = None
    ) -> Iterator[Step]:
        """Checks each version of ``slug`` (those in ``indexes``) in turn; yields each step."""
        folder = need(CORPUS / slug)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        watch = Watch(doc_id, company, manifest["title"], self.server.url(f"/{doc_id}"))
        origins = self.origins.setdefault(doc_id, {})
        for entry in manifest["versions"]:
            if indexes is not None and entry["index"] not in indexes:
                continue
            markdown = (folder / entry["file"]).read_text(encoding="utf-8")
            self.server.route(f"/{doc_id}", body=page(manifest["title"], markdown))
            when = datetime.fromisoformat(entry["date"])
            (outcome,) = sweep(self.store, self.fetcher, [watch], clock=lambda when=when: when)
            assert outcome.status != "failed", outcome.message
            write_feeds(self.store, self.data, FeedSettings())
            current = self.store.current_version(doc_id, with_text=False)
            assert current is not None
            origins.setdefault(current.number, entry["index"])
            yield Step(entry["index"], when, current.number)

    def close(self) -> None:
        self.client.close()
        self.store.close()
        self.server.close()

    def __enter__(self) -> CorpusReplay:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:  # fmt: skip
        self.close()
