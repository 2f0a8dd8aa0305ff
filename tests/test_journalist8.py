"""What a journalist must cite from the tool alone (the journalist8 pass): an imported
version names the archive's repository and file (a GitHub permalink when the clone's remote
is on GitHub), a snapshot's file or a Wayback capture's URL; Open Terms Archive's data is
attributed (ODC-BY 1.0) wherever it is shown; `explain` says which sentence made a change
"high"; an imported-only document does not look monitored; `feed` on stdout links absolutely.

Real parts: a git repository built here (read by git), the CLI, a real store, feedparser,
the site opened in headless Chromium (Debian's).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import feedparser
import pytest

from tests.cli_helpers import run_cli
from tests.httpserver import LocalServer
from tests.test_backfill import CAPTURES, FakeWayback, backfill
from tests.test_import import PATH, git, ota_repo, watchlist

REMOTE = "https://bot:s3cret-token@github.com/OpenTermsArchive/contrib-versions.git"
REPO_URL = "https://github.com/OpenTermsArchive/contrib-versions"
QUOTED = "Example/Privacy%20Policy.md"


def _import(capsys: pytest.CaptureFixture[str], tmp_path: Path, remote: str | None) -> Path:
    repo = ota_repo(tmp_path)
    if remote:  # as a clone has it: origin's URL and its branches as fetched
        git(repo, "remote", "add", "origin", remote)
        git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    done = run_cli(capsys, "import", "ota", str(repo), "--document", "example-privacy",
                   "--path", PATH, "--watchlist", str(watchlist(tmp_path)),
                   "--data", str(tmp_path / "data"))  # fmt: skip
    assert done.code == 0, done.err
    return tmp_path / "data"


def _changes(capsys: pytest.CaptureFixture[str], data: Path) -> list[dict[str, Any]]:
    done = run_cli(capsys, "changes", "--json", "--data", str(data))
    rows: list[dict[str, Any]] = json.loads(done.out)
    return rows


@pytest.fixture
def github(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A store with the example history imported from a clone of a GitHub repository."""
    return _import(capsys, tmp_path, REMOTE)


