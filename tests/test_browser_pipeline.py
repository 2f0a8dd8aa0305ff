"""Script-built pages through the whole monitor: `fetcher: auto` and `browser` entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.check.pipeline import Browser, sweep
from monitor.fetch.browser import browser_available
from monitor.fetch.http import Fetcher, FetchSettings, make_client
from monitor.models import Watch
from monitor.store import Store
from tests.cli_helpers import run_cli
from tests.httpserver import LocalServer
from tests.shared import requires

UNAVAILABLE = browser_available()
needs_chromium = requires(UNAVAILABLE)
# The policy exists only once its script has run, as on Meta's and Amazon's pages.
SHELL = b"""<!doctype html><html><head><title>Privacy Policy</title></head><body>
<div id="root"></div><script>
setTimeout(() => { document.getElementById("root").innerHTML =
  "<main><h1>Example Privacy Policy</h1>" +
  "<p>We collect the content you create, such as posts, photos and comments.</p>" +
  "<p>We may use your public posts to train our AI models.</p>" +
  "<p>You can delete your information at any time from your account settings.</p></main>";
}, 200);
</script></body></html>"""


def write(path: Path, url: str, fetcher: str) -> Path:
    path.write_text(
        f"documents:\n  - id: shell\n    company: Example\n    title: Privacy Policy\n"
        f"    url: {url}\n    fetcher: {fetcher}\n"
    )
    return path


@needs_chromium
@pytest.mark.parametrize("fetcher", ["auto", "browser"])
def test_script_built_page_is_read_in_the_browser(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fetcher: str
) -> None:
    with LocalServer() as server:
        server.route("/p", body=SHELL)
        watchlist = write(tmp_path / "w.yaml", server.url("/p"), fetcher)
        data = str(tmp_path / "d")
        result = run_cli(capsys, "check", "--watchlist", str(watchlist), "--data", data)
    assert result.code == 0 and "first version (v1)" in result.out
    store = Store(data)
    version = store.current_version("shell")
    store.close()
    assert version is not None and "train our AI models" in version.text


def test_http_only_entry_reports_the_shell_as_no_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with LocalServer() as server:
        server.route("/p", body=SHELL)
        watchlist = write(tmp_path / "w.yaml", server.url("/p"), "http")
        result = run_cli(capsys, "check", "--watchlist", str(watchlist), "--data", str(tmp_path))
    assert result.code == 1 and "no readable text" in result.out


def test_browser_entry_without_a_browser_says_what_to_install(tmp_path: Path) -> None:
    watch = Watch(id="shell", company="E", title="T", url="http://127.0.0.1:9/p", fetcher="browser")
    store = Store(tmp_path)
    settings = FetchSettings(retries=0)
    with make_client(settings) as client:
        missing = Browser(problem="no browser at /usr/bin/chromium: apt-get install chromium")
        (outcome,) = sweep(store, Fetcher(client, settings), [watch], browser=missing)
    store.close()
    assert outcome.status == "failed"
    assert outcome.message == (
        "failed: page needs a browser: no browser at /usr/bin/chromium: apt-get install chromium"
    )


def test_browser_entries_obey_robots_txt(tmp_path: Path) -> None:
    with LocalServer() as server:
        server.route("/robots.txt", body=b"User-agent: *\nDisallow: /\n", content_type="text/plain")
        watch = Watch(id="shell", company="E", title="T", url=server.url("/p"), fetcher="browser")
        store = Store(tmp_path)
        settings = FetchSettings(retries=0)
        with make_client(settings) as client:
            (outcome,) = sweep(store, Fetcher(client, settings), [watch], browser=Browser())
        store.close()
        assert server.hits("/p") == 0
    assert outcome.status == "failed" and "robots.txt" in outcome.message
