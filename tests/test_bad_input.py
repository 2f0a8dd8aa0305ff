"""Bad input: each ends as a recorded failed fetch with a one-line reason, never a change.

One sweep over a watchlist where every document is broken in its own way (and one is
fine): the sweep goes on, prints a line per document, and exits 1.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import sqlite3
from pathlib import Path

import pytest

from monitor.cli import main
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer

# document id -> (route setup, words the failure line must contain)
CASES = {
    "unreachable": "could not connect",
    "dns-failure": "nonexistent.invalid",
    "timeout": "timed out",
    "not-found": "404",
    "server-error": "500",
    "redirect-loop": "redirect",
    "oversized": "too large",
    "broken-pdf": "unreadable PDF",
    "zip": "not an HTML page",
    "undecodable": "",
    "empty": "no readable text",
    "script-only": "no readable text",
    "garbage-markup": "no readable text",
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_broken_pages(server: LocalServer) -> dict[str, str]:
    server.route("/timeout", body=policy(), delay=3)
    server.route("/not-found", status=404, body=b"<html><body>gone</body></html>")
    server.route("/server-error", status=500, body=b"oops")
    server.route("/redirect-loop", status=302, headers={"Location": "/redirect-loop"})
    server.route("/oversized", body=b"<p>" + b"x" * 16_000_000)
    server.route("/broken-pdf", body=b"%PDF-1.7\n...", content_type="application/pdf")
    server.route("/zip", body=b"PK\x03\x04 zipped", content_type="application/zip")
    server.route("/undecodable", body=bytes(range(256)) * 200, content_type="text/html")
    server.route("/empty", body=b"")
    server.route("/script-only", body=b"<html><script>var app = {boot: 1};</script></html>")
    server.route("/garbage-markup", body=b"<<<>>><div <span =")
    server.route("/malformed", body=policy().replace(b"</ul>", b"").replace(b"</main>", b"<p"))
    server.route("/fine", body=policy())
    docs = {name: server.url(f"/{name}") for name in CASES}
    docs["unreachable"] = f"http://127.0.0.1:{closed_port()}/policy"
    docs["dns-failure"] = "http://nonexistent.invalid/policy"
    docs["malformed"] = server.url("/malformed")
    docs["fine"] = server.url("/fine")
    return docs


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int, Path]:
    tmp = tmp_path_factory.mktemp("bad")
    with LocalServer() as server:
        watchlist = write_watchlist(tmp / "w.yaml", serve_broken_pages(server))
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(["check", "--watchlist", str(watchlist), "--data", str(tmp / "data"),
                      "--timeout", "1", "--retries", "0", "--delay", "0"])  # fmt: skip
            except SystemExit as exc:
                code = int(exc.code or 0)
        assert "Traceback" not in err.getvalue(), err.getvalue()
        assert code != 2, err.getvalue()
    return out.getvalue(), code, tmp / "data"


def test_sweep_exits_1_and_goes_on(sweep: tuple[str, int, Path]) -> None:
    out, code, _ = sweep
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    assert code == 1
    assert lines["fine"] == "first version (v1)"
    assert lines["malformed"] == "first version (v1)"  # lxml repairs it; the text is there
    assert len(lines) == len(CASES) + 2


@pytest.mark.parametrize("doc,words", sorted(CASES.items()))
def test_each_bad_input_is_a_recorded_one_line_failure(
    sweep: tuple[str, int, Path], doc: str, words: str
) -> None:
    out, _, data = sweep
    line = next(line for line in out.splitlines() if line.startswith(f"{doc}: "))
    assert line.startswith(f"{doc}: failed: ") and words in line
    db = sqlite3.connect(data / "monitor.db")
    result, error = db.execute(
        "select result, error from fetches where document = ?", [doc]
    ).fetchone()
    assert result == "failed" and error and "\n" not in error
    assert db.execute("select count(*) from versions where document = ?", [doc]).fetchone()[0] == 0


def test_no_change_recorded_and_status_shows_failures(
    capsys: pytest.CaptureFixture[str], sweep: tuple[str, int, Path]
) -> None:
    _, _, data = sweep
    assert json.loads(run_cli(capsys, "changes", "--json", "--data", str(data)).out) == []
    status = {
        s["document"]: s
        for s in json.loads(run_cli(capsys, "status", "--json", "--data", str(data)).out)
    }
    assert status["zip"]["last_result"] == "failed" and status["zip"]["consecutive_failures"] == 1
    assert status["fine"]["last_result"] == "ok"
