"""Importing with worker processes (monitor/importer/ahead.py): texts and diffs made ahead by
workers, the store written by the importing process alone in step order. What is stored is
exactly what one process stores, an interrupted import still resumes, and one command
imports several folders, each named after its document."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from monitor.check.observe import Extractor
from monitor.diff import diff_lengths, diff_texts, remember
from monitor.importer.ahead import MIN_STEPS, Workers
from monitor.importer.ota import folder_steps, ota_steps
from monitor.importer.run import Report, import_steps
from monitor.importer.steps import Step
from monitor.models import Classification, Watch
from monitor.publish import FEED_DIR
from monitor.publish.feed import FeedSettings
from monitor.publish.site.write import ChangeFiles, ChangeJob, render_with
from monitor.publish.write import write_feeds
from monitor.store import Store
from tests.cli_helpers import policy, run_cli
from tests.import_scoring import CORPUS, import_folder, watch_for
from tests.shared import need
from tests.test_import import AI, PATH, ota_repo

# One history of each kind: a markdown one with many changes, an HTML one.
HISTORIES = [("versions", "google-privacy"), ("html", "openai-chatgpt-privacy-eu")]


def stored(store: Store, document: str) -> dict[str, Any]:
    """Everything an import records of a document, ids aside."""
    versions = []
    for v in store.versions(document):
        full = store.version(document, v.number)
        assert full is not None
        versions.append((v.number, hashlib.sha256(full.text.encode()).hexdigest(),
                         v.key_sha256, v.snapshot_sha256, v.first_seen, v.origin))  # fmt: skip
    changes = [{**vars(c), "id": None} for c in store.changes(document=document)]
    fetches = [(f.started_at, f.result, f.error, f.snapshot_sha256)
               for f in store.fetches(document, limit=10_000)]  # fmt: skip
    return {"versions": versions, "changes": changes, "fetches": fetches}


@pytest.mark.parametrize("kind,slug", HISTORIES)
def test_workers_store_what_one_process_stores(tmp_path: Path, kind: str, slug: str) -> None:
    folder = need(CORPUS / kind / slug)
    alone = Store(tmp_path / "alone")
    import_folder(alone, kind, folder)
    helped = Store(tmp_path / "helped")
    with Workers(2) as workers:
        report = import_folder(helped, kind, folder, workers)
        assert workers.started  # the workers did the work, no quiet fallback
    assert report.problems == [] and report.imported == report.steps
    assert stored(helped, slug) == stored(alone, slug)
    assert stored(helped, slug)["changes"]  # the comparison covers changes and their diffs
    alone.close()
    helped.close()


def test_an_import_with_workers_resumes_where_it_stopped(tmp_path: Path) -> None:
    history = [(f"{2000 + i}-03-01T00:00:00+00:00", "Record new changes", f"- Clause {i}.\n")
               for i in range(MIN_STEPS + 2)]  # fmt: skip
    steps = ota_steps(ota_repo(tmp_path, history), PATH)
    watch = Watch("example-privacy", "Example", "Example Privacy Policy", "https://example.org/p")

    def stop_after_five(report: Report, step: Step, status: str) -> None:
        if report.steps == 5:
            raise KeyboardInterrupt

    store = Store(tmp_path / "interrupted")
    store.sync_documents([watch], steps[0].at)
    with Workers(2) as workers, pytest.raises(KeyboardInterrupt):
        import_steps(store, watch, "ota", steps, tick=stop_after_five, workers=workers)
    assert len(store.versions("example-privacy")) == 5  # each step its own transaction
    with Workers(2) as workers:
        resumed = import_steps(store, watch, "ota", steps, workers=workers)
    assert (resumed.skipped, resumed.imported) == (5, len(steps) - 5)
    whole = Store(tmp_path / "whole")
    whole.sync_documents([watch], steps[0].at)
    import_steps(whole, watch, "ota", steps)
    assert stored(store, watch.id) == stored(whole, watch.id)


def test_a_diff_made_elsewhere_is_taken_only_when_it_cuts_both_texts() -> None:
    old, new = "We keep your data.\nWe sell nothing.\n", "We keep your data.\nWe sell ads.\n"
    remember(old, new, ((0, 3), (1, 2)))  # cuts neither text: ignored
    assert "".join(t for op, t in diff_texts(old, new).ops if op >= 0) == new
    whole = ((-1, len(old)), (1, len(new)))  # a coarser diff that still rebuilds both
    remember(old + " ", new, whole[:1] + ((-1, 1),) + whole[1:])
    assert diff_texts(old + " ", new).ops == ((-1, old), (-1, " "), (1, new))
    assert diff_lengths(old + " ", new) == ((-1, len(old)), (-1, 1), (1, len(new)))


def test_one_command_imports_several_folders_each_named_after_its_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text("documents:\n" + "".join(
        f"  - id: {doc}\n    company: Example\n    title: {doc}\n    url: https://example.org/{doc}\n"
        for doc in ("example-privacy", "example-terms")))  # fmt: skip
    folders = []
    for doc in ("example-privacy", "example-terms"):
        folder = tmp_path / doc
        folder.mkdir()
        (folder / "2023-01-05T10-00-00Z.html").write_bytes(policy(token="a"))
        (folder / "2023-06-29T18-34-22Z.html").write_bytes(policy(extra=f"<li>{AI[2:]}</li>"))
        folders.append(str(folder))
    common = ("--watchlist", str(watchlist), "--data", str(tmp_path / "data"))
    done = run_cli(capsys, "import", "snapshots", *folders, *common)
    assert done.code == 0, done.err
    assert done.out.splitlines() == [
        f"{doc}: snapshots: 2 step(s) imported, 1 change(s), 1 AI-training"
        for doc in ("example-privacy", "example-terms")
    ]
    both = run_cli(capsys, "import", "snapshots", *folders, "--document", "example-terms", *common)
    assert both.code == 2 and len(both.err.strip().splitlines()) == 1
    assert both.err.startswith("error: --document names one document: give one folder with it")
    unknown = run_cli(capsys, "import", "snapshots", str(tmp_path), *common)
    assert unknown.code == 2
    assert unknown.err.startswith(f"error: no document with id {tmp_path.name} in ")
    assert unknown.err.strip().endswith("or import one folder with --document ID")
    # Every unknown folder is named at once, not one per attempt.
    (tmp_path / "nope-a").mkdir()
    (tmp_path / "nope-b").mkdir()
    both_unknown = run_cli(capsys, "import", "snapshots", str(tmp_path / "nope-a"),
                           str(tmp_path / "nope-b"), *common)  # fmt: skip
    assert both_unknown.code == 2 and len(both_unknown.err.strip().splitlines()) == 1
    assert both_unknown.err.startswith("error: no document with id nope-a, nope-b in ")


def test_a_short_history_starts_no_workers(tmp_path: Path) -> None:
    folder = need(CORPUS / "versions" / "openai-privacy")  # 7 versions: under MIN_STEPS
    store = Store(tmp_path)
    with Workers(2) as workers:
        report = import_folder(store, "versions", folder, workers)
        assert not workers.started
    assert report.imported == report.steps == 7 and watch_for(folder).id == "openai-privacy"
    store.close()


def test_a_short_history_after_a_long_one_is_read_by_the_running_workers(tmp_path: Path) -> None:
    short = need(CORPUS / "versions" / "openai-privacy")
    store = Store(tmp_path / "helped")
    with Workers(2) as workers:
        mine = Extractor()
        _, given = workers.ahead(folder_steps(short), watch_for(short), mine, Extractor(), bool)
        assert given is mine and not workers.started  # too short to start them
        import_folder(store, "versions", need(CORPUS / "versions" / "amazon-alexa-terms"), workers)
        assert workers.started
        _, given = workers.ahead(folder_steps(short), watch_for(short), mine, Extractor(), bool)
        assert given is not mine  # the texts come from the workers
        report = import_folder(store, "versions", short, workers)
    assert report.imported == report.steps == 7
    alone = Store(tmp_path / "alone")
    import_folder(alone, "versions", short)
    assert stored(store, "openai-privacy") == stored(alone, "openai-privacy")
    store.close()
    alone.close()


def test_a_worker_keeps_a_diff_only_when_it_reached_none_of_its_deadlines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker's diff stands for the importing process's only if no deadline cut it short:
    on a machine so busy that every deadline has passed, the worker leaves it to the
    importing process (None), and an idle one gives the diff this process would make."""
    import monitor.diff as diff

    old = "Intro.\nWe may share your data with partners for research.\nEnd.\n"
    new = "Intro.\nWe may share your data with vendors for model training.\nEnd.\n"
    assert diff.sure_lengths(old, new) == diff_lengths(old, new)
    clock = iter(range(0, 10**6, 1_000))  # every reading of the clock 1,000 s later
    monkeypatch.setattr(diff.time, "time", lambda: float(next(clock)))
    assert diff.sure_lengths(old + "x", new) is None
    monkeypatch.undo()
    assert diff.sure_lengths(old + "x", new) == diff_lengths(old + "x", new)


