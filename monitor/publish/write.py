"""Writes the feed files of a data directory after a sweep (atomically, only on change).

    data/feeds/all.rss, all.atom                      every change
    data/feeds/ai-training.rss, .atom                 AI-training changes only
    data/feeds/company/<slug>.rss, .atom              one per company
    data/feeds/document/<id>.rss, .atom               one per document
    data/feeds/feeds.opml, index.html                 the list of all of them
    data/feeds/changes/<id>.html                      one page per change in a feed

A file is replaced only when its bytes change, so its mtime (and a static server's
Last-Modified / ETag) moves only when a feed gains an entry. A change's page is written
once, when the change first appears in a feed: a change never changes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from monitor import __version__
from monitor.models import Change, Watch
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
from monitor.publish.index import INDEX_NAME, OPML_NAME, FeedRow, opml
from monitor.publish.ops import OPS_NAME, render_ops_feed
from monitor.publish.site.change import change_page
from monitor.publish.site.index import index_html
from monitor.publish.specs import FeedSpec, company_slug, feed_specs, select_spec
from monitor.store import Store

FEED_DIR = "feeds"
OPS_DIR = "ops"
STAMP_NAME = "feeds.stamp"


def write_feeds(store: Store, data_dir: str | Path, settings: FeedSettings) -> list[Path]:
    """Regenerates every feed file, the OPML file and the index; returns those that changed.

    Skipped when nothing they are made of (changes, health events, documents, settings,
    this program's version) is new since the last time: most checks change nothing.
    """
    out_dir = Path(data_dir) / FEED_DIR
    documents = store.documents()
    stamp = _stamp(store, documents, settings)
    stamp_path = Path(data_dir) / STAMP_NAME
    if stamp_path.exists() and stamp_path.read_text() == stamp and (out_dir / "all.rss").exists():
        return []
    written = _write_all(store, out_dir, documents, settings)
    _replace_if_changed(stamp_path, stamp.encode())
    return written


def _stamp(store: Store, documents: list[Watch], settings: FeedSettings) -> str:
    parts = [
        __version__,
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
    feeds = [(spec, _changes_for(store, spec, documents, limit)) for spec in feed_specs(documents)]
    # The pages the entries link to go first, so a link in a new entry always works.
    shown = {change.id: change for _spec, entries in feeds for change in entries}
    written = _write_change_pages(store, out_dir, list(shown.values()), settings)
    rows: list[FeedRow] = []
    for spec, entries in feeds:
        rows.append(
            FeedRow(spec, len(entries), as_utc(entries[0].detected_at) if entries else None)
        )
        for fmt in FORMATS:
            data = render_feed(entries, fmt, settings, spec=spec)
            written += _replace_if_changed(out_dir / feed_href(spec, fmt), data)
    written += _replace_if_changed(out_dir / OPML_NAME, opml(rows, settings))
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
    return render_feed(
        _changes_for(store, spec, documents, settings.limit), fmt, settings, spec=spec
    )


def _changes_for(store: Store, spec: FeedSpec, documents: list[Watch], limit: int) -> list[Change]:
    """The newest ``limit`` changes ``spec`` shows, newest first, read from the store."""
    if spec.document is not None:
        found = store.changes(document=spec.document, ai_only=spec.ai_only, limit=limit)
    elif spec.company is not None:
        # A company's newest changes are among its documents' newest ones.
        found = []
        for doc in documents:
            if company_slug(doc.company) == spec.company:
                found += store.changes(document=doc.id, ai_only=spec.ai_only, limit=limit)
    else:
        found = store.changes(ai_only=spec.ai_only, limit=limit)
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
