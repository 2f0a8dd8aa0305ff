"""Hostile and broken servers against a check's states: nothing lost, nothing forged.

Each server is real (tests/httpserver.py on 127.0.0.1) and each check goes through the
whole pipeline into a real SQLite file; a clock is injected where a day must pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import html5lib
import pytest

from monitor import views
from monitor.check.observe import Extractor
from monitor.check.pipeline import sweep
from monitor.extract.html import extract_text
from monitor.fetch.http import Fetcher, FetchSettings, make_client
from monitor.models import CheckOutcome, Watch
from monitor.publish.feed import FeedSettings
from monitor.publish.write import write_feeds
from monitor.store import Store
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer, Reply, Request

AI = "<li>We may use your public posts and photos to train our AI models.</li>"
LONG = policy(
    extra="".join(f"<li>Clause {i} on how long we keep your data.</li>" for i in range(60))
)
WALL = (
    b"<html><body><main><h1>Log in to continue</h1><p>You must log in to continue to this page"
    b" of the site. Create an account or sign in with your email address and password, then"
    b" come back to read the page you asked for.</p></main></body></html>"
)
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Monitor:
    """One document on a local server, checked with the real pipeline at chosen times."""

    def __init__(self, server: LocalServer, data: Path) -> None:
        self.watch = Watch("doc", "Example", "Privacy Policy", server.url("/p"))
        self.data = data
        self.store = Store(data)
        settings = FetchSettings(timeout=5, retries=0, host_delay=0)
        self.client = make_client(settings)
        self.fetcher = Fetcher(self.client, settings)
        self.now = T0

    def check(self, after: timedelta = timedelta(hours=1), **options: object) -> CheckOutcome:
        self.now += after
        (outcome,) = sweep(self.store, self.fetcher, [self.watch], clock=lambda: self.now,
                           **options)  # type: ignore[arg-type]  # fmt: skip
        return outcome

    def close(self) -> None:
        self.client.close()
        self.store.close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture
def monitor(server: LocalServer, tmp_path: Path) -> Iterator[Monitor]:
    m = Monitor(server, tmp_path / "data")
    yield m
    m.close()


def serve_with_etags(server: LocalServer, pages: dict[str, bytes], state: dict[str, str]) -> None:
    """A server with a real ETag per body: 304 when the client's ETag is the current one."""

    def answer(request: Request) -> Reply:
        etag = f'"{state["page"]}"'
        if request.headers.get("If-None-Match") == etag:
            return Reply(status=304, headers={"ETag": etag})
        return Reply(body=pages[state["page"]], headers={"ETag": etag})

    server.handle("/p", answer)


def test_held_cut_is_confirmed_not_lost_behind_a_304(server: LocalServer, monitor: Monitor) -> None:
    state = {"page": "long"}
    serve_with_etags(server, {"long": LONG, "cut": policy()}, state)
    assert monitor.check().status == "first"
    state["page"] = "cut"  # a real edit that cuts most of the text
    assert monitor.check().status == "suspect"
    assert monitor.store.validators("doc").etag is None  # the held response's are not kept
    confirmed = monitor.check()
    assert confirmed.status == "changed" and "held as suspect since" in confirmed.message
    assert server.requests("/p")[-1].headers.get("If-None-Match") is None
    assert monitor.check().message == "unchanged (v2, 304)"  # now its validators are kept


def test_same_etag_for_a_new_body_is_caught_by_the_daily_whole_fetch(
    server: LocalServer, monitor: Monitor
) -> None:
    """A server that answers 304 to its one ETag whatever the body: seen within a day."""
    body = {"now": policy()}
    server.handle(
        "/p",
        lambda r: Reply(status=304) if r.headers.get("If-None-Match") else Reply(
            body=body["now"], headers={"ETag": '"forever"'}
        ),
    )  # fmt: skip
    monitor.check()
    body["now"] = policy(extra=AI)
    assert monitor.check(timedelta(hours=6)).message == "unchanged (v1, 304)"
    assert monitor.check(timedelta(hours=6)).message == "unchanged (v1, 304)"
    changed = monitor.check(timedelta(hours=13))  # 25 h after the last whole fetch
    assert changed.status == "changed" and changed.ai_training


def test_wall_on_the_first_check_never_becomes_a_version(
    server: LocalServer, monitor: Monitor
) -> None:
    server.route("/p", body=WALL)
    first = monitor.check()
    assert first.status == "quarantined" and "login wall" in first.message
    assert monitor.store.versions("doc") == []
    server.route("/p", body=policy(extra=AI))
    real = monitor.check()
    assert (real.status, real.ai_training) == ("first", False)
    assert monitor.store.changes() == []


