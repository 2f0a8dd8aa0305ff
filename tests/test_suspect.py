"""Soft failures: a 200 page that is not the policy is held until seen again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.check.suspect import suspect_reason
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer

LONG = " ".join(f"Clause {i} says we keep your data for a limited time." for i in range(60))
WALL = (
    b"<html><body><main><h1>Log in to continue</h1><p>You must log in to continue to this page"
    b" of the site. Create an account or sign in with your email address and password, then"
    b" come back to read the page you asked for.</p></main></body></html>"
)


@pytest.mark.parametrize(
    "old,new,expected",
    [
        (LONG, "Log in to continue. You must sign in to see this page.", "login wall"),
        (LONG, "Please verify you are human before we let you in.", "login wall"),
        (LONG, " ".join(LONG.split()[:40]), "shrank"),
        (LONG, LONG[: len(LONG) // 2], None),  # half a policy: a real rewrite can do that
        (LONG, LONG + " Sign in to your account settings to see your choices.", None),
        ("Short page. Log in to continue.", "Short page. Log in to continue. Now.", None),
    ],
)
def test_suspect_reason(old: str, new: str, expected: str | None) -> None:
    reason = suspect_reason(old, new)
    assert (reason is None) if expected is None else (reason and expected in reason)


def test_a_cut_is_held_then_recorded_when_seen_again(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    long_policy = policy(extra="".join(f"<li>{LONG[:400]} ({i})</li>" for i in range(5)))
    with LocalServer() as server:
        server.route("/p", body=long_policy)
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        args = ["check", "--watchlist", str(watchlist), "--data", str(tmp_path / "d")]
        run_cli(capsys, *args)
        server.route("/p", body=policy())  # most of the words gone
        held = run_cli(capsys, *args)
        assert held.code == 0 and "held as suspect" in held.out
        status = json.loads(run_cli(capsys, "status", "--json", "--data", str(tmp_path / "d")).out)
        assert "shrank" in status[0]["suspect"]
        server.route("/p", body=long_policy)
        assert "unchanged (v1)" in run_cli(capsys, *args).out
        server.route("/p", body=policy())
        assert "held as suspect" in run_cli(capsys, *args).out
        confirmed = run_cli(capsys, *args).out  # seen twice: it is the page now
        assert "changed: v1 -> v2" in confirmed and "held as suspect since" in confirmed
    changes = json.loads(run_cli(capsys, "changes", "--json", "--data", str(tmp_path / "d")).out)
    assert len(changes) == 1
