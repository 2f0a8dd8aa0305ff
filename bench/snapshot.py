"""Per snapshot: what one check's own work costs against an lxml parse of the same bytes.

Every page replay.py serves (``corpus/html`` raw snapshots, ``corpus/versions`` rendered
in noisy chrome) goes through ``check_document`` in this process, in order, into a real
SQLite store: store the raw snapshot, read it back, extract, diff and classify against
the current version, record the version / change / fetch, commit. That CPU time is
divided by the least CPU time of ``lxml.html.document_fromstring`` on the same bytes.
Rules are warmed first (start-up cost is bench/startup.py's figure).
Targets (issue 15): median <= 3x, p95 <= 8x.

Run: .venv/bin/python bench/snapshot.py [--limit N] [--kind html|versions|both] [--profile]
(``--profile``: the checks under cProfile, their time by stage; the ratios are then not
the figure.)
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from common import cpu_best, histories, machine, median, percentile, table, verdict

MEDIAN_TARGET, P95_TARGET = 3.0, 8.0


# Where a function's own time goes, by the file it is in (first match); a C function with
# no file (a regex, a hash, a SQLite call) by its name, else to its callers.
STAGES = [
    ("/store/delta.py", "snapshot codec"), ("/store/compress.py", "snapshot codec"),
    ("/extract/", "extract"), ("lxml", "extract"), ("unicodedata", "extract"),
    ("/diff", "diff"), ("linediff", "diff"), ("diff_match_patch", "diff"),
    ("/classify/", "classify"), ("/board", "board"), ("sqlite_utils", "SQL"),
    ("/store/", "store (Python)"), ("/check/", "check (Python)"), ("hashlib", "hashing"),
]  # fmt: skip
BUILTINS = [("sqlite3", "SQL"), ("sha256", "hashing"), ("hexdigest", "hashing"),
            ("zlib", "snapshot codec"), ("zstd", "snapshot codec"), ("Zstd", "snapshot codec"),
            ("lxml", "extract"), ("etree", "extract")]  # fmt: skip
PROFILE = cProfile.Profile()


def stage(func: tuple[str, int, str]) -> str | None:
    path, _, name = func
    if path == "~":
        return next((s for key, s in BUILTINS if key in name), None)
    if "pathlib" in path or "contextlib" in path or "functools" in path:
        return None
    return next((s for key, s in STAGES if key in path), "other")


def by_stage(stats: dict) -> dict[str, float]:  # type: ignore[type-arg]
    def owners(func: tuple[str, int, str], depth: int = 0) -> dict[str, float]:
        found = stage(func)
        if found is not None or depth > 4:
            return {found or "other": 1.0}
        callers = stats[func][4]
        total = sum(v[2] for v in callers.values()) or 1.0
        out: dict[str, float] = defaultdict(float)
        for caller, v in callers.items():
            for name, share in owners(caller, depth + 1).items():
                out[name] += share * v[2] / total
        return out

    spent: dict[str, float] = defaultdict(float)
    for func, (_, _, own, _, _) in stats.items():
        for name, share in owners(func).items():
            spent[name] += own * share
    return spent


def profile_report(kind: str, count: int) -> None:
    spent = by_stage(pstats.Stats(PROFILE).stats)  # type: ignore[attr-defined]
    total = sum(spent.values())
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])
    rows = [[name, f"{100 * t / total:.1f}", f"{1000 * t / count:.2f}"]
            for name, t in ranked if t / total >= 0.002]  # fmt: skip
    print(f"\n### {kind}: where a check's CPU goes (cProfile, {count} snapshots)\n")
    print(table(["stage", "% of the checks", "ms per snapshot (profiled)"], rows))
    PROFILE.clear()  # type: ignore[attr-defined]


def measure(
    kind: str, limit: int, profile: bool = False
) -> list[tuple[str, int, int, float, float, str]]:
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
                if profile:
                    PROFILE.enable()
                outcome = check_document(store, watch, result, clock=lambda at=at: at)
                if profile:
                    PROFILE.disable()
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
    parser.add_argument("--profile", action="store_true", help="time by stage (cProfile)")
    args = parser.parse_args()
    print(f"machine: {machine()}; CPU time of this process; lxml floor: best of 3")
    warm()
    for kind in ("html", "versions") if args.kind == "both" else (args.kind,):
        rows = measure(kind, args.limit, args.profile)
        if args.profile:
            profile_report(kind, len(rows))
        else:
            report(kind, rows)


if __name__ == "__main__":
    main()
