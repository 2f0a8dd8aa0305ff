"""The AI-training status board (issue 16): cells read from real histories match people's
labels at each point in time, every cell links to evidence that exists, a change of a
cell is exactly one board-feed entry, and re-running adds none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.publish.feed import FeedSettings
from monitor.publish.write import write_feeds
from monitor.store.board import add_board_entry, board_history
from tests.board_replay import CORPUS, CorpusReplay

LABELS = yaml.safe_load((Path(__file__).parent / "data" / "board_labels.yaml").read_text())
HISTORIES = {h["document"]: h for h in LABELS["histories"]}
CELLS = ("trains_on_user_data", "opt_out", "legal_basis", "data_used", "regions")


def board_json(data: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["board", "--json", "--data", str(data)])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def replayed(history: dict[str, Any]) -> list[int]:
    indexes: list[int] = history["replay"]
    return list(range(indexes[0], indexes[1] + 1)) if len(indexes) == 2 else indexes


def dates(slug: str) -> dict[int, datetime]:
    manifest = json.loads((CORPUS / slug / "manifest.json").read_text())
    return {v["index"]: datetime.fromisoformat(v["date"]) for v in manifest["versions"]}


class Replayed:
    """The three histories replayed into one data directory, and the board at each
    labelled point (as `board --json` printed it then)."""

    def __init__(self, tmp: Path) -> None:
        self.replay = CorpusReplay(tmp)
        self.boards: dict[tuple[str, int], dict[str, Any]] = {}
        for doc, history in HISTORIES.items():
            points = {p["index"] for p in history["points"]}
            steps = self.replay.run(history["slug"], doc, history["company"], replayed(history))
            for step in steps:
                if step.index in points:
                    board = board_json(self.replay.data)
                    self.boards[(doc, step.index)] = next(
                        d for d in board["documents"] if d["document"] == doc
                    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayed]:
    replayed_ = Replayed(tmp_path_factory.mktemp("board"))
    yield replayed_
    replayed_.replay.close()


POINTS = [(doc, point) for doc, h in HISTORIES.items() for point in h["points"]]


@pytest.mark.parametrize(
    "doc,point", POINTS, ids=[f"{doc}@{point['index']}" for doc, point in POINTS]
)
def test_board_matches_the_labels(corpus: Replayed, doc: str, point: dict[str, Any]) -> None:
    history = HISTORIES[doc]
    board = corpus.boards[(doc, point["index"])]
    assert board["company"] == history["company"]
    origins = corpus.replay.origins[doc]
    when = dates(history["slug"])
    for name in CELLS:
        label = point["cells"].get(name, {"value": "not stated"})
        cell = board["cells"][name]
        got = {"value": cell["value"], "which": cell["which"]}
        assert got == {"value": label["value"], "which": label.get("which", [])}, name
        if label["value"] == "not stated":
            assert cell["sentence"] == "" and cell["first_seen"] is None, name
            continue
        assert label.get("sentence", "") in cell["sentence"], (name, cell["sentence"])
        assert label.get("where", "") in cell["where"], (name, cell["where"])
        assert origins[cell["version"]] == label["first"], (name, cell["sentence"])
        assert datetime.fromisoformat(cell["first_seen"]) == when[label["first"]], name
        assert origins[cell["since_version"]] == label.get("since", label["first"]), name


def test_every_cell_links_to_evidence_that_exists(corpus: Replayed) -> None:
    feeds = corpus.replay.data / "feeds"
    board = board_json(corpus.replay.data)
    cells = [cell for doc in board["documents"] for cell in doc["cells"].values()]
    assert len(cells) == 5 * len(HISTORIES)
    for cell in cells:
        page = (feeds / cell["evidence"]).read_text(encoding="utf-8")
        if cell["evidence_change"] is not None:
            assert f"v{cell['version']}" in page  # the change that recorded that version
    html = (feeds / "board.html").read_text(encoding="utf-8")
    assert all(f'href="{cell["evidence"]}"' in html for cell in cells)


def test_one_feed_entry_per_cell_change(corpus: Replayed) -> None:
    rows = board_history(corpus.replay.store)
    changes = [row for row in rows if row.kind == "change"]
    assert changes and len(changes) <= FeedSettings().limit
    for fmt, version in (("rss", "rss20"), ("atom", "atom10")):
        feed = feedparser.parse((corpus.replay.data / "feeds" / f"board.{fmt}").read_bytes())
        assert feed.version == version and not feed.bozo
        ids = [entry.id for entry in feed.entries]
        assert len(ids) == len(set(ids)) == len(changes)
        for entry, row in zip(feed.entries, reversed(changes), strict=True):
            assert row.previous_value in entry.title and "→" in entry.title
            assert entry.link.endswith(".html")
    # a value moving is one change row of that cell, whatever else moved with it
    for before, after in zip(rows, rows[1:], strict=False):
        if after.kind == "change" and before.document == after.document:
            assert (before.cell, before.version) != (after.cell, after.version)


def test_the_linkedin_story_is_in_the_feed(corpus: Replayed) -> None:
    feed = feedparser.parse((corpus.replay.data / "feeds" / "board.rss").read_bytes())
    [entry] = [
        e for e in feed.entries
        if "LinkedIn" in e.title and "Trains AI" in e.title and "not stated → yes" in e.title
    ]  # fmt: skip
    assert "develop and train artificial intelligence (AI) models" in entry.description
    assert "2024-09-19T00:32:21+00:00" in entry.description


def test_running_again_records_nothing(corpus: Replayed) -> None:
    replay = corpus.replay
    before = board_history(replay.store)
    files = {p: p.stat().st_mtime_ns for p in (replay.data / "feeds").rglob("*") if p.is_file()}
    assert write_feeds(replay.store, replay.data, FeedSettings()) == []
    history = HISTORIES["linkedin-privacy"]
    last = replayed(history)[-1]
    steps = list(replay.run(history["slug"], "linkedin-privacy", "LinkedIn", [last]))
    assert [s.index for s in steps] == [last]
    assert board_history(replay.store) == before
    after = {p: p.stat().st_mtime_ns for p in (replay.data / "feeds").rglob("*") if p.is_file()}
    assert after == files


def test_board_rows_recorded_but_never_written_are_written_by_the_next_sweep(
    corpus: Replayed,
) -> None:
    # A crash after a board reading was committed and before its files were written (a
    # rules upgrade re-reads every document): the rows are newer than the files, and the
    # next sweep, which reads nothing new and changes nothing else, must still write them.
    replay = corpus.replay
    feeds = replay.data / "feeds"
    assert write_feeds(replay.store, replay.data, FeedSettings()) == []
    before = feedparser.parse((feeds / "board.rss").read_bytes()).entries
    last = board_history(replay.store, "linkedin-privacy")[-1]
    moved = replace(last, id=0, kind="change", value="no", previous_value=last.value)
    with replay.store.transaction():
        add_board_entry(replay.store, moved)
    written = write_feeds(replay.store, replay.data, FeedSettings())
    assert feeds / "board.rss" in written
    entries = feedparser.parse((feeds / "board.rss").read_bytes()).entries
    assert len(entries) == len(before) + 1 and "LinkedIn" in entries[0].title
    assert write_feeds(replay.store, replay.data, FeedSettings()) == []
