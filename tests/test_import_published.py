"""What an import publishes, seen by its readers (issue 14): the Google privacy history of
../shared/corpus (Open Terms Archive data, ODC-BY 1.0) imported by the command, then
`first-seen` (when "AI models" entered it, and from which archive), the AI-training feed
read by newsboat (the 2023 change only with `--include-history`: history never floods the
live feeds) and the document's timeline opened in headless Chromium (every imported change
marked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitor.fetch.browser import BrowserSettings, browser_available
from tests.import_scoring import CORPUS
from tests.shared import need, requires
from tests.test_newsboat import Reader, newsboat_missing

ROOT = Path(__file__).resolve().parents[1]
DOC = "google-privacy"
JUNE_2023 = "2023-06-29"


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = need(CORPUS / "versions" / DOC)
    tmp = tmp_path_factory.mktemp("google")
    watchlist = tmp / "watchlist.yaml"
    watchlist.write_text(f"documents:\n  - id: {DOC}\n    company: Google\n"
                         "    title: Google Privacy Policy\n"
                         "    url: https://policies.google.com/privacy\n")  # fmt: skip
    done = monitor("import", "ota", str(folder), "--watchlist", str(watchlist),
                   "--data", str(tmp / "data"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "50 step(s) imported, 33 change(s)" in done.stdout
    return tmp / "data"


def test_first_seen_dates_ai_models_by_the_archive_and_names_it(data: Path) -> None:
    asked = monitor("first-seen", DOC, "AI models", "--json", "--data", str(data))
    found = json.loads(asked.stdout)
    assert found["first_seen"].startswith(JUNE_2023) and found["change"] is not None
    assert (found["origin"], found["archived_at"]) == ("ota", found["first_seen"])
    ref = found["origin_ref"]
    assert len(ref) == 40  # the OTA commit of the version that brought the phrase
    text = monitor("first-seen", DOC, "AI models", "--data", str(data)).stdout
    assert f"first seen in v{found['version']} on {JUNE_2023}" in text
    assert f"imported from ota {ref[:12]}" in text


@requires(newsboat_missing)
def test_newsboat_shows_the_2023_ai_change_only_with_history(data: Path, tmp_path: Path) -> None:
    feed = tmp_path / "history.rss"
    feed.write_bytes(monitor("feed", "--ai-only", "--include-history", "--data", str(data))
                     .stdout.encode())  # fmt: skip
    published = [data / "feeds" / f"ai-training.{fmt}" for fmt in ("rss", "atom")]
    reader = Reader(tmp_path)
    reader.urls.write_text("".join(f"{p.as_uri()}\n" for p in (feed, *published)))
    reader.reload()
    items = reader.rows("select feedurl, title, pubDate from rss_item")
    assert {row["feedurl"] for row in items} == {feed.as_uri()}  # live feeds: no history
    june = [r for r in items if _day(r["pubDate"]) == JUNE_2023]
    assert len(june) == 1 and "AI-training language" in june[0]["title"]


def _day(timestamp: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


UNAVAILABLE = browser_available(BrowserSettings())


def test_timeline_in_chromium_marks_every_imported_change(data: Path, browser: Any) -> None:
    page = browser.new_page()
    page.goto((data / "feeds" / "documents" / f"{DOC}.html").as_uri())
    rows = page.locator("table.timeline tbody tr:has(a[href^='../changes/'])")
    assert rows.count() == 33  # every change, each marked (and shown)
    for i in range(rows.count()):
        mark = rows.nth(i).locator("span.tag.imported")
        assert mark.count() == 1 and mark.is_visible() and mark.inner_text() == "imported"
    june = page.locator("tr", has_text=f"{JUNE_2023} 18:34").first.inner_text()
    assert "AI-training language" in june and "imported" in june
    assert "dated by the archive, not seen live by this monitor" in june
    page.close()
