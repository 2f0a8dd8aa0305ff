"""What a journalist citing an imported history, and an operator reading a failure, hit
(the journalist7 pass): every date of an imported version says it is the archive's, the
README's first-seen example is what the import prints, and one-line messages say what to do.

Google's privacy policy history from ../shared/corpus (Open Terms Archive, ODC-BY 1.0),
imported by the real CLI; the site opened in headless Chromium (Debian's).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ExtractError
from monitor.extract.html import extract_text
from monitor.models import HealthEvent, Watch
from monitor.publish.ops import ops_title
from tests.cli_helpers import run_cli
from tests.httpserver import LocalServer
from tests.shared import need

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
HISTORY = ROOT.parent / "shared" / "corpus" / "versions" / "google-privacy"
JUNE_2023 = "1ee400faca21e70f701c2b5963ab66ae0202cb5b"  # the OTA commit of 2023-06-29


def monitor(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`policy-monitor ARGS` in a real subprocess: real exit status, real stdout."""
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The data directory of the README's import, and what the import printed."""
    need(HISTORY)
    data = tmp_path_factory.mktemp("history") / "data"
    done = monitor("import", "ota", str(HISTORY), "--data", str(data))
    assert done.returncode == 0, done.stderr
    return data, done.stdout


def _readme_session() -> list[tuple[str, list[str]]]:
    """The `$ command` lines of the README's first-seen example, each with its output."""
    section = README.split("### Since when does a policy say this?", 1)[1].split("\n(", 1)[0]
    session: list[tuple[str, list[str]]] = []
    for line in section.splitlines():
        if line.startswith("    $ "):
            session.append((line[6:], []))
        elif line.startswith("    ") and session:
            session[-1][1].append(line[4:])
    return session


