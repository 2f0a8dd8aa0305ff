"""`first-seen` on 300 versions of one document, as ratios against floors of the same run.

The store holds 300 versions of the last Google privacy policy of ../shared/corpus (Open
Terms Archive data, ODC-BY 1.0; a synthetic text when the corpus is absent), about
110,000 characters each, with 299 changes. The phrase is in 60 of them, in two stretches
(added, removed, back). Measured in-process, so the interpreter's start does not hide it:

- floor: reading every version's plain text once (what any answer that looks at every
  version costs at least);
- first-seen with the FTS5 prefilter (it reads the 60 candidates, newest first);
- first-seen without it (every version read and matched);
- a phrase in no version (the prefilter finds no candidate).

Run: .venv/bin/python bench/first_seen.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor import phrase  # noqa: E402
from monitor.cli.archive import find_phrase  # noqa: E402
from monitor.errors import MonitorError  # noqa: E402
from monitor.models import Change  # noqa: E402
from monitor.store import Store  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "versions" / "google-privacy"
VERSIONS = 300
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def base_text() -> str:
    files = sorted(CORPUS.glob("*.md"))
    if files:
        return files[-1].read_text().replace("AI models", "artificial intelligence systems")
    return "\n".join(f"Clause {i}: we keep your data for a while." for i in range(2000))


def build(folder: Path) -> Store:
    store = Store(folder)
    store.db["documents"].insert({"id": "doc", "company": "C", "title": "T", "url": "u"})
    text = base_text()
    with store.transaction():
        for n in range(1, VERSIONS + 1):
            extra = "\nWe train AI models on your posts." if 150 <= n < 200 or n > 290 else ""
            at = T0 + timedelta(hours=n)
            store.add_version("doc", f"Version {n}.\n{text}{extra}", f"k{n}", "s", at, "1")
            if n > 1:
                store.add_change(Change(0, "doc", "C", "T", "u", at, "changed", n - 1, n, 1, 1, ""))
    return store


def timed(work: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def absent(store: Store) -> None:
    try:
        find_phrase(store, "doc", "blockchain ledger")
    except MonitorError:
        return
    raise AssertionError("found a phrase that is in no version")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        store = build(Path(tmp))
        size = (Path(tmp) / "monitor.db").stat().st_size
        floor = timed(lambda: sum(len(store.version("doc", n).text) for n in range(1, 301)))  # type: ignore[union-attr]
        found = find_phrase(store, "doc", "AI models")
        assert (found.version, found.removed_by is not None, found.present_now) == (150, True, True)
        fts = timed(lambda: find_phrase(store, "doc", "AI models"))
        with mock.patch.object(phrase, "fts_words", lambda _text: []):
            scan = timed(lambda: find_phrase(store, "doc", "AI models"))
        missing = timed(lambda: absent(store))
        store.close()
    print(f"store: {VERSIONS} versions, {size / 1e6:.1f} MB")
    print(f"floor (read every text once): {floor:.3f} s")
    rows = (("first-seen, FTS prefilter", fts), ("first-seen, every line read (no index)", scan),
            ("phrase in no version", missing))  # fmt: skip
    for label, seconds in rows:
        print(f"{label}: {seconds:.3f} s = {seconds / floor:.2f} x floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
