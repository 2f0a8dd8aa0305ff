"""Diff: a change of any page up to the size cap ends within a fixed budget.

Each case is a pair of pages checked one after the other into a real store in this
process: the seconds of the second ``check_document``, of its transaction alone (what it
records with the transaction open: extract, diff and classify run before it), and of
``diff_texts`` on the two extracted texts alone. Floor: an lxml parse of the second
page (wall time, same run).
The diff has a 3 s budget (monitor/diff.py), past which it falls back to whole lines.
Targets (issue 15): the diff ends within its budget (3 s, + 0.5 s of slack for a busy
machine); the recording transaction within a few seconds (10 s), never minutes.
Cases: 10 % of the paragraphs of a 4.9 MB page rewritten (just under the 5 MB cap), the
same page rewritten whole, a 6.9 MB page (cap raised to 8 MB) with 10 % rewritten, and a
real rewrite (one corpus policy replaced by another of a different company).

Run: .venv/bin/python bench/diff_budget.py
"""

from __future__ import annotations

import gzip
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from common import CORPUS, machine, table, verdict

DIFF_TARGET, RECORD_TARGET = 3.5, 10.0
VOCABULARY = [
    "".join(random.Random(i).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(3 + i % 9))
    for i in range(6000)
]


def paragraph(rng: random.Random, words: int = 60) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(words)).capitalize() + "."


def page(paragraphs: list[str]) -> bytes:
    body = "".join(f"<h2>Section {i}</h2><p>{p}</p>" for i, p in enumerate(paragraphs))
    return f"<html><body><nav>menu</nav><main>{body}</main></body></html>".encode()


def synthetic(megabytes: float, rewritten: float, seed: int = 1) -> tuple[bytes, bytes]:
    rng = random.Random(seed)
    paragraphs: list[str] = []
    while sum(len(p) + 30 for p in paragraphs) < megabytes * 1e6:
        paragraphs.append(paragraph(rng))
    edited = list(paragraphs)
    for index in rng.sample(range(len(edited)), int(len(edited) * rewritten)):
        edited[index] = paragraph(rng)
    return page(paragraphs), page(edited)


def real_rewrite() -> tuple[bytes, bytes]:
    first = sorted((CORPUS / "html" / "anthropic-claude-privacy").glob("*.html.gz"))[-1]
    second = sorted((CORPUS / "html" / "openai-chatgpt-privacy-eu").glob("*.html.gz"))[-1]
    return gzip.decompress(first.read_bytes()), gzip.decompress(second.read_bytes())


def measure(old: bytes, new: bytes, max_mb: float) -> tuple[float, float, float, float, float, str]:
    """(check s, record s, record CPU s, diff s, lxml s, outcome) for checking ``new``
    after ``old``: the whole check, and its transaction (what the lock is held for)."""
    import contextlib

    import lxml.html

    from monitor.check.observe import Extractor
    from monitor.check.pipeline import check_document
    from monitor.diff import diff_texts
    from monitor.models import FetchResult, Watch
    from monitor.store import Store

    extractor = Extractor(max_parse_bytes=int(max_mb * 1e6))
    url = "http://127.0.0.1/p"
    watch = Watch("p", "C", "T", url)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        store.sync_documents([watch], datetime.now(UTC))
        held = [0.0, 0.0]
        opened = store.transaction

        @contextlib.contextmanager
        def timed_transaction():  # type: ignore[no-untyped-def]
            start, cpu = time.perf_counter(), time.process_time()
            with opened():
                yield
            held[:] = [time.perf_counter() - start, time.process_time() - cpu]

        store.transaction = timed_transaction  # type: ignore[method-assign]
        at = datetime.now(UTC)
        for body in (old, new):
            at += timedelta(hours=6)
            result = FetchResult(url, url, 200, (), body, "text/html", at, 0.1)
            start, cpu = time.perf_counter(), time.process_time()
            outcome = check_document(store, watch, result, clock=lambda at=at: at,
                                     extractor=extractor)  # fmt: skip
            checked = time.perf_counter() - start
        record, cpu = held
        store.close()
    texts = [extractor.text(b, "text/html", (), ()) for b in (old, new)]
    start = time.perf_counter()
    diff = diff_texts(*texts)
    diffed = time.perf_counter() - start
    start = time.perf_counter()
    lxml.html.document_fromstring(new)
    floor = time.perf_counter() - start
    shown = f"{outcome.status}; {len(diff.ops)} ops"
    return checked, record, cpu, diffed, floor, shown


def main() -> None:
    print(f"machine: {machine()}; wall time, one run per case\n")
    cases = [
        ("4.9 MB page, 10 % of paragraphs rewritten", *synthetic(4.9, 0.1), 5.0),
        ("4.9 MB page rewritten whole", synthetic(4.9, 0)[0], synthetic(4.9, 0, seed=2)[0], 5.0),
        ("6.9 MB page (cap 8 MB), 10 % rewritten", *synthetic(6.9, 0.1), 8.0),
        ("real rewrite: Anthropic's policy replaced by OpenAI's", *real_rewrite(), 5.0),
    ]
    rows, worst_diff, worst_record, worst_cpu = [], 0.0, 0.0, 0.0
    for name, old, new, cap in cases:
        checked, record, cpu, diffed, floor, shown = measure(old, new, cap)
        worst_diff, worst_record = max(worst_diff, diffed), max(worst_record, record)
        worst_cpu = max(worst_cpu, cpu)
        rows.append([name, f"{len(new) / 1e6:.1f}", f"{diffed:.2f}", f"{checked:.2f}",
                     f"{record:.2f}", f"{cpu:.2f}", f"{floor:.3f}", shown])  # fmt: skip
    header = ["case", "MB", "diff s", "check s", "record s (transaction)", "record CPU s",
              "lxml s", "result"]  # fmt: skip
    print(table(header, rows))
    print(f"\nFIGURE diff: worst diff {worst_diff:.2f} s (target <= {DIFF_TARGET:g} s: "
          f"{verdict(worst_diff, DIFF_TARGET)}); worst recording transaction "
          f"{worst_record:.2f} s, {worst_cpu:.2f} s CPU (target <= {RECORD_TARGET:g} s: "
          f"{verdict(worst_record, RECORD_TARGET)}; on CPU {verdict(worst_cpu, RECORD_TARGET)}); "
          f"load {os.getloadavg()[0]:.1f} at the end")  # fmt: skip


if __name__ == "__main__":
    main()
