"""Writes the board after a sweep: brings the recorded board up to date, then writes
``board.rss``, ``board.atom``, ``board.html`` and the evidence pages its cells link to
(``changes/<id>.html``, or the site's ``documents/<id>/v<n>.html`` for a version no
change recorded). Called by :func:`monitor.publish.write.write_feeds`, which passes its own
writers so a file is replaced only when its bytes change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monitor.models import BoardEntry, Change
from monitor.publish.board_feed import (
    BOARD_NAME,
    board_page,
    render_board_feed,
)
from monitor.publish.board_update import update_board
from monitor.publish.feed import FORMATS, FeedSettings, change_page_href
from monitor.store import Store
from monitor.store.board import board_changes, latest_cells
from monitor.store.documents import added_at

Replace = Callable[[Path, bytes], list[Path]]
WritePages = Callable[[Store, Path, list[Change], FeedSettings], list[Path]]


def write_board(
    store: Store, out_dir: Path, settings: FeedSettings, replace: Replace, pages: WritePages
) -> list[Path]:
    """Updates the board and writes its files; returns those that changed."""
    update_board(store)
    rows = [(doc, latest_cells(store, doc.id)) for doc in store.documents()]
    cited = [entry for _doc, cells in rows for entry in cells.values()]
    changes = board_changes(store, limit=settings.limit)
    written = _evidence(store, out_dir, settings, cited + changes, replace, pages)
    # An empty board feed is dated when watching began (like the change feeds), not 1970.
    since = min(added_at(store).values(), default=None)
    for fmt in FORMATS:
        written += replace(out_dir / f"{BOARD_NAME}.{fmt}",
                           render_board_feed(changes, fmt, settings, since))  # fmt: skip
    return written + replace(out_dir / f"{BOARD_NAME}.html", board_page(rows))


def _evidence(
    store: Store, out_dir: Path, settings: FeedSettings, entries: list[BoardEntry],
    replace: Replace, pages: WritePages,
) -> list[Path]:  # fmt: skip
    """The pages the board links to, written before the links (existing ones are kept)."""
    ids = sorted({e.evidence_change for e in entries if e.evidence_change is not None})
    missing = [i for i in ids if not (out_dir / change_page_href(i)).exists()]
    written = pages(store, out_dir, [store.change(i) for i in missing], settings)
    # A version no change recorded is proved by its page, which the site writes.
    return written