def test_changes_json_names_the_repository_file_and_permalinks(
    github: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: `"origin": "ota", "origin_ref": COMMIT` and nothing saying where that commit is."""
    rows = _changes(capsys, github)
    commit = rows[0]["origin_ref"]
    assert (rows[0]["origin_source"], rows[0]["origin_path"]) == (REPO_URL, PATH)
    assert rows[0]["origin_url"] == f"{REPO_URL}/blob/{commit}/{QUOTED}"
    assert rows[0]["origin_commit_url"] == f"{REPO_URL}/commit/{commit}"
    # A remote's credentials are never recorded, printed or published.
    assert "s3cret" not in json.dumps(rows)
    site = "".join(p.read_text() for p in (github / "feeds").rglob("*.html"))
    assert "s3cret" not in site


def test_history_first_seen_and_explain_cite_the_file(
    github: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = _changes(capsys, github)[0]
    blob = f"{REPO_URL}/blob/{row['origin_ref']}/{QUOTED}"
    history = run_cli(capsys, "history", "example-privacy", "--data", str(github)).out
    assert history.count(f"{REPO_URL}: {PATH}") == 3
    seen = run_cli(capsys, "first-seen", "example-privacy", "train our AI models",
                   "--data", str(github)).out  # fmt: skip
    assert blob in seen
    found = json.loads(run_cli(capsys, "first-seen", "example-privacy", "train our AI models",
                               "--json", "--data", str(github)).out)  # fmt: skip
    assert (found["origin_source"], found["origin_path"], found["origin_url"]) == (
        REPO_URL, PATH, blob)  # fmt: skip
    explain = run_cli(capsys, "explain", str(row["id"]), "--data", str(github)).out
    assert f"source: Open Terms Archive, {REPO_URL}, file {PATH!r}" in explain
    assert blob in explain and f"{REPO_URL}/commit/{row['origin_ref']}" in explain


def test_a_clone_without_remote_is_named_by_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _import(capsys, tmp_path, None)
    row = _changes(capsys, data)[0]
    assert (row["origin_source"], row["origin_path"]) == ("versions", PATH)
    assert row["origin_url"] is None and row["origin_commit_url"] is None


def test_snapshots_and_captures_name_their_file_and_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    FakeWayback(local_server)
    assert backfill(capsys, tmp_path, local_server).code == 0
    row = _changes(capsys, tmp_path / "data")[0]
    capture = local_server.url(f"/web/{row['origin_ref']}id_/https://example.org/privacy")
    assert row["origin_path"] == row["origin_url"] == capture
    assert set(CAPTURES) >= {row["origin_ref"]}
    folder = tmp_path / "saved"
    folder.mkdir()
    for name, stamp in (
        ("2022-01-10T09:00:00Z.html", "20220110090000"),
        ("2023-06-29T18:34:22Z.html", "20230629183422"),
    ):
        (folder / name).write_bytes(CAPTURES[stamp])
    data = tmp_path / "data2"
    done = run_cli(capsys, "import", "snapshots", str(folder), "--document", "example-privacy",
                   "--watchlist", str(watchlist(tmp_path)), "--data", str(data))  # fmt: skip
    assert done.code == 0, done.err
    row = _changes(capsys, data)[0]
    assert (row["origin_source"], row["origin_path"]) == ("saved", "2023-06-29T18:34:22Z.html")
    assert row["origin_url"] is None


def test_the_site_links_the_archive_and_attributes_open_terms_archive(
    github: Path, capsys: pytest.CaptureFixture[str], browser: Any
) -> None:
    """Was: `Imported from ota 1ee400faca21` and no word of Open Terms Archive or ODC-BY."""
    row = _changes(capsys, github)[0]
    blob = f"{REPO_URL}/blob/{row['origin_ref']}/{QUOTED}"
    page = browser.new_page()
    seen: dict[str, dict[str, Any]] = {}
    for name, path in (
        ("change", f"changes/{row['id']}.html"),
        ("timeline", "documents/example-privacy.html"),
        ("index", "index.html"),
    ):
        page.goto((github / "feeds" / path).as_uri())
        seen[name] = {
            "links": page.eval_on_selector_all("a", "els => els.map(e => e.href)"),
            "footer": page.locator("footer").last.inner_text(),
        }
    page.close()
    assert blob in seen["change"]["links"] and blob in seen["timeline"]["links"]
    assert f"{REPO_URL}/commit/{row['origin_ref']}" in seen["change"]["links"]
    for shown in seen.values():
        assert "Open Terms Archive" in shown["footer"] and "ODC-BY 1.0" in shown["footer"]


def test_imported_feed_items_name_open_terms_archive_and_the_licence(
    github: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_cli(capsys, "feed", "--include-history", "--data", str(github)).out
    entries = feedparser.parse(out.encode()).entries
    assert entries and all("Open Terms Archive" in e.summary and "ODC-BY 1.0" in e.summary
                           for e in entries)  # fmt: skip
    live = run_cli(capsys, "feed", "--data", str(github)).out
    assert "ODC-BY" not in live  # no OTA data shown: no attribution either


def test_explain_says_which_sentence_made_it_high(
    github: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = next(r for r in _changes(capsys, github) if r["severity"] == "high")
    explain = run_cli(capsys, "explain", str(row["id"]), "--data", str(github)).out
    flag = row["flags"][0]
    assert (
        f'severity high because of the added sentence "{flag["sentence"]}" (rule {flag["rule"]},'
        f" category {flag['category']}, matched {flag['phrase']!r}): training on people's data"
        " or AI development added"
    ) in explain


def test_an_imported_only_document_does_not_look_monitored(
    github: Path, capsys: pytest.CaptureFixture[str], browser: Any
) -> None:
    """Was: `last fetch 2024-02-08T12:00:00+00:00 ... ok` and `Last checked 2024-02-08 ·
    Monitoring working`: the archive's last step, never a fetch of this monitor."""
    status = run_cli(capsys, "status", "--data", str(github)).out
    assert "imported history only, never checked live" in status
    assert "last fetch 2024-02-08" not in status
    listed = json.loads(run_cli(capsys, "status", "--json", "--data", str(github)).out)
    assert listed[0]["checked_live"] is False and listed[0]["last_live_check"] is None
    page = browser.new_page()
    page.goto((github / "feeds" / "index.html").as_uri())
    text = page.locator("body").inner_text()
    page.close()
    assert "Imported history only, never checked live" in text
    assert "Monitoring working" not in text


def test_feed_on_stdout_links_absolutely(github: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: `changes/15.html`, which a reader resolves against the channel's link (the
    project's home on GitHub): no page of this install."""
    base = "https://news.example.org/policies/"
    out = run_cli(capsys, "feed", "--include-history", "--base-url", base,
                  "--data", str(github)).out  # fmt: skip
    entries = feedparser.parse(out.encode()).entries
    assert entries and all(f'href="{base}changes/' in e.summary for e in entries)
    assert all(_absolute(e.summary) for e in entries)
    # Without a base URL, the data directory's own pages (as the written feeds link them).
    local = run_cli(capsys, "feed", "--include-history", "--data", str(github)).out
    entries = feedparser.parse(local.encode()).entries
    folder = (github / "feeds").resolve().as_uri()
    assert all(f'href="{folder}/changes/' in e.summary for e in entries)
    assert all(_absolute(e.summary) for e in entries)
    bad = run_cli(capsys, "feed", "--base-url", "ftp://x", "--data", str(github))
    assert bad.code != 0 and "http(s)" in bad.err and "Traceback" not in bad.err


def _absolute(html: str) -> bool:
    """Every link of an entry's body is absolute (a reader resolves a relative one against
    the channel's link, the project's home)."""
    links = re.findall(r'href="([^"]*)"', html)
    return bool(links) and all(link.startswith(("https://", "file:///")) for link in links)


def test_the_csv_cites_the_archive_too(github: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A journalist's spreadsheet: the same citation as `changes --json`."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(run_cli(capsys, "changes", "--format", "csv",
                                                   "--data", str(github)).out)))  # fmt: skip
    as_json = _changes(capsys, github)
    keys = ("origin_source", "origin_path", "origin_url", "origin_commit_url")
    assert [[r[k] for k in keys] for r in rows] == [[j[k] for k in keys] for j in as_json]
    assert rows[0]["origin_url"].startswith(f"{REPO_URL}/blob/")