def test_readme_first_seen_example_is_what_the_import_prints(
    imported: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: the example showed a replay's times (2026-12-03, change #14), not what the
    import the README teaches gives, and nothing said the date was the archive's."""
    data, import_out = imported
    session = _readme_session()
    assert [shlex.split(c)[1] for c, _ in session] == ["import", "first-seen"]
    assert import_out.splitlines() == session[0][1]
    args = shlex.split(session[1][0])[1:]
    args[args.index("--data") + 1] = str(data)
    shown = run_cli(capsys, *args)
    assert shown.code == 0 and shown.out.splitlines() == session[1][1]


def test_first_seen_of_an_imported_version_names_the_archive(
    imported: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = imported
    found = json.loads(run_cli(capsys, "first-seen", "google-privacy", "AI models", "--json",
                               "--data", str(data)).out)  # fmt: skip
    manifest = json.loads((HISTORY / "manifest.json").read_text())
    june = next(v for v in manifest["versions"] if v["commit"] == JUNE_2023)
    assert (found["origin"], found["origin_ref"]) == ("ota", JUNE_2023)
    assert found["archived_at"] == june["date"]
    assert found["first_seen"] == june["date"] and found["version"] == 13
    # A phrase in a version a live check saw has no origin (tests/test_archive.py plays one).
    first = json.loads(run_cli(capsys, "first-seen", "google-privacy", "Privacy Policy",
                               "--json", "--data", str(data)).out)  # fmt: skip
    assert first["change"] is None and first["origin_ref"] == manifest["versions"][0]["commit"]


def test_evidence_of_an_imported_change_is_dated_by_the_archive(
    imported: tuple[Path, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Was: README.txt's second line said `detected 2023-06-29...`: the monitor detected
    nothing, Open Terms Archive fetched it then."""
    data, _ = imported
    out = tmp_path / "ev"
    assert run_cli(capsys, "evidence", "15", "--out", str(out), "--data", str(data)).code == 0
    second = (out / "README.txt").read_text().splitlines()[1]
    assert second.startswith(
        f"dated 2023-06-29T18:34:22+00:00 by the archive (Open Terms Archive, commit "
        f"{JUNE_2023}); imported, not seen by policy-monitor; page: https://policies.google."
    )
    snapshot = next(out.glob("after-v13-snapshot-*"))
    assert snapshot.read_bytes() == (HISTORY / "0023.md").read_bytes()  # OTA's file, as is


def test_site_search_dates_an_imported_change_without_saying_detected(
    imported: tuple[Path, str], browser: Any
) -> None:
    """Was: `Introduced by change #15 (detected 2023-06-29).` on the timeline's search."""
    data, _ = imported
    page = browser.new_page()
    page.goto((data / "feeds" / "documents" / "google-privacy.html").as_uri())
    page.fill("#search-phrase", "AI models")
    page.get_by_role("button", name="Find").click()
    result = page.locator("#search-result").inner_text()
    page.goto((data / "feeds" / "changes" / "15.html").as_uri())
    evidence = page.locator("section.evidence > p").first.inner_text()
    page.close()
    # Was: "the exact bytes the site served" above Open Terms Archive's markdown file.
    assert evidence.startswith("Each raw snapshot is the exact bytes the archive holds (imported")
    assert "first appears in version 13, first seen 2023-06-29 18:34 UTC." in result
    assert "Introduced by change #15 (dated 2023-06-29)." in result and "detected" not in result


def test_import_after_a_failed_check_imports_the_history(tmp_path: Path) -> None:
    """Was: `0 step(s) imported ... 50 older than what is recorded, skipped`, exit 0, after
    a `make run` without internet: its failed fetches (no page, no text) blocked the
    history. A failed fetch records no text, so the history goes before it."""
    need(HISTORY)
    watchlist = tmp_path / "watchlist.yaml"
    with LocalServer() as server:
        server.route("/privacy", status=500, body=b"<h1>Internal Server Error</h1>")
        watchlist.write_text(
            "documents:\n  - {id: google-privacy, company: Google, title: Google Privacy"
            f" Policy, url: '{server.url('/privacy')}'}}\n"
        )
        run = ("--watchlist", str(watchlist), "--data", str(tmp_path / "data"))
        assert monitor("check", *run, "--retries", "0").returncode == 1
    done = monitor("import", "ota", str(HISTORY), *run)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("google-privacy: ota: 50 step(s) imported, "), done.stdout
    assert "older than what is recorded" not in done.stdout


def test_the_operations_feed_names_a_document_once() -> None:
    """Was: `Monitoring failing: Acme Acme AI Help`, the company said twice."""
    event = HealthEvent(1, "acme-help", datetime(2026, 12, 4, tzinfo=UTC), "failing", 3, "x")
    watch = Watch("acme-help", "Acme", "Acme AI Help", "http://127.0.0.1/login")
    assert ops_title(event, watch) == "Monitoring failing: Acme AI Help (3 failed checks in a row)"
    other = Watch("acme-terms", "Acme", "Terms of Service", "http://127.0.0.1/terms")
    assert ops_title(event, other).startswith("Monitoring failing: Acme Terms of Service (")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<main><h1>Log in to continue</h1><p>You must log in to see this page.</p>"
         "<form><input name=user><button>Log in</button></form></main>",
         "page has no readable text: 12 word(s), fewer than 20 (a login, loading or error page?)"),
        ("<div id=root></div><script>render()</script>",
         "page has no readable text (script-only or empty page?)"),
    ],
    ids=["short-login-form", "script-only"],
)  # fmt: skip
def test_a_page_too_short_to_be_a_policy_says_how_short(body: str, message: str) -> None:
    """Was: `no readable text (script-only or empty page?)` for a 12-word login form."""
    with pytest.raises(ExtractError) as raised:
        extract_text(f"<html><body>{body}</body></html>".encode())
    assert str(raised.value) == message


def test_readme_says_what_speed_does() -> None:
    row = next(line for line in README.splitlines() if line.startswith("| `daemon"))
    assert re.search(r"`--speed N` runs the timetable N times faster", row)
