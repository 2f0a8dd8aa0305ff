"""Every command end to end: a local HTTP server, a real SQLite file, feeds via feedparser."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer
from tests.pdfmaker import make_pdf

AI_SENTENCE = "<li>We may use your public posts and photos to train our AI models.</li>"


@pytest.fixture
def server() -> LocalServer:
    with LocalServer() as srv:
        yield srv  # type: ignore[misc]


@pytest.fixture
def setup(tmp_path: Path, server: LocalServer) -> tuple[list[str], Path]:
    server.route("/privacy", body=policy())
    watchlist = write_watchlist(tmp_path / "w.yaml", {"example-privacy": server.url("/privacy")})
    data = tmp_path / "data"
    return ["--watchlist", str(watchlist), "--data", str(data), "--delay", "0"], data


def test_first_unchanged_changed_and_ai_flag(capsys, server, setup) -> None:  # type: ignore[no-untyped-def]
    args, data = setup
    first = run_cli(capsys, "check", *args, "--logfmt")
    assert (first.code, first.out.strip()) == (
        0,
        'level=INFO document=example-privacy status=first ai_training=false message="first '
        'version (v1)"',
    )
    server.route("/privacy", body=policy(token="other-token"))  # chrome only
    assert "unchanged (v1)" in run_cli(capsys, "check", *args).out
    server.route("/privacy", body=policy(extra=AI_SENTENCE))
    changed = run_cli(capsys, "check", *args)
    assert changed.code == 0
    assert "changed: v1 -> v2 (AI-training language added)" in changed.out
    rows = json.loads(run_cli(capsys, "changes", "--data", str(data), "--json").out)
    assert [(r["id"], r["document"], r["ai_training"]) for r in rows] == [
        (1, "example-privacy", True)
    ]
    assert rows[0]["flags"][0]["side"] == "added"
    assert "train our AI models" in rows[0]["flags"][0]["sentence"]
    assert rows[0]["detected_at"].endswith("+00:00")


def test_explain_shows_each_flag_and_severity(capsys, server, setup) -> None:  # type: ignore[no-untyped-def]
    args, data = setup
    run_cli(capsys, "check", *args)
    server.route("/privacy", body=policy(extra=AI_SENTENCE))
    run_cli(capsys, "check", *args)
    out = run_cli(capsys, "explain", "1", "--data", str(data)).out
    assert "AI-training language added; severity high" in out
    assert 'added   "We may use your public posts and photos to train our AI models."' in out
    assert "category public-data-training" in out and "matched: '" in out
    row = json.loads(run_cli(capsys, "changes", "--json", "--data", str(data)).out)[0]
    assert row["severity"] == "high" and "added" not in row
    full = json.loads(run_cli(capsys, "changes", "--json", "--diffs", "--data", str(data)).out)[0]
    assert full["added"] == ["- We may use your public posts and photos to train our AI models."]
    assert full["removed"] == [] and "{+- We may use" in full["diff"]
    missing = run_cli(capsys, "explain", "7", "--data", str(data))
    assert missing.code == 2 and "no change #7" in missing.err


def test_withdrawn_clause_alerts_and_ab_flipping_goes_quiet(capsys, server, setup) -> None:  # type: ignore[no-untyped-def]
    """A -> B -> A is a change each time (a withdrawn AI clause must alert); once the two
    texts were seen in turn (A, B, A), further flips are A/B testing and stay quiet."""
    args, data = setup
    run_cli(capsys, "check", *args)
    server.route("/privacy", body=policy(extra=AI_SENTENCE))
    assert "changed: v1 -> v2 (AI-training language added)" in run_cli(capsys, "check", *args).out
    server.route("/privacy", body=policy())
    back = run_cli(capsys, "check", *args).out
    assert "changed: v2 -> v1 (AI-training language removed); returned to the text of v1" in back
    server.route("/privacy", body=policy(extra=AI_SENTENCE))
    assert "alternating: back to v2" in run_cli(capsys, "check", *args).out
    server.route("/privacy", body=policy())
    assert "alternating: back to v1" in run_cli(capsys, "check", *args).out
    changes = json.loads(run_cli(capsys, "changes", "--data", str(data), "--json").out)
    assert changes[1]["note"] == "returned to the text of v1"
    assert [(c["from_version"], c["to_version"], c["ai_direction"]) for c in changes] == [
        (1, 2, "added"),
        (2, 1, "removed"),
    ]


def test_diff_history_status_and_feeds(capsys, server, setup) -> None:  # type: ignore[no-untyped-def]
    args, data = setup
    run_cli(capsys, "check", *args)
    server.route("/privacy", body=policy(extra=AI_SENTENCE))
    run_cli(capsys, "check", *args)
    diff = run_cli(capsys, "diff", "example-privacy", "--data", str(data))
    assert "v1 -> v2" in diff.out and "\n+ - We may use your public posts" in diff.out
    explicit = run_cli(
        capsys, "diff", "example-privacy", "--from", "1", "--to", "2", "--data", str(data)
    )
    assert explicit.out == diff.out
    history = run_cli(capsys, "history", "example-privacy", "--data", str(data)).out
    assert "2 version(s)" in history and "* v2" in history and "snapshot" in history
    status = json.loads(run_cli(capsys, "status", "--json", "--data", str(data)).out)
    assert status[0]["versions"] == 2 and status[0]["last_result"] == "ok"
    assert "example-privacy" in run_cli(capsys, "status", "--data", str(data)).out
    for fmt, version in (("rss", "rss20"), ("atom", "atom10")):
        parsed = feedparser.parse(run_cli(capsys, "feed", "--data", str(data), "--format", fmt).out)
        assert not parsed.bozo and parsed.version == version
        assert [t.term for t in parsed.entries[0].tags if t.term == "ai-training"] == [
            "ai-training"
        ]
        assert "AI-training language added" in parsed.entries[0].title
    written = {str(p.relative_to(data / "feeds")) for p in (data / "feeds").rglob("*.*")}
    assert {"ai-training.atom", "ai-training.rss", "all.atom", "all.rss"} <= written


def test_changes_filters_and_text_table(capsys, server, setup) -> None:  # type: ignore[no-untyped-def]
    args, data = setup
    run_cli(capsys, "check", *args)
    server.route("/privacy", body=policy(extra="<li>We added a new contact address.</li>"))
    run_cli(capsys, "check", *args)
    table = run_cli(capsys, "changes", "--data", str(data)).out
    assert "example-privacy" in table and "text changed" in table
    ai_only = run_cli(capsys, "changes", "--ai-only", "--json", "--data", str(data))
    assert json.loads(ai_only.out) == []
    # An unknown --document is a one-line error (tests/test_newcomer.py); a known one
    # with nothing matching is an empty array.
    known = ("--document", "example-privacy", "--ai-only", "--json")
    other = run_cli(capsys, "changes", *known, "--data", str(data))
    assert json.loads(other.out) == []


@pytest.mark.parametrize(
    "command",
    [["changes"], ["status"], ["feed"], ["history", "x"], ["diff", "x"]],
    ids=lambda c: c[0],
)
def test_read_commands_without_database_say_what_to_do(capsys, tmp_path, command) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(capsys, *command, "--data", str(tmp_path / "empty"))
    assert result.code == 2
    assert "run `policy-monitor check` first" in result.err
    assert "Traceback" not in result.err


def test_unknown_document_and_version(capsys, server, setup) -> None:  # type: ignore[no-untyped-def]
    args, data = setup
    run_cli(capsys, "check", *args)
    missing = run_cli(capsys, "history", "nope", "--data", str(data))
    assert missing.code == 2
    assert missing.err == "error: no document 'nope' recorded; known: example-privacy\n"
    bad = run_cli(
        capsys, "diff", "example-privacy", "--from", "1", "--to", "9", "--data", str(data)
    )
    assert bad.code == 2 and "no version 9; example-privacy has versions 1-1" in bad.err
    only = run_cli(capsys, "check", *args, "--only", "nope")
    assert only.code == 2 and "--only" in only.err


def test_invalid_watchlist_exits_2_with_one_line(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "w.yaml"
    bad.write_text("documents:\n  - id: a\n    company: C\n    title: T\n")
    result = run_cli(capsys, "check", "--watchlist", str(bad), "--data", str(tmp_path / "d"))
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert "entry 1 (a): 'url' is missing" in result.err


def test_usage_error_exits_2(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(capsys, "feed", "--format", "pdf").code == 2
    assert run_cli(capsys, "no-such-command").code == 2


def test_a_pdf_policy_is_read_and_diffed(capsys, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = [
        "Example Terms of Service",
        "You keep the rights to the content you post here.",
        "We may remove content that breaks these terms or the law of your country.",
    ]
    server.route("/terms.pdf", body=make_pdf(lines), content_type="application/pdf")
    watchlist = write_watchlist(tmp_path / "pdf.yaml", {"terms-pdf": server.url("/terms.pdf")})
    args = ["check", "--watchlist", str(watchlist), "--data", str(tmp_path / "d")]
    assert "first version (v1)" in run_cli(capsys, *args).out
    lines.append("We may use the content you post to train our AI models.")
    server.route("/terms.pdf", body=make_pdf(lines), content_type="application/pdf")
    assert "(AI-training language added)" in run_cli(capsys, *args).out
