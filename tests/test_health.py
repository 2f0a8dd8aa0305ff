"""Health: N failures in a row make one "failing" event; the next success one "recovered"."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from monitor.store import Store
from monitor.store.documents import site_states
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer


def test_failing_then_recovered(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    with LocalServer() as server:
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        args = ["check", "--watchlist", str(watchlist), "--data", data, "--retries", "0",
                "--alert-after", "2"]  # fmt: skip
        server.route("/p", body=policy())
        assert run_cli(capsys, *args).code == 0
        server.route("/p", status=503, body=b"down")
        states = []
        for _ in range(3):
            assert run_cli(capsys, *args).code == 1
            status = json.loads(run_cli(capsys, "status", "--json", "--data", data).out)[0]
            states.append((status["consecutive_failures"], status["monitoring"]))
            assert_site_state(data, "doc")
        assert states == [(1, "ok"), (2, "failing"), (3, "failing")]
        # Failing since the first failed check, not since the alert (the second).
        store = Store(data)
        first_failure = store.fetches("doc", limit=3)[-1].started_at
        store.close()
        assert status["failing_since"] == first_failure.isoformat(timespec="seconds")
        assert "MONITORING FAILING since" in run_cli(capsys, "status", "--data", data).out
        server.route("/p", body=policy())
        assert run_cli(capsys, *args).code == 0
    status = json.loads(run_cli(capsys, "status", "--json", "--data", data).out)[0]
    assert (status["consecutive_failures"], status["monitoring"]) == (0, "ok")
    assert_site_state(data, "doc")
    store = Store(data)
    events = [(e.kind, e.failures) for e in store.health_events()]
    assert events == [("failing", 2), ("recovered", 3)]
    assert "503" in store.health_events()[0].error
    store.close()


def assert_site_state(data: str, doc: str) -> None:
    """The feeds stamp's one-query state of every document says what `status` says."""
    store = Store(data)
    s = store.status(doc)
    last = s.last_fetch.started_at if s.last_fetch else None
    expected = (last, s.versions, s.current_version, s.consecutive_failures, s.suspect,
                s.failing_since)  # fmt: skip
    assert site_states(store)[doc] == expected
    store.close()


def test_operations_feed_lists_failing_and_recovered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = str(tmp_path / "data")
    with LocalServer() as server:
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        args = ["check", "--watchlist", str(watchlist), "--data", data, "--retries", "0",
                "--alert-after", "2"]  # fmt: skip
        for status in (200, 404, 404, 200):
            server.route("/p", status=status, body=policy() if status == 200 else b"gone")
            run_cli(capsys, *args)
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse((tmp_path / "data" / "ops" / f"operations.{fmt}").read_bytes())
        assert not parsed.bozo
        titles = [e.title for e in parsed.entries]
        assert titles == [
            "Monitoring recovered: Example doc policy (after 2 failed checks)",
            "Monitoring failing: Example doc policy (2 failed checks in a row)",
        ]
        assert "404" in parsed.entries[1].summary