@pytest.mark.parametrize(("remote", "cited"), [
    ("https://github.com/OpenTermsArchive/contrib-versions.git", REPO_URL),
    ("https://x-access-token:ghp_abc@github.com/OpenTermsArchive/contrib-versions", REPO_URL),
    ("git@github.com:OpenTermsArchive/contrib-versions.git", REPO_URL),
    ("ssh://git@github.com/OpenTermsArchive/contrib-versions.git", REPO_URL),
    ("https://user:pw@gitlab.example.org:8443/ota/versions.git",
     "https://gitlab.example.org:8443/ota/versions.git"),
    ("/srv/mirrors/contrib-versions", "contrib-versions"),
    ("file:///home/ana/contrib-versions/", "contrib-versions"),
])  # fmt: skip
def test_a_remote_is_cited_without_its_credentials(remote: str, cited: str) -> None:
    from monitor.citation import clean_remote

    assert clean_remote(remote) == cited


def test_explain_gives_the_window_the_change_happened_in(
    github: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: one time, the archive's sighting of the new text; the change happened between
    the last sighting of the old text and that (journalist7: only `history` showed it)."""
    first = _changes(capsys, github)[0]
    explain = run_cli(capsys, "explain", str(first["id"]), "--data", str(github)).out
    assert (
        "happened between 2022-01-10T09:00:00+00:00 (v1 last seen, by the archive) and "
        "2023-06-29T18:34:22+00:00 (v2 first seen, by the archive)"
    ) in explain


def test_a_commit_origin_does_not_hold_gets_no_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A remote added by hand and never fetched, or a commit made in this clone: a GitHub
    link to it would 404 (the journalist8 read: a repository rebuilt from the corpus got
    50 confident links to commits GitHub never had)."""
    repo = ota_repo(tmp_path)
    git(repo, "remote", "add", "origin", REMOTE)
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD~1")  # the last commit is local
    done = run_cli(capsys, "import", "ota", str(repo), "--document", "example-privacy",
                   "--path", PATH, "--watchlist", str(watchlist(tmp_path)),
                   "--data", str(tmp_path / "data"))  # fmt: skip
    assert done.code == 0, done.err
    first, last = _changes(capsys, tmp_path / "data")
    assert first["origin_source"] == REPO_URL and first["origin_url"]
    assert (last["origin_source"], last["origin_url"], last["origin_commit_url"]) == (
        "versions", None, None)  # fmt: skip
