"""Every history of ../shared/corpus imported (Open Terms Archive data, ODC-BY 1.0): the changes
and AI-training flags recorded per step score exactly what the kept replay of the same history
through `check` scored (replay.py's truth, labels and scoring; tests/import_scoring.py)."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from monitor.importer.ahead import Workers
from monitor.store import Store
from tests.cli_helpers import run_cli
from tests.import_scoring import CORPUS, SCORED, import_folder, imported_score, kept_scores
from tests.shared import need

KEPT = kept_scores()
CASES = sorted(
    [("versions", slug) for slug in KEPT if (CORPUS / "versions" / slug).exists()]
    + [("html", slug) for slug in KEPT if (CORPUS / "html" / slug).exists()]
)


def test_every_corpus_history_is_covered() -> None:
    on_disk = {p.parent.name for kind in ("versions", "html")
               for p in need(CORPUS / kind).glob("*/manifest.json")}  # fmt: skip
    assert on_disk == set(KEPT) and len(CASES) == len(KEPT) == 10


@pytest.mark.parametrize("kind,slug", CASES)
def test_imported_history_scores_like_the_replay(tmp_path: Path, kind: str, slug: str) -> None:
    folder = need(CORPUS / kind / slug)
    store = Store(tmp_path)
    with Workers(2) as workers:  # as the command imports: texts and diffs made ahead
        report = import_folder(store, kind, folder, workers)
    assert report.problems == [] and report.imported == report.steps > 0
    scores = imported_score(store, kind, folder)
    assert {k: scores[k] for k in SCORED if k in scores} == KEPT[slug]
    again = import_folder(store, kind, folder)  # importing twice adds nothing
    assert (again.imported, again.skipped, again.changes) == (0, report.steps, 0)
    store.close()


def test_google_history_feeds_the_2023_ai_change_only_with_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = need(CORPUS / "versions" / "google-privacy")
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text("documents:\n  - id: google-privacy\n    company: Google\n"
                         "    title: Google Privacy Policy\n"
                         "    url: https://policies.google.com/privacy\n")  # fmt: skip
    data = str(tmp_path / "data")
    common = ("--watchlist", str(watchlist), "--data", data)
    done = run_cli(capsys, "import", "ota", str(folder), "--document", "google-privacy",
                   "--path", "Google/Privacy Policy.md", *common)  # fmt: skip
    assert done.code == 0, done.err
    assert "50 step(s) imported" in done.out and "AI-training" in done.out
    live = feedparser.parse(run_cli(capsys, "feed", "--data", data, "--ai-only").out)
    assert live.entries == []  # history never floods the live feed
    history = run_cli(capsys, "feed", "--data", data, "--ai-only", "--include-history")
    entries = feedparser.parse(history.out).entries
    dates = [e.published_parsed[:3] for e in entries]
    assert (2023, 6, 29) in dates
    rows = json.loads(run_cli(capsys, "changes", "--data", data, "--json", "--ai-only").out)
    june = next(r for r in rows if r["detected_at"].startswith("2023-06-29"))
    assert june["origin"] == "ota" and june["archived_at"] == june["detected_at"]
    assert len(june["origin_ref"]) == 40  # the OTA commit
    assert "AI models" in " ".join(f["sentence"] for f in june["flags"])
