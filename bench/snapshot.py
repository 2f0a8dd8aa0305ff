"""Per snapshot: what one check's own work costs against an lxml parse of the same bytes.

Every page replay.py serves (``corpus/html`` raw snapshots, ``corpus/versions`` rendered
in noisy chrome) goes through ``check_document`` in this process, in order, into a real
SQLite store: store the raw snapshot, read it back, extract, diff and classify against
the current version, record the version / change / fetch, commit. That CPU time is
divided by the least CPU time of ``lxml.html.document_fromstring`` on the same bytes.
Rules are warmed first (start-up cost is bench/startup.py's figure).
Targets (issue 15): median <= 3x, p95 <= 8x.

Run: .venv/bin/python bench/snapshot.py [--limit N] [--kind html|versions|both]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta

from common import cpu_best, histories, machine, median, percentile, table, verdict

MEDIAN_TARGET, P95_TARGET = 3.0, 8.0


def measure(kind: str, limit: int) -> list[tuple[str, int, int, float, float, str]]:
    """(document, step, bytes, pipeline CPU s, lxml CPU s, status) for every page."""
    import lxml.html

    from monitor.check.pipeline import check_document
    from monitor.models import FetchResult, Watch
    from monitor.store import Store

    rows = []
    for slug, makers in histories(kind, limit):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(tmp)
            url = f"http://127.0.0.1/{slug}"
            watch = Watch(slug, "Company", slug, url)
            store.sync_documents([watch], datetime.now(UTC))
            start = datetime.now(UTC)
            for step, make in enumerate(makers):
                body = make()
                at = start + timedelta(hours=6 * step)
                result = FetchResult(url, url, 200, (("content-type", "text/html"),), body,
                                     "text/html; charset=utf-8", at, 0.1)  # fmt: skip
                cpu = time.process_time()
                outcome = check_document(store, watch, result, clock=lambda at=at: at)
                cpu = time.process_time() - cpu
                floor = cpu_best(3, lambda body=body: lxml.html.document_fromstring(body))
                rows.append((slug, step, len(body), cpu, floor, outcome.status))
            store.close()
    return rows


def warm() -> None:
    """Imports, and the rules every sentence of a policy can reach, compiled once."""
    from monitor.classify import classify
    from monitor.extract.html import extract_text

    for _, makers in histories("versions", 1):
        classify("", extract_text(makers[0]()))


def report(kind: str, rows: list[tuple[str, int, int, float, float, str]]) -> None:
    ratios = [cpu / floor for _, _, _, cpu, floor, _ in rows]
    med, p95 = median(ratios), percentile(ratios, 0.95)
    worst = max(rows, key=lambda r: r[3] / r[4])
    by_doc: dict[str, list[float]] = {}
    for (slug, *_), ratio in zip(rows, ratios, strict=True):
        by_doc.setdefault(slug, []).append(ratio)
    print(f"\n### {kind}: {len(rows)} snapshots\n")
    body = [
        [slug, str(len(r)), f"{median(r):.2f}", f"{percentile(r, 0.95):.2f}", f"{max(r):.2f}"]
        for slug, r in by_doc.items()
    ]
    print(table(["document", "snapshots", "median x lxml", "p95 x lxml", "worst x lxml"], body))
    cpu = [r[3] for r in rows]
    print(f"\npipeline CPU per snapshot: median {median(cpu) * 1000:.0f} ms, "
          f"p95 {percentile(cpu, 0.95) * 1000:.0f} ms")  # fmt: skip
    print(f"FIGURE per-snapshot {kind}: median {med:.2f}x lxml (target <= {MEDIAN_TARGET:g}x: "
          f"{verdict(med, MEDIAN_TARGET)}), p95 {p95:.2f}x (target <= {P95_TARGET:g}x: "
          f"{verdict(p95, P95_TARGET)})")  # fmt: skip
    slug, step, size, wcpu, wfloor, status = worst
    print(
        f"worst document: {slug} step {step} ({size / 1e3:.0f} KB, {status}): "
        f"{wcpu * 1000:.0f} ms vs lxml {wfloor * 1000:.1f} ms = {wcpu / wfloor:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="first N steps of each history")
    parser.add_argument("--kind", choices=("html", "versions", "both"), default="both")
    args = parser.parse_args()
    print(f"machine: {machine()}; CPU time of this process; lxml floor: best of 3")
    warm()
    for kind in ("html", "versions") if args.kind == "both" else (args.kind,):
        report(kind, measure(kind, args.limit))


if __name__ == "__main__":
    main()
