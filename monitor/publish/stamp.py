"""Whether the published files are up to date, told without the publishing libraries.

``data/feeds.stamp`` holds three lines: a hash of everything the feeds and the site are
made of (changes, health events, documents and their state, settings, this program's
version and templates), a hash of what the pages are made of, and the board's rules as
last computed with a fingerprint of the files they come from. Most checks change
nothing: :func:`publish_if_stale` then compares the stamp (a few queries) and returns,
without importing the feed, template or classifier libraries (``write_feeds`` and the
board's rules cost more than the rest of an unchanged one-document check).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Collection
from importlib import resources
from pathlib import Path

import monitor
from monitor import __version__
from monitor.models import Watch
from monitor.publish import FEED_DIR
from monitor.publish.settings import FeedSettings, as_utc
from monitor.store import Store
from monitor.store.board import stale_boards
from monitor.store.documents import SiteState, site_states, upgrade_count

STAMP_NAME = "feeds.stamp"
STAMP_MAX_BYTES = 65_536  # a stamp is three lines of hashes and names
# Written by every full publishing: the change feed and the site's index, and the board.
PRESENT = ("all.rss", "index.html", "board.rss", "board.atom", "board.html")
# The files the board's rules (monitor.board.board_version) are computed from: the rule
# packs, the facets, and the code that reads them (a new release may read them otherwise).
_PACKAGE = Path(monitor.__file__).parent
RULE_SOURCES = (_PACKAGE / "rules", _PACKAGE / "board" / "facets.yaml",
                _PACKAGE / "classify" / "packs.py", _PACKAGE / "board" / "__init__.py",
                _PACKAGE / "board" / "facets.py")  # fmt: skip


def publish_if_stale(
    store: Store,
    data_dir: str | Path,
    settings: FeedSettings,
    watched: Collection[str] | None = None,
) -> list[Path]:
    """``write_feeds`` when anything it writes may have changed; returns the files that
    changed (none, and nothing imported, when the stamp says all is as last written)."""
    if up_to_date(store, Path(data_dir), settings, watched):
        return []
    from monitor.publish.write import write_feeds

    return write_feeds(store, data_dir, settings, watched=watched)


def up_to_date(
    store: Store, data_dir: Path, settings: FeedSettings, watched: Collection[str] | None
) -> bool:
    """The stamp is this one, every file is there and no document's board is stale."""
    out_dir = data_dir / FEED_DIR
    last = read_stamp(data_dir)
    if len(last) < 3 or not all((out_dir / name).exists() for name in PRESENT):
        return False
    fingerprint, _, rules = last[2].partition(" ")
    if fingerprint != rules_fingerprint() or stale_boards(store, rules):
        return False
    documents = [d for d in store.documents() if watched is None or d.id in watched]
    return last[0] == stamp(store, documents, settings, out_dir.resolve())


def read_stamp(data_dir: Path) -> list[str]:
    data = read_marker(data_dir / STAMP_NAME)
    return data.decode("utf-8", "replace").split("\n") if data is not None else []


def read_marker(path: Path, cap: int = STAMP_MAX_BYTES) -> bytes | None:
    """A small file's bytes (a stamp, a cached template); None (a stamp: publish) when it
    is missing or does not read: no regular file (a FIFO there would block every check for
    ever, /dev/zero fill the memory), over ``cap`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
            return None
        return os.read(fd, min(info.st_size, cap) + 1)  # not a buffer of the whole cap
    except OSError:
        return None
    finally:
        os.close(fd)


def stamp_text(stamp_value: str, pages: str, rules: str) -> bytes:
    return f"{stamp_value}\n{pages}\n{rules_fingerprint()} {rules}".encode()


def rules_fingerprint() -> str:
    """A hash of the files the board's rules come from (reading them is cheap; parsing and
    compiling the rule packs to name them is not)."""
    digest = hashlib.sha256()
    for source in RULE_SOURCES:
        paths = sorted(source.glob("*.yaml")) if source.is_dir() else [source]
        for path in paths:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def site_digest() -> str:
    """A hash of the templates and static files: pages made by other ones are stale."""
    digest = hashlib.sha256()
    for folder in ("templates", "static"):
        for item in sorted(resources.files("monitor.publish.site").joinpath(folder).iterdir(),
                           key=lambda i: i.name):  # fmt: skip
            digest.update(item.name.encode() + item.read_bytes())
    return digest.hexdigest()


def pages_key(settings: FeedSettings) -> str:
    return hashlib.sha256(repr([__version__, site_digest(), settings]).encode()).hexdigest()


def stamp(store: Store, documents: list[Watch], settings: FeedSettings, folder: Path) -> str:
    states = site_states(store)
    parts = [
        __version__,
        site_digest(),
        str(folder),  # the OPML names the folder when there is no base URL
        repr(settings),
        store.latest_ids(),
        upgrade_count(store),
        [tuple(vars(d).values()) for d in documents],
        [_state(states.get(d.id)) for d in documents],
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _state(state: SiteState | None) -> tuple[object, ...]:
    """What the site shows of a document's state: the day it was last checked (not the
    time: a sweep that finds nothing new rewrites no page), failures, a held text."""
    if state is None:
        return ()
    last, *rest = state
    return (as_utc(last).date() if last else None, *rest)
