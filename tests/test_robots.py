"""robots.txt is obeyed by default, read once per host, and can be overridden per entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import FetchError
from monitor.fetch.http import Fetcher, FetchSettings, make_client
from monitor.models import Watch
from tests.cli_helpers import policy, run_cli
from tests.httpserver import LocalServer

ROBOTS = b"User-agent: policy-monitor\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n"
SETTINGS = FetchSettings(timeout=2, retries=0, host_delay=0)


def fetcher() -> Fetcher:
    return Fetcher(make_client(SETTINGS), SETTINGS)


def watch(url: str, robots: bool = True) -> Watch:
    return Watch(id="doc", company="C", title="T", url=url, robots=robots)


@pytest.fixture
def server() -> LocalServer:
    with LocalServer() as srv:
        srv.route("/robots.txt", body=ROBOTS, content_type="text/plain")
        srv.route("/private/terms", body=policy())
        srv.route("/terms", body=policy())
        yield srv  # type: ignore[misc]


def test_disallowed_page_is_a_blocked_failure_that_says_how_to_override(
    server: LocalServer,
) -> None:
    with pytest.raises(FetchError) as info:
        fetcher().fetch(watch(server.url("/private/terms")))
    assert (
        info.value.blocked
        and "robots.txt" in str(info.value)
        and "robots: false" in str(info.value)
    )
    assert server.hits("/private/terms") == 0


def test_allowed_page_and_one_robots_request_per_host(server: LocalServer) -> None:
    f = fetcher()
    assert f.fetch(watch(server.url("/terms"))).status == 200
    assert f.fetch(watch(server.url("/terms?again=1"))).status == 200
    assert server.hits("/robots.txt") == 1  # `User-agent: *` does not apply: ours is named


def test_entry_override_fetches_anyway(server: LocalServer) -> None:
    assert fetcher().fetch(watch(server.url("/private/terms"), robots=False)).status == 200
    assert server.hits("/robots.txt") == 0


def test_missing_robots_allows_everything() -> None:
    with LocalServer() as srv:  # /robots.txt answers 404
        srv.route("/terms", body=policy())
        assert fetcher().fetch(watch(srv.url("/terms"))).status == 200


def test_watchlist_contact_goes_into_the_user_agent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with LocalServer() as srv:
        srv.route("/terms", body=policy())
        watchlist = tmp_path / "w.yaml"
        watchlist.write_text(
            "contact: mailto:ops@example.org\ndocuments:\n"
            f"  - {{id: t, company: C, title: T, url: '{srv.url('/terms')}'}}\n"
        )
        run_cli(capsys, "check", "--watchlist", str(watchlist), "--data", str(tmp_path / "d"))
        agent = srv.requests("/terms")[0].headers["User-Agent"]
    assert agent.startswith("policy-monitor/") and "+mailto:ops@example.org" in agent
    bad = tmp_path / "bad.yaml"
    bad.write_text(watchlist.read_text().replace("mailto:ops@example.org", "call me"))
    result = run_cli(capsys, "check", "--watchlist", str(bad), "--data", str(tmp_path / "d"))
    assert result.code == 2 and "'contact' must be an http(s) URL or an e-mail" in result.err


@pytest.mark.parametrize("padding_kib,blocked", [(400, True), (600, False)])
def test_only_the_first_500_kib_of_robots_txt_count(padding_kib: int, blocked: bool) -> None:
    """RFC 9309 2.5: a rule past 500 KiB is never read (so not obeyed)."""
    padding = b"# " + b"x" * (padding_kib * 1024) + b"\n"
    with LocalServer() as srv:
        srv.route("/robots.txt", body=padding + ROBOTS, content_type="text/plain")
        srv.route("/private/terms", body=policy())
        try:
            fetcher().fetch(watch(srv.url("/private/terms")))
            refused = False
        except FetchError as err:
            refused = err.blocked and "robots.txt" in str(err)
    assert refused == blocked