def test_wall_between_versions_is_a_failure_never_whole_text_removed(
    server: LocalServer, monitor: Monitor
) -> None:
    server.route("/p", body=policy())
    monitor.check()
    server.route("/p", body=WALL)
    walls = [monitor.check() for _ in range(4)]
    assert {w.status for w in walls} == {"quarantined"}
    assert [w.failing for w in walls] == [False, False, True, True]
    events = monitor.store.health_events()
    assert [(e.kind, e.failures) for e in events] == [("failing", 3)]
    assert "login wall" in events[0].error
    server.route("/p", body=policy())
    back = monitor.check()
    assert back.message == "unchanged (v1)"
    assert [e.kind for e in monitor.store.health_events()] == ["failing", "recovered"]
    assert monitor.store.changes() == [] and len(monitor.store.versions("doc")) == 1
    snapshots = monitor.store.db.execute("select count(*) from snapshots").fetchone()[0]
    assert snapshots == 2  # the wall's bytes are kept as evidence of the failed checks


def test_withdrawn_ai_clause_is_a_change_with_its_own_direction(
    server: LocalServer, monitor: Monitor
) -> None:
    server.route("/p", body=policy())
    monitor.check()
    server.route("/p", body=policy(extra=AI))
    assert monitor.check(timedelta(days=2)).ai_training
    server.route("/p", body=policy())
    withdrawn = monitor.check(timedelta(days=2))
    assert withdrawn.ai_training and "AI-training language removed" in withdrawn.message
    directions = [(c.from_version, c.to_version, c.direction) for c in monitor.store.changes()]
    assert directions == [(1, 2, "added"), (2, 1, "removed")]


def test_an_extractor_upgrade_between_two_checks_of_the_same_bytes_is_no_alert(
    server: LocalServer, monitor: Monitor
) -> None:
    server.route("/p", body=policy(extra=AI))
    monitor.check(extractor=Extractor("1"))

    def reads_more(body: bytes, ctype: str, sel: tuple[str, ...], rem: tuple[str, ...]) -> str:
        return extract_text(body, ctype, select=sel, remove=rem) + "\n\nCaption: a new reading."

    upgraded = monitor.check(extractor=Extractor("2", reads_more))
    assert upgraded.status == "unchanged" and "extractor upgraded from 1" in upgraded.message
    assert monitor.store.changes() == []
    (record,) = monitor.store.upgrades("doc")
    assert (record.from_version, record.to_version, record.new_extractor) == (1, 2, "2")
    versions = monitor.store.versions("doc")
    assert [(v.number, v.extractor, v.upgrade) for v in versions] == [
        (1, "1", False),
        (2, "2", True),
    ]
    assert monitor.check(extractor=Extractor("2", reads_more)).message == "unchanged (v2)"
    assert len(monitor.store.upgrades("doc")) == 1
    history = views.history_report(monitor.store, "doc")
    assert "v2's snapshot" not in history and "v1's snapshot re-read by extractor 2" in history
    write_feeds(monitor.store, monitor.data, FeedSettings())
    index = (monitor.data / "feeds" / "index.html").read_text()
    assert "Technical upgrades" in index and "re-read by extractor 2 (was 1) as v2" in index
    html5lib.HTMLParser(strict=True).parse(index)


def test_304_to_a_whole_fetch_is_a_failure_not_unchanged(
    server: LocalServer, monitor: Monitor
) -> None:
    """A broken cache that answers 304 to everything cannot freeze the document."""
    server.route("/p", body=policy(), headers={"ETag": '"a"'})
    monitor.check()
    server.route("/p", status=304)
    assert monitor.check().message == "unchanged (v1, 304)"  # validators were sent
    stale = monitor.check(timedelta(days=1))  # the daily whole fetch sends none
    assert stale.status == "failed" and "304 Not Modified to a request without" in stale.message


def test_page_limits_are_set_from_the_command_line(
    capsys: pytest.CaptureFixture[str], server: LocalServer, tmp_path: Path
) -> None:
    server.route("/p", body=LONG)
    watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
    base = ["check", "--watchlist", str(watchlist), "--data", str(tmp_path / "d"), "--delay", "0"]
    small = run_cli(capsys, *base, "--max-page-mb", "0.001")
    assert small.code == 1 and "over the limit of" in small.out and "--max-page-mb" in small.out
    few = run_cli(capsys, *base, "--max-elements", "10")
    assert few.code == 1 and "--max-elements" in few.out
    assert "first version (v1)" in run_cli(capsys, *base).out
