"""Writes the feed files of a data directory after a sweep (atomically, only on change).

    data/feeds/all.rss, all.atom                      every change
    data/feeds/ai-training.rss, .atom                 AI-training changes only
    data/feeds/company/<slug>.rss, .atom              one per company
    data/feeds/document/<id>.rss, .atom               one per document
    data/feeds/feeds.opml                             the list of all of them
    data/feeds/index.html, documents/, changes/ ...   the site (monitor/publish/site/write.py)
    data/feeds/board.rss, board.atom, board.html      the AI-training board (board_write.py)

A file is replaced only when its bytes change, so its mtime (and a static server's
Last-Modified / ETag) moves only when a feed gains an entry. A change's page is written
once: a change never changes.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from monitor.board import board_version
from monitor.models import Change, Watch
from monitor.publish import FEED_DIR
from monitor.publish.board_write import write_board
from monitor.publish.feed import (
    FORMATS,
    FeedSettings,
    as_utc,
    feed_href,
    render_feed,
    select_changes,
)
from monitor.publish.index import OPML_NAME, FeedRow, opml
from monitor.publish.ops import OPS_NAME, render_ops_feed
from monitor.publish.site.write import Render, render_here, replace_if_changed, write_site
from monitor.publish.specs import FeedSpec, company_slug, feed_specs, select_spec
from monitor.publish.stamp import STAMP_NAME, pages_key, read_stamp, stamp, stamp_text
from monitor.store import Store
from monitor.store.documents import added_at

OPS_DIR = "ops"
BOARD_MARKER = "board.stamp"  # the newest board row the board's files were made from


def write_feeds(
    store: Store,
    data_dir: str | Path,
    settings: FeedSettings,
    watched: Collection[str] | None = None,
    render: Render = render_here,
) -> list[Path]:
    """Regenerates every feed file, the OPML file, the site and the board; returns the files
    that changed (``render``: what makes the change pages' files, monitor/publish/site).

    ``watched``: the ids in the watchlist (None: every recorded document). A document no
    longer watched loses its feed files (and its company's, if it was the last one): a
    feed nobody updates any more would look like a quiet policy. Its changes stay in the
    other feeds and its change pages stay where they are.

    Skipped when nothing they are made of (changes, health events, documents and their
    state, settings, this program's version and templates) is new since the last time:
    most checks change nothing. The board reads only documents whose version is new to it.
    """
    out_dir = Path(data_dir) / FEED_DIR
    return _publish(store, Path(data_dir), out_dir, settings, force=False, watched=watched,
                    render=render)  # fmt: skip


def write_site_folder(
    store: Store,
    data_dir: str | Path,
    out_dir: str | Path,
    settings: FeedSettings,
    watched: Collection[str] | None = None,
) -> list[Path]:
    """Writes the whole site (feeds and pages) to ``out_dir``; returns the files that changed.
    Files that hold the right bytes already are left alone."""
    return _publish(store, Path(data_dir), Path(out_dir), settings, force=True, watched=watched)


def _publish(
    store: Store, data_dir: Path, out_dir: Path, settings: FeedSettings, *, force: bool,
    watched: Collection[str] | None, render: Render = render_here,
) -> list[Path]:  # fmt: skip
    documents = [d for d in store.documents() if watched is None or d.id in watched]
    stamp_value = stamp(store, documents, settings, out_dir.resolve())
    pages = pages_key(settings)
    stamp_path = data_dir / STAMP_NAME
    home = out_dir.resolve() == (data_dir / FEED_DIR).resolve()
    board_marker = data_dir / BOARD_MARKER if home else None
    last = read_stamp(data_dir) if home else []
    present = all((out_dir / name).exists() for name in ("all.rss", "index.html"))
    if home and not settings.base_url:
        # Read in place (a local feed reader): entry links must be absolute to open the local
        # pages. A folder written to be published (`site --out`) keeps relative links.
        settings = replace(settings, local_url=out_dir.resolve().as_uri())
    if not force and last[:1] == [stamp_value] and present:
        written = write_board(store, out_dir, settings, unchanged=True, marker=board_marker)
        replace_if_changed(stamp_path, stamp_text(stamp_value, pages, board_version()))
        return written
    ops = Path(os.path.relpath(data_dir / OPS_DIR / f"{OPS_NAME}.rss", out_dir)).as_posix()
    fresh = last[1:2] == [pages]
    written = _write_all(store, out_dir, documents, settings, fresh=fresh, ops_href=ops,
                         render=render)  # fmt: skip
    written += write_board(store, out_dir, settings, marker=board_marker)
    written += _write_ops_feeds(store, data_dir / OPS_DIR, documents, settings)
    if home:
        replace_if_changed(stamp_path, stamp_text(stamp_value, pages, board_version()))
    return written


def _write_all(
    store: Store, out_dir: Path, documents: list[Watch], settings: FeedSettings,
    *, fresh: bool, ops_href: str, render: Render,
) -> list[Path]:  # fmt: skip
    limit = settings.limit
    history = settings.include_history
    specs = feed_specs(documents)
    feeds = [(spec, _changes_for(store, spec, documents, limit, history)) for spec in specs]
    since = added_at(store)
    rows = [
        FeedRow(spec, len(entries), as_utc(entries[0].detected_at) if entries else None)
        for spec, entries in feeds
    ]
    # The pages the entries link to go first, so a link in a new entry always works.
    written = write_site(store, out_dir, documents, settings, rows, fresh=fresh,
                         ops_href=ops_href, render=render)  # fmt: skip
    for spec, entries in feeds:
        for fmt in FORMATS:
            start = _watched_since(spec, documents, since)
            data = render_feed(entries, fmt, settings, spec=spec, since=start)
            written += replace_if_changed(out_dir / feed_href(spec, fmt), data)
    written += _remove_stale_feeds(out_dir, specs)
    folder = "" if settings.base_url else out_dir.resolve().as_uri()
    return written + replace_if_changed(out_dir / OPML_NAME, opml(rows, settings, folder))


def _write_ops_feeds(
    store: Store, out_dir: Path, documents: list[Watch], settings: FeedSettings
) -> list[Path]:
    """Operators' feed, kept apart from the subscribers' folder (and its index and OPML)."""
    events = store.health_events(limit=settings.limit)
    by_id = {d.id: d for d in documents}
    written: list[Path] = []
    for fmt in FORMATS:
        data = render_ops_feed(events, by_id, fmt, settings)
        written += replace_if_changed(out_dir / f"{OPS_NAME}.{fmt}", data)
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
