"""Writes the board after a sweep: brings the recorded board up to date, then writes
``board.rss``, ``board.atom`` and ``board.html``. Called by
:func:`monitor.publish.write.write_feeds` after the site, so every page a cell links to
(``changes/<id>.html``, or ``documents/<id>/v<n>.html`` for a version no change recorded)
is written already; a file is replaced only when its bytes change."""

from __future__ import annotations

from pathlib import Path

from monitor.publish.board_feed import BOARD_NAME, board_page, render_board_feed
from monitor.publish.board_update import update_board
from monitor.publish.feed import FORMATS, FeedSettings
from monitor.publish.site.write import replace_if_changed
from monitor.publish.stamp import read_marker
from monitor.store import Store
from monitor.store.board import board_changes, latest_cells, newest_board_row
from monitor.store.documents import added_at


def write_board(
    store: Store, out_dir: Path, settings: FeedSettings, *, unchanged: bool = False,
    marker: Path | None = None,
) -> list[Path]:  # fmt: skip
    """Updates the board and writes its files; returns those that changed. ``unchanged``:
    the documents and settings are as when the files were last written, so when ``marker``
    holds the newest board row (the files are made of the rows alone) they are still right
    and are not rendered. ``marker`` (outside the published folder)
    records the newest row the files were made from."""
    update_board(store)
    names = [f"{BOARD_NAME}.{ext}" for ext in (*FORMATS, "html")]
    # The newest board row the files were made from: a crash after a reading was committed
    # and before its files were written leaves them older than the rows, and the next
    # sweep (which reads nothing new) must still write them.
    newest = str(newest_board_row(store)).encode()
    if (
        unchanged
        and marker is not None
        and read_marker(marker) == newest
        and all((out_dir / name).exists() for name in names)
    ):
        return []
    rows = [(doc, latest_cells(store, doc.id)) for doc in store.documents()]
    changes = board_changes(store, limit=settings.limit)
    # An empty board feed is dated when watching began (like the change feeds), not 1970.
    since = min(added_at(store).values(), default=None)
    written: list[Path] = []
    for fmt in FORMATS:
        data = render_board_feed(changes, fmt, settings, since)
        written += replace_if_changed(out_dir / f"{BOARD_NAME}.{fmt}", data)
    written += replace_if_changed(out_dir / f"{BOARD_NAME}.html", board_page(rows))
    if marker is not None:
        replace_if_changed(marker, newest)  # written last: the files above are complete
    return written
