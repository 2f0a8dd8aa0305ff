"""A command importing several histories reads the next one while the last steps of one
are recorded (monitor/importer/ahead.py, ``Workers.following`` and ``prefetch``): the
workers are not idle at the end of a history, nor the importing process at the start of
the next. What is stored is exactly what importing each history alone stores, and steps
read ahead are taken only when they are the steps the import still needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from monitor.importer.ahead import MIN_STEPS, Workers
from monitor.importer.ota import ota_steps
from monitor.importer.run import Report, import_steps, reading_ahead
from monitor.importer.steps import Body, Step
from monitor.models import Watch
from monitor.store import Store
from tests.cli_helpers import run_cli, write_watchlist
from tests.test_import import AI, PATH, ota_repo
from tests.test_import_ahead import stored

Log = list[tuple[str, str, int]]


def history(tmp_path: Path, name: str, count: int) -> list[Step]:
    clause = [f"- {name} clause {i}.\n" + (AI if i % 5 == 3 else "") for i in range(count)]
    rows = [(f"{2000 + i}-03-01T00:00:00+00:00", "Record new changes", text)
            for i, text in enumerate(clause)]  # fmt: skip
    return ota_steps(ota_repo(tmp_path / name, rows), PATH)


def watch(name: str) -> Watch:
    return Watch(name, "Example", f"Example {name}", f"https://example.org/{name}")


def _load(load: Callable[[], Body], log: Log, document: str, index: int) -> Body:
    log.append(("read", document, index))
    return load()


def logged(steps: list[Step], log: Log, document: str) -> list[Step]:
    """The steps, each noting in ``log`` when its bytes are read."""
    return [replace(s, load=partial(_load, s.load, log, document, i)) for i, s in enumerate(steps)]


def import_both(store: Store, histories: dict[str, list[Step]], log: Log) -> list[Report]:
    """The histories in turn, as `import ota` does with several folders."""

    def tick(report: Report, step: Step, status: str) -> None:
        log.append(("recorded", report.document, report.steps - 1))

    names = list(histories)
    store.sync_documents([watch(n) for n in names], histories[names[0]][0].at)
    reports = []
    with Workers(2) as workers:
        for index, name in enumerate(names):
            if index + 1 < len(names):
                after = names[index + 1]
                workers.following(partial(reading_ahead, store, watch(after), "ota",
                                          histories[after], workers))  # fmt: skip
            reports.append(import_steps(store, watch(name), "ota", histories[name],
                                        tick=tick, workers=workers))  # fmt: skip
    return reports


@pytest.mark.parametrize("second", [MIN_STEPS + 3, 3])  # long, and shorter than a chunk
def test_the_next_history_is_read_while_the_last_steps_of_one_are_recorded(
    tmp_path: Path, second: int
) -> None:
    log: Log = []
    first, then = history(tmp_path, "first", MIN_STEPS + 5), history(tmp_path, "then", second)
    store = Store(tmp_path / "data")
    reports = import_both(
        store, {"first": logged(first, log, "first"), "then": logged(then, log, "then")}, log
    )
    assert [r.imported for r in reports] == [len(first), second]
    # The next history's first step was read before the last step of the first was recorded
    assert log.index(("read", "then", 0)) < log.index(("recorded", "first", len(first) - 1))
    # and every step of it read once (taken from what was read ahead, not read again).
    assert [log.count(("read", "then", i)) for i in range(second)] == [1] * second
    for name, steps in (("first", first), ("then", then)):
        alone = Store(tmp_path / f"alone-{name}")
        alone.sync_documents([watch(name)], steps[0].at)
        import_steps(alone, watch(name), "ota", steps)
        assert stored(store, name) == stored(alone, name)
        assert stored(store, name)["changes"]
        alone.close()
    store.close()


def test_steps_read_ahead_are_dropped_when_the_import_needs_others(tmp_path: Path) -> None:
    """Read ahead for the whole history, then given a part of it (the steps it needs
    changed: another run recorded some, the archive grew): read again, stored right."""
    log: Log = []
    steps = logged(history(tmp_path, "doc", MIN_STEPS + 4), log, "doc")
    store = Store(tmp_path / "data")
    store.sync_documents([watch("doc")], steps[0].at)
    with Workers(2) as workers:
        import_steps(store, watch("doc"), "ota", steps[:2], workers=workers)
        reading_ahead(store, watch("doc"), "ota", steps, workers)  # steps 0-1 not wanted
        before = len(log)
        import_steps(store, watch("doc"), "ota", steps[2:-1], workers=workers)
        # what was read ahead for the whole history is not taken for a part of it
        assert log[before:].count(("read", "doc", 2)) == 1
        import_steps(store, watch("doc"), "ota", steps, workers=workers)
    alone = Store(tmp_path / "alone")
    alone.sync_documents([watch("doc")], steps[0].at)
    import_steps(alone, watch("doc"), "ota", steps)
    assert stored(store, "doc") == stored(alone, "doc")
    store.close()
    alone.close()


def versions_folder(root: Path, name: str, count: int) -> Path:
    """A folder in the corpus layout (manifest.json listing markdown versions)."""
    folder = root / name
    folder.mkdir(parents=True)
    entries = []
    for i in range(count):
        text = f"# {name}\n\n" + "".join(f"- Clause {j} of {name}.\n" for j in range(i + 20))
        (folder / f"v{i}.md").write_text(text + (AI if i % 4 == 2 else ""))
        entries.append({"file": f"v{i}.md", "date": f"{2001 + i}-01-01T00:00:00Z"})
    (folder / "manifest.json").write_text(json.dumps({"versions": entries}))
    return folder


def test_a_history_that_cannot_be_listed_fails_at_its_turn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Listed early (to be read ahead), a broken history still fails where it did: after
    the history before it is imported whole, with the same one-line error."""
    good = versions_folder(tmp_path, "good-privacy", MIN_STEPS + 2)
    broken = tmp_path / "broken-privacy"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"versions": [{"date": "2020-01-01"}]}')
    urls = {"good-privacy": "https://example.org/g", "broken-privacy": "https://example.org/b"}
    wl = write_watchlist(tmp_path / "wl.yaml", urls)
    done = run_cli(capsys, "import", "ota", str(good), str(broken), "--jobs", "2",
                   "--watchlist", str(wl), "--data", str(tmp_path / "data"))  # fmt: skip
    assert done.code == 1
    assert f"good-privacy: ota: {MIN_STEPS + 2} step(s) imported" in done.out
    assert (
        done.err.strip()
        .splitlines()[-1]
        .startswith(
            "error: broken-privacy: ota: " + f"{broken}/manifest.json is not a versions manifest"
        )
    )