def test_a_verdict_made_elsewhere_is_taken_only_under_the_same_rules() -> None:
    """A worker's verdict stands for this process's classification of the same two texts,
    unless the worker named other rules than those in force here."""
    import monitor.classify as classify

    old = "We keep your data.\n"
    new = "We keep your data.\nWe use your content to train our AI models.\n"
    own = classify.classify(old, new)
    assert own.flags  # the rules flag the added sentence
    given = Classification(flags=(), ai_related=())
    try:
        classify.remember(old, new, given, "other-rules")
        assert classify.classify(old, new) == own
        classify.remember(old, new, given, classify.classifier_version())
        assert classify.classify(old, new) is given
    finally:
        classify._given.clear()


def _pid(_: int) -> int:
    return os.getpid()


def test_change_pages_made_by_the_workers_are_the_pages_made_here(tmp_path: Path) -> None:
    """An import writes its change pages (and their JSON and unified diffs) through its
    workers, each job with the diff made during the import: the same bytes as here."""
    folder = need(CORPUS / "versions" / "google-privacy")
    data = tmp_path / "data"
    store = Store(data)
    asked: list[ChangeJob] = []
    with Workers(2) as workers:
        import_folder(store, "versions", folder, workers)
        assert workers.started
        assert os.getpid() not in workers.map(_pid, list(range(8)))  # made elsewhere

        def counted(
            function: Callable[[ChangeJob], ChangeFiles], jobs: list[ChangeJob]
        ) -> Iterable[ChangeFiles]:
            asked.extend(jobs)
            return workers.map(function, jobs)

        write_feeds(store, data, FeedSettings(), render=render_with(counted))
    changes = data / FEED_DIR / "changes"
    there = {p.name: p.read_bytes() for p in changes.iterdir()}
    shutil.rmtree(data / FEED_DIR)
    write_feeds(store, data, FeedSettings())  # made here, every diff remembered or not
    here = {p.name: p.read_bytes() for p in changes.iterdir()}
    count = len(store.changes(document="google-privacy"))
    assert here == there and len(here) == 3 * count > 60
    assert len(asked) == count and all(job.lengths for job in asked if job.before)
    store.close()


