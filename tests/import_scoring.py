"""Imports a corpus history (../shared/corpus) and scores it the way ../shared/eval/replay.py
scores a replay: replay.py's own truth (versions_steps / html_steps), labels and ``score``
function, with the changes each imported step recorded in place of a `check`'s."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from markdown_it import MarkdownIt

from monitor.importer.ahead import Workers
from monitor.importer.ota import folder_steps
from monitor.importer.run import Report, import_steps
from monitor.importer.snapshots import snapshot_steps
from monitor.models import Watch
from monitor.store import Store
from tests.shared import SHARED, need

CORPUS = SHARED / "corpus"
VERSIONS = sorted(p.name for p in (CORPUS / "versions").glob("*/manifest.json"))
# The kept replay run (bench/RESULTS.md, ../shared/eval/replay.py --recheck 10): what the
# replay scored per document, rechecks left out (they recorded nothing: recheck fp 0).
KEPT = Path(__file__).parent / "data" / "replay_scores.json"
SCORED = ("change_tp", "change_fp", "change_fn", "ai_tp", "ai_fp", "ai_fn")


@cache
def replay_module() -> ModuleType:
    path = need(SHARED / "eval" / "replay.py")
    spec = importlib.util.spec_from_file_location("replay", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def watch_for(folder: Path) -> Watch:
    man = json.loads((folder / "manifest.json").read_text())
    company = man.get("company", man.get("service", "unknown"))
    url = man.get("source_url") or f"https://example.org/{man['slug']}"
    return Watch(man["slug"], company, man.get("title", man["slug"]), url)


def import_folder(store: Store, kind: str, folder: Path, workers: Workers | None = None) -> Report:
    watch = watch_for(folder)
    store.sync_documents([watch], datetime.now(UTC))
    steps = folder_steps(folder) if kind == "versions" else snapshot_steps(folder)
    archive = "ota" if kind == "versions" else "snapshots"
    return import_steps(store, watch, archive, steps, workers=workers)


def imported_score(store: Store, kind: str, folder: Path) -> dict[str, Any]:
    """replay.py's score of the imported history (no rechecks, no timings)."""
    replay = replay_module()

    man = json.loads((folder / "manifest.json").read_text())
    entries = man["versions"] if kind == "versions" else man["snapshots"]
    md = MarkdownIt("commonmark").enable("table")
    make = replay.versions_steps if kind == "versions" else replay.html_steps
    truths = [truth for _serve, truth in make(folder, man, md)]
    labels: dict[int, Any] | None = None
    if kind == "versions" and (folder / "labels.json").exists():
        transitions = json.loads((folder / "labels.json").read_text())["transitions"]
        labels = {t["index"]: t for t in transitions}
    by_ref: dict[str, list[bool]] = {}
    for change in store.changes(document=man["slug"]):
        assert change.origin is not None
        by_ref.setdefault(change.origin.ref, []).append(change.ai_training)
    rows = []
    for i, (entry, truth) in enumerate(zip(entries, truths, strict=True)):
        ref = str(entry.get("commit") or entry["file"]) if kind == "versions" else entry["file"]
        label = (labels or {}).get(i, {})
        recorded = by_ref.get(ref, [])
        rows.append({"step": i, "recheck": False,
                     "truth": "neutral" if label.get("truth") == "neutral" else truth,
                     "recorded": len(recorded), "ai_flag": any(recorded),
                     "label": label.get("label", "none"),
                     "confidence": label.get("confidence")})  # fmt: skip
    scores: dict[str, Any] = replay.score(kind, man["slug"], len(rows), rows, [], {"ok": True},
                                          labels is not None)  # fmt: skip
    return scores


def kept_scores() -> dict[str, dict[str, int]]:
    found: dict[str, Any] = json.loads(KEPT.read_text())
    return {slug: scores for slug, scores in found.items() if not slug.startswith("_")}
