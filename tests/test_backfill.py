"""`backfill`: the Wayback Machine's CDX index and raw captures, played by a fake archive on
127.0.0.1 answering in the real API's formats: a JSON array of arrays with a header row,
``[]`` for nothing, plain-text errors, 429 with Retry-After, 503, and a capture that is the
archive's own error page (which must never become a version)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.cli_helpers import Result, policy, run_cli
from tests.httpserver import LocalServer, Reply, Request

URL = "https://example.org/privacy"
HEADER = ["timestamp", "original", "statuscode", "digest", "mimetype"]
AI = "<li>To develop our AI, we may use your public posts to train our AI models.</li>"
ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body><p>Hrm.</p>"
    b"<p>The Wayback Machine has not archived that URL.</p></body></html>"
)
CAPTURES = {
    "20220110090000": policy(token="a"),
    "20230629183422": policy(extra=AI, token="b"),
    "20230901000000": ERROR_PAGE,
    "20240208120000": policy(extra=AI + "<li>To show you ads.</li>", token="c"),
}


def cdx_rows(stamps: list[str]) -> bytes:
    rows = [HEADER] + [[s, URL, "200", f"D{s}", "text/html"] for s in stamps]
    return json.dumps(rows).encode()


def capture_path(stamp: str) -> str:
    return f"/web/{stamp}id_/{URL}"


class FakeWayback:
    """The CDX endpoint and the captures, with the times requests arrived."""

    def __init__(self, server: LocalServer, cdx: list[Reply] | None = None) -> None:
        self.server = server
        self.times: dict[str, list[float]] = {}
        self.serve("/cdx/search/cdx", cdx or [Reply(body=cdx_rows(list(CAPTURES)),
                                                    content_type="application/json")])  # fmt: skip
        for stamp, body in CAPTURES.items():
            self.serve(capture_path(stamp), [Reply(body=body)])

    def serve(self, path: str, replies: list[Reply]) -> None:
        queue = list(replies)

        def answer(request: Request) -> Reply:
            self.times.setdefault(path, []).append(time.monotonic())
            return queue.pop(0) if len(queue) > 1 else queue[0]

        self.server.handle(path, answer)

    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.server.requests("/cdx/search/cdx")[-1].path).query)


def backfill(capsys: pytest.CaptureFixture[str], tmp_path: Path, server: LocalServer,
             *args: str) -> Result:  # fmt: skip
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text("documents:\n  - id: example-privacy\n    company: Example\n"
                         f"    title: Example Privacy Policy\n    url: {URL}\n")  # fmt: skip
    return run_cli(capsys, "backfill", "example-privacy", "--archive-url", server.url("/"),
                   "--delay", "0", "--watchlist", str(watchlist), "--data",
                   str(tmp_path / "data"), *args)  # fmt: skip


def changes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(
        run_cli(capsys, "changes", "--json", "--data", str(tmp_path / "data")).out
    )
    return rows


def test_captures_become_history_politely_and_resumably(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    archive = FakeWayback(local_server, [
        Reply(status=429, body=b"Too Many Requests", headers={"Retry-After": "1"},
              content_type="text/plain"),
        Reply(body=cdx_rows(list(CAPTURES)), content_type="application/json"),
    ])  # fmt: skip
    archive.serve(
        capture_path("20230629183422"),
        [Reply(status=503, body=b"busy"), Reply(body=CAPTURES["20230629183422"])],
    )
    done = backfill(capsys, tmp_path, local_server, "--since", "2022-01-01", "--until",
                    "2024-12-31")  # fmt: skip
    assert done.code == 0, done.err
    assert done.out.splitlines()[0] == ("example-privacy: wayback: 3 step(s) imported, "
                                        "2 change(s), 1 AI-training, 1 failed")  # fmt: skip
    warning = [line for line in done.err.splitlines() if line.startswith("warning")]
    assert warning == [
        "warning: example-privacy: wayback 20230901000000: the capture is the "
        "Wayback Machine's own error page, not the document (not recorded)"
    ]
    cdx_times = archive.times["/cdx/search/cdx"]
    assert cdx_times[1] - cdx_times[0] >= 0.9  # Retry-After: 1 honoured
    assert archive.query() == {
        "url": [URL], "output": ["json"], "fl": [",".join(HEADER)],
        "filter": ["statuscode:200"], "collapse": ["digest"], "from": ["20220101"],
        "to": ["20241231235959"],
    }  # fmt: skip
    rows = changes(capsys, tmp_path)
    assert [(r["detected_at"], r["origin"], r["origin_ref"], r["ai_training"]) for r in rows] == [
        ("2023-06-29T18:34:22+00:00", "wayback", "20230629183422", True),
        ("2024-02-08T12:00:00+00:00", "wayback", "20240208120000", False),
    ]
    fetched = {s: local_server.hits(capture_path(s)) for s in CAPTURES}
    again = backfill(capsys, tmp_path, local_server)
    assert "0 step(s) imported, 0 change(s), 0 AI-training, 4 already imported" in again.out
    assert {s: local_server.hits(capture_path(s)) for s in CAPTURES} == fetched  # nothing refetched
    assert len(changes(capsys, tmp_path)) == 2


def test_the_archive_url_may_come_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    FakeWayback(local_server, [Reply(body=b"[]", content_type="application/json")])
    monkeypatch.setenv("POLICY_MONITOR_WAYBACK_URL", local_server.url("/"))
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text(f"documents:\n  - id: d\n    company: E\n    title: T\n    url: {URL}\n")
    done = run_cli(capsys, "backfill", "d", "--watchlist", str(watchlist), "--data",
                   str(tmp_path / "data"))  # fmt: skip
    assert done.code == 0 and local_server.hits("/cdx/search/cdx") == 1
    assert done.out.splitlines()[-1] == "d: wayback: the archive has no steps to import"


@pytest.mark.parametrize(
    "reply,cause",
    [
        (Reply(status=400, body=b"org.archive.wayback.exception.BadQueryException: Bad url",
               content_type="text/plain"),
         "the Wayback Machine's CDX index did not answer: HTTP 400"),
        (Reply(body=b"org.archive.util.io.RuntimeIOException: CDX server error",
               content_type="text/plain"),
         "the CDX answer is not JSON: 'org.archive.util.io.RuntimeIOException: CDX server error'"),
        (Reply(body=b'{"error": "x"}', content_type="application/json"),
         "the CDX answer is not a JSON array of rows"),
        (Reply(body=b'[["urlkey", "digest"], ["a", "b"]]', content_type="application/json"),
         "the CDX answer's first row names no timestamp, original field"),
        (Reply(body=json.dumps([HEADER, ["2023", URL, "200", "d", "text/html"]]).encode()),
         "a CDX row's timestamp is not 14 digits: '2023'"),
        (Reply(body=json.dumps([HEADER, ["20230101000000", URL]]).encode()),
         "a CDX row has 2 fields, its header 5"),
        (Reply(body=json.dumps([HEADER, ["20230101000000", "https://evil.example/privacy",
                                          "200", "d", "text/html"]]).encode()),
         "the CDX answer lists a capture of another site ('https://evil.example/privacy', "
         f"not '{URL}'): not imported"),
    ],
)  # fmt: skip
def test_a_cdx_answer_not_as_expected_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer, reply: Reply,
    cause: str,
) -> None:  # fmt: skip
    FakeWayback(local_server, [reply])
    done = backfill(capsys, tmp_path, local_server, "--retries", "0")
    assert done.code == 1
    assert len(done.err.strip().splitlines()) == 1
    assert done.err.startswith(f"error: example-privacy: wayback: {cause}"), done.err


def test_an_archive_that_stays_busy_stops_the_import_where_it_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    archive = FakeWayback(local_server)
    busy = capture_path("20230629183422")
    archive.serve(busy, [Reply(status=503, body=b"Service Unavailable")])
    done = backfill(capsys, tmp_path, local_server, "--retries", "1")
    assert done.code == 1 and local_server.hits(busy) == 2  # one retry after a backoff
    assert "stopped here, run again to resume (will retry)" in done.err
    assert "1 step(s) imported, 0 change(s)" in done.out
    assert local_server.hits(capture_path("20240208120000")) == 0  # history goes in order
    archive.serve(busy, [Reply(body=CAPTURES["20230629183422"])])
    later = backfill(capsys, tmp_path, local_server)
    assert later.code == 0, later.err
    assert "2 step(s) imported, 2 change(s), 1 AI-training, 1 already imported, 1 failed" in (
        later.out
    )