def test_a_worker_leaves_out_the_pairs_it_is_told_are_known() -> None:
    """A history flipping between two variants has the same pair in many chunks: a pair
    whose diff and verdict the importing process has (or will have from an earlier chunk)
    is not made again; every other pair is, and every text is extracted."""
    from monitor.importer.work import work_chunk as _work

    body = "".join(f"Section {i}: we keep your account data for {i} months.\n\n" for i in range(40))
    a, b, c = (f"# Terms\n\n{body}We share it with {n}.\n".encode() for n in ("us", "you", "AI"))
    items = [((f"{n}", "text/markdown"), body) for n, body in ((1, a), (2, b), (1, a), (3, c))]
    keys = [key for key, _ in items]
    texts, pairs, _rules = _work(Extractor(), [], items, (), ())
    assert [(old, new) for old, new, _, _ in pairs] == list(zip(keys, keys[1:], strict=False))
    known = {(keys[0], keys[1])}
    texts_again, pairs_again, _rules = _work(Extractor(), [], items, (), (), known)
    assert texts_again == texts
    assert [(o, n) for o, n, _, _ in pairs_again] == [(keys[1], keys[2]), (keys[2], keys[3])]
    assert pairs_again == pairs[1:]


def test_the_pair_across_two_chunks_is_made_as_within_one() -> None:
    """A chunk whose step before it was not back yet goes without it (its text is not
    extracted twice): that pair goes to a worker alone, and is the pair a chunk makes."""
    from monitor.importer.work import make_pair as _make_pair
    from monitor.importer.work import work_chunk as _work

    body = "".join(f"Section {i}: we keep your account data for {i} months.\n\n" for i in range(40))
    a, b = (f"# Terms\n\n{body}We share it with {n}.\n".encode() for n in ("us", "AI"))
    items = [(("1", "text/markdown"), a), (("2", "text/markdown"), b)]
    texts, pairs, rules = _work(Extractor(), [], items, (), ())
    [(_, _, lengths, verdict)] = pairs
    old, new = texts[("1", "text/markdown")][1], texts[("2", "text/markdown")][1]
    assert lengths is not None and isinstance(verdict, Classification)
    assert _make_pair(old, new) == (lengths, verdict, rules)
