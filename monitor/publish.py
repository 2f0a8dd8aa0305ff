"""Writes the feed files of a data directory after a sweep (atomically, only on change)."""

from __future__ import annotations

import os
from pathlib import Path

from monitor.feed import FeedSettings, render_feed
from monitor.store import Store

FEED_DIR = "feeds"
# (file stem, AI-training changes only)
FEEDS = (("all", False), ("ai-training", True))
FORMATS = ("rss", "atom")


def write_feeds(store: Store, data_dir: str | Path, settings: FeedSettings) -> list[Path]:
    """Regenerates every feed file; returns the paths of those whose bytes changed."""
    out_dir = Path(data_dir) / FEED_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, ai_only in FEEDS:
        changes = store.changes(ai_only=ai_only, limit=settings.limit)
        for fmt in FORMATS:
            path = out_dir / f"{stem}.{fmt}"
            data = render_feed(changes, fmt, settings, ai_only=ai_only)
            if _replace_if_changed(path, data):
                written.append(path)
    return written


def _replace_if_changed(path: Path, data: bytes) -> bool:
    # Unchanged files keep their mtime, so readers' conditional GETs keep working.
    if path.exists() and path.read_bytes() == data:
        return False
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True
