"""More bad input: redirects to a login or another locale, a lying charset, a huge single
line, and a 304 with nothing stored. Each gives a clear outcome and never a false change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.store import Store
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer

LOGIN = b"<html><body><main><h1>Log in</h1><p>Enter your email.</p></main></body></html>"
CP1252 = (
    "<html><body><main><h1>Terms</h1><p>\u201cWe\u201d respect your privacy \u2013 caf\u00e9"
    " owners and users alike can read these terms of service at any time, free of charge,"
    " in every country where the service is offered today.</p></main></body></html>"
).encode("cp1252")


def check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, docs: dict[str, str]
) -> dict[str, str]:
    watchlist = write_watchlist(tmp_path / "w.yaml", docs)
    result = run_cli(capsys, "check", "--watchlist", str(watchlist), "--data",
                     str(tmp_path / "d"), "--retries", "0", "--delay", "0")  # fmt: skip
    assert "Traceback" not in result.err
    return dict(line.split(": ", 1) for line in result.out.strip().splitlines())


def test_redirects_to_login_or_other_locale_are_failures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with LocalServer() as server:
        server.route("/privacy", status=302, headers={"Location": "/login?next=/privacy"})
        server.route("/login", body=LOGIN)
        server.route("/en/terms", status=301, headers={"Location": "/fr/terms"})
        server.route("/fr/terms", body=policy(title="Conditions"))
        server.route("/en-gb/ok", status=301, headers={"Location": "/en-gb/ok/"})
        server.route("/en-gb/ok/", body=policy())
        lines = check(capsys, tmp_path, {
            "walled": server.url("/privacy"), "locale": server.url("/en/terms"),
            "slash": server.url("/en-gb/ok"),
        })  # fmt: skip
    assert lines["walled"].startswith("failed: redirected to a login or consent page")
    assert lines["locale"].startswith("failed: redirected from locale en to fr")
    assert lines["slash"] == "first version (v1)"  # an ordinary redirect is fine


def test_wrong_charset_and_huge_single_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    huge = b"<html><body><main><h1>Terms</h1>" + b"<p>We keep your data safe. </p>" * 40_000
    with LocalServer() as server:
        server.route("/cp", body=CP1252, content_type="text/html; charset=utf-8")  # a lie
        server.route("/huge", body=huge + b"</main></body></html>")
        lines = check(capsys, tmp_path, {"cp": server.url("/cp"), "huge": server.url("/huge")})
    assert lines == {"cp": "first version (v1)", "huge": "first version (v1)"}
    store = Store(tmp_path / "d")
    version = store.current_version("cp")
    store.close()
    assert version is not None
    assert "\u201cWe\u201d respect your privacy \u2013 caf\u00e9" in version.text


def test_304_without_a_stored_version_is_refetched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with LocalServer() as server:
        server.route("/p", status=304)  # a broken cache in front of the site
        first = check(capsys, tmp_path, {"doc": server.url("/p")})
        server.route("/p", body=policy())
        second = check(capsys, tmp_path, {"doc": server.url("/p")})
    assert "answered 304 Not Modified to a request without validators" in first["doc"]
    assert second["doc"] == "first version (v1)"
    changes = run_cli(capsys, "changes", "--json", "--data", str(tmp_path / "d")).out
    assert json.loads(changes) == []
