"""Writes the feed files of a data directory after a sweep (atomically, only on change).

    data/feeds/all.rss, all.atom                      every change
    data/feeds/ai-training.rss, .atom                 AI-training changes only
    data/feeds/company/<slug>.rss, .atom              one per company
    data/feeds/document/<id>.rss, .atom               one per document
    data/feeds/feeds.opml, index.html                 the list of all of them
    data/feeds/changes/<id>.html                      one page per change in a feed
    data/feeds/board.rss, board.atom, board.html      the AI-training board (board_write.py)

A file is replaced only when its bytes change, so its mtime (and a static server's
Last-Modified / ETag) moves only when a feed gains an entry. A change's page is written
once, when the change first appears in a feed: a change never changes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from monitor import __version__
from monitor.models import Change, Watch
from monitor.publish.board_write import write_board
from monitor.publish.change_page import change_page
from monitor.publish.feed import (
    FORMATS,
    FeedSettings,
    as_utc,
    change_page_href,
    feed_href,
    index_url,
    render_feed,
    select_changes,
)
from monitor.publish.index import INDEX_NAME, OPML_NAME, FeedRow, index_html, opml
from monitor.publish.ops import OPS_NAME, render_ops_feed
from monitor.publish.specs import FeedSpec, company_slug, feed_specs, select_spec
from monitor.store import Store
from monitor.store.documents import added_at

FEED_DIR = "feeds"
OPS_DIR = "ops"
STAMP_NAME = "feeds.stamp"


def write_feeds(
    store: Store,
    data_dir: str | Path,
    settings: FeedSettings,
    watched: Collection[str] | None = None,
) -> list[Path]:
    """Regenerates every feed file, the OPML file and the index; returns those that changed.

    ``watched``: the ids in the watchlist (None: every recorded document). A document no
    longer watched loses its feed files (and its company's, if it was the last one): a
    feed nobody updates any more would look like a quiet policy. Its changes stay in the
    other feeds and its change pages stay where they are.

    Skipped when nothing they are made of (changes, health events, documents, settings,
    this program's version) is new since the last time: most checks change nothing.
    """
    out_dir = Path(data_dir) / FEED_DIR
    # The board first: it reads only documents whose current version is new to it.
    board = write_board(store, out_dir, settings, _replace_if_changed, _write_change_pages)
    documents = [d for d in store.documents() if watched is None or d.id in watched]
    stamp = _stamp(store, documents, settings, out_dir.resolve())
    stamp_path = Path(data_dir) / STAMP_NAME
    if stamp_path.exists() and stamp_path.read_text() == stamp and (out_dir / "all.rss").exists():
        return board
    written = board + _write_all(store, out_dir, documents, settings)
    _replace_if_changed(stamp_path, stamp.encode())
    return written


def _stamp(store: Store, documents: list[Watch], settings: FeedSettings, folder: Path) -> str:
    parts = [
        __version__,
        str(folder),  # the OPML names the folder when there is no base URL
        repr(settings),
        store.latest_ids(),
        len(store.upgrades()),
        [tuple(vars(d).values()) for d in documents],
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _write_all(
    store: Store, out_dir: Path, documents: list[Watch], settings: FeedSettings
) -> list[Path]:
    limit = settings.limit
    history = settings.include_history
    specs = feed_specs(documents)
    feeds = [(spec, _changes_for(store, spec, documents, limit, history)) for spec in specs]
    since = added_at(store)
    # The pages the entries link to go first, so a link in a new entry always works.
    shown = {change.id: change for _spec, entries in feeds for change in entries}
    written = _write_change_pages(store, out_dir, list(shown.values()), settings)
    rows: list[FeedRow] = []
    for spec, entries in feeds:
        rows.append(
            FeedRow(spec, len(entries), as_utc(entries[0].detected_at) if entries else None)
        )
        for fmt in FORMATS:
            start = _watched_since(spec, documents, since)
            data = render_feed(entries, fmt, settings, spec=spec, since=start)
            written += _replace_if_changed(out_dir / feed_href(spec, fmt), data)
    written += _remove_stale_feeds(out_dir, specs)
    folder = "" if settings.base_url else out_dir.resolve().as_uri()
    written += _replace_if_changed(out_dir / OPML_NAME, opml(rows, settings, folder))
    index = index_html(rows, settings, store.upgrades())
    written += _replace_if_changed(out_dir / INDEX_NAME, index)
    # Operators' feed, kept apart from the subscribers' folder (and its index and OPML).
    return written + _write_ops_feeds(store, out_dir.parent / OPS_DIR, documents, settings)


def _write_ops_feeds(
    store: Store, out_dir: Path, documents: list[Watch], settings: FeedSettings
) -> list[Path]:
    events = store.health_events(limit=settings.limit)
    by_id = {d.id: d for d in documents}
    written: list[Path] = []
    for fmt in FORMATS:
        data = render_ops_feed(events, by_id, fmt, settings)
        written += _replace_if_changed(out_dir / f"{OPS_NAME}.{fmt}", data)
    return written


def _write_change_pages(
    store: Store, out_dir: Path, changes: list[Change], settings: FeedSettings
) -> list[Path]:
    """The page of each change a feed links to and that has none yet."""
    index = index_url(settings) if settings.base_url else "../index.html"
    written: list[Path] = []
    for change in changes:
        path = out_dir / change_page_href(change.id)
        if path.exists():
            continue
        before = store.version(change.document, change.from_version or 0)
        after = store.version(change.document, change.to_version)
        page = change_page(
            change, (before, after), index_href=index, diff_chars=settings.page_diff_chars
        )
        written += _replace_if_changed(path, page)
    return written


def _watched_since(
    spec: FeedSpec, documents: list[Watch], since: dict[str, datetime]
) -> datetime | None:
    """When the first of the documents a feed covers began to be watched."""
    times = [since[d.id] for d in documents if d.id in since and _covers(spec, d)]
    return min(times, default=None)


def _covers(spec: FeedSpec, document: Watch) -> bool:
    if spec.document is not None:
        return document.id == spec.document
    return spec.company is None or company_slug(document.company) == spec.company


def _remove_stale_feeds(out_dir: Path, specs: list[FeedSpec]) -> list[Path]:
    """Deletes the company and document feed files no current feed writes."""
    current = {out_dir / feed_href(spec, fmt) for spec in specs for fmt in FORMATS}
    removed: list[Path] = []
    for folder in ("company", "document"):
        for path in sorted((out_dir / folder).glob("*.*")):
            if path.suffix.lstrip(".") in FORMATS and path not in current:
                path.unlink()
                removed.append(path)
    return removed


def render_selected(
    store: Store,
    fmt: str,
    settings: FeedSettings,
    *,
    ai_only: bool = False,
    company: str | None = None,
    document: str | None = None,
) -> bytes:
    """The feed the `feed` command prints; the same bytes as the published file it names."""
    documents = store.documents()
    spec = select_spec(documents, ai_only=ai_only, company=company, document=document)
    start = _watched_since(spec, documents, added_at(store))
    return render_feed(
        _changes_for(store, spec, documents, settings.limit, settings.include_history),
        fmt, settings, spec=spec, since=start,
    )  # fmt: skip


def _changes_for(
    store: Store, spec: FeedSpec, documents: list[Watch], limit: int, include_history: bool
) -> list[Change]:
    """The newest ``limit`` changes ``spec`` shows, newest first, read from the store
    (imported ones only with ``include_history``)."""
    live = not include_history
    if spec.document is not None:
        found = store.changes(document=spec.document, ai_only=spec.ai_only, limit=limit,
                              live_only=live)  # fmt: skip
    elif spec.company is not None:
        # A company's newest changes are among its documents' newest ones.
        found = []
        for doc in documents:
            if company_slug(doc.company) == spec.company:
                found += store.changes(document=doc.id, ai_only=spec.ai_only, limit=limit,
                                       live_only=live)  # fmt: skip
    else:
        found = store.changes(ai_only=spec.ai_only, limit=limit, live_only=live)
    return select_changes(found, limit=limit, spec=spec)


def _replace_if_changed(path: Path, data: bytes) -> list[Path]:
    # Unchanged files keep their mtime, so readers' conditional GETs keep working.
    if path.exists() and path.read_bytes() == data:
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return [path]
