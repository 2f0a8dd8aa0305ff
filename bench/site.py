"""The static site for a store with 300 versions of one document: how long writing the whole
site takes, as a ratio to a floor measured in the same run (rendering the feeds alone), and
how many files a second run with no change rewrites (0) and a run after one change rewrites.

The store is built with the store's own API from a real privacy policy (the last Google
Privacy Policy version of ../shared/corpus/versions, Open Terms Archive data, ODC-BY 1.0):
each version edits a few paragraphs of the one before, every 30th adds an AI-training
sentence, with real diffs (monitor.diff) and real raw snapshots.
Run: .venv/bin/python bench/site.py [VERSIONS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.diff import diff_texts  # noqa: E402
from monitor.models import Change, Flag, Watch  # noqa: E402
from monitor.publish.feed import FeedSettings, render_feed  # noqa: E402
from monitor.publish.specs import feed_specs  # noqa: E402
from monitor.publish.write import _changes_for, write_feeds, write_site_folder  # noqa: E402
from monitor.store import Store  # noqa: E402

T = TypeVar("T")
POLICY = ROOT.parent / "shared/corpus/versions/google-privacy/0049.md"
DOC = Watch("google-privacy", "Google", "Privacy Policy", "https://policies.google.com/privacy")
MAX_RATIO = 120  # measured: about 55 (5.5 s for 300 versions, 1,800 files, 140 MB)
AI = "We may use your public posts to train our AI models, version {n}."


def texts(count: int) -> list[str]:
    paragraphs = [p for p in POLICY.read_text(encoding="utf-8").split("\n") if p.strip()]
    out = []
    for n in range(count):
        edited = list(paragraphs)
        for k in range(3):  # a few paragraphs edited per version, moving through the text
            at = (n * 7 + k * 131) % len(edited)
            edited[at] = f"{edited[at]} (revision {n}.{k})"
        if n % 30 == 29:
            edited.insert(len(edited) // 2, AI.format(n=n))
        out.append("\n".join(edited))
    return out


def build(store: Store, count: int, first: int = 0) -> None:
    """Versions ``first`` .. ``count - 1`` (and their changes)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    store.sync_documents([DOC], start)
    every = texts(count)
    previous = every[first - 1] if first else ""
    for n, text in list(enumerate(every))[first:]:
        at = start + timedelta(hours=6 * n)
        page = f"<html><body><main>{text}</main></body></html>".encode()
        snapshot = store.save_snapshot(page, "text/html; charset=utf-8", at)
        store.record_fetch(DOC.id, {"started_at": at, "duration": 0.1, "result": "ok",
                                    "http_status": 200, "error": "", "url": DOC.url,
                                    "final_url": DOC.url, "snapshot_sha256": snapshot,
                                    "headers": [("content-type", "text/html")]})  # fmt: skip
        number = store.add_version(DOC.id, text, str(n), snapshot, at, "1")
        if previous:
            diff = diff_texts(previous, text)
            flags = tuple(Flag(p, "added", "train our AI models", "public-data-training", "r")
                          for p in diff.added if "train our AI" in p)  # fmt: skip
            store.add_change(Change(
                id=0, document=DOC.id, company=DOC.company, title=DOC.title, url=DOC.url,
                detected_at=at, kind="changed", from_version=number - 1, to_version=number,
                added_chars=sum(map(len, diff.added)), removed_chars=sum(map(len, diff.removed)),
                diff_text=diff.rendered, flags=flags, added=diff.added, removed=diff.removed,
            ))  # fmt: skip
        previous = text


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """CPU seconds of this process (steady on a busy machine, unlike the wall clock)."""
    started = time.process_time()
    result = action()
    return time.process_time() - started, result


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        store = Store(data)
        build(store, count)
        settings = FeedSettings()
        documents = store.documents()

        def feeds_only() -> int:
            specs = feed_specs(documents)
            for spec in specs:
                entries = _changes_for(store, spec, documents, settings.limit, False)
                for fmt in ("rss", "atom"):
                    render_feed(entries, fmt, settings, spec=spec)
            return len(specs)

        floor, _ = timed(feeds_only)
        first, written = timed(lambda: write_feeds(store, data, settings))
        again, rewritten = timed(lambda: write_site_folder(store, data, data / "feeds", settings))
        sweep, swept = timed(lambda: write_feeds(store, data, settings))
        build(store, count + 1, first=count)  # one more version: one change
        new, added = timed(lambda: write_feeds(store, data, settings))
        size = sum(p.stat().st_size for p in (data / "feeds").rglob("*") if p.is_file())
        store.close()
    ratio = first / floor
    print(f"versions: {count}, files: {len(written)}, site size: {size / 1e6:.1f} MB")
    print(f"floor (the feeds alone, rendered; CPU seconds): {floor:.2f} s")
    print(f"whole site, first write: {first:.2f} s = {ratio:.1f} x the floor")
    print(f"`site` again, no change: {again:.2f} s, files rewritten: {len(rewritten)}")
    print(f"a sweep with no change: {sweep:.3f} s, files rewritten: {len(swept)}")
    print(f"a sweep with one new change: {new:.2f} s, files written: {len(added)}")
    ok = not rewritten and not swept and ratio < MAX_RATIO
    print("ok" if ok else "FAILED: a run with no change rewrote files, or the site took too long")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
