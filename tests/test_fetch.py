"""monitor.fetch.http: unit tests on httpx.MockTransport, then real sockets on a local server."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monitor.errors import FetchError
from monitor.fetch.http import USER_AGENT, Fetcher, FetchSettings, make_client
from monitor.models import FetchResult, Validators, Watch
from tests.httpserver import LocalServer, Reply

DATA = Path(__file__).parent / "data"
HTML = b"<!doctype html><html><body><p>These are the terms.</p></body></html>"
FAST = FetchSettings(timeout=2.0, retries=2, backoff=0.01, max_retry_after=30.0, host_delay=0.5)
Handler = Callable[[httpx.Request], httpx.Response]


def watch(url: str, id: str = "doc") -> Watch:
    return Watch(id=id, company="Example", title="Terms", url=url)


def page(
    status: int = 200, body: bytes = HTML, headers: dict[str, str] | None = None
) -> httpx.Response:
    """A response streamed as a real transport's is (``content=`` would read it in advance)."""
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": str(len(body)),
        **(headers or {}),
    }
    return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))


def mock_fetcher(handler: Handler, settings: FetchSettings = FAST) -> tuple[Fetcher, list[float]]:
    """A fetcher on a MockTransport; the list records every (fake) sleep."""
    sleeps: list[float] = []
    # robots.txt has its own tests (test_robots.py); here every request is the page's
    settings = dataclasses.replace(settings, respect_robots=False)
    client = make_client(settings, transport=httpx.MockTransport(handler))
    return Fetcher(client, settings, sleep=sleeps.append), sleeps


def replies(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with each response in turn; the list records the requests."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = responses[min(len(seen), len(responses)) - 1]
        return httpx.Response(reply.status_code, headers=reply.headers, stream=reply.stream)

    return handler, seen


def fetch_error(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(watch(url))
    return caught.value


# --- unit tests on MockTransport --------------------------------------------------------


def test_a_page_comes_back_with_its_metadata_after_redirects() -> None:
    handler, seen = replies(
        httpx.Response(301, headers={"Location": "https://example.com/new"}),
        page(headers={"ETag": '"v1"'}),
    )
    fetcher, _ = mock_fetcher(handler)
    before = datetime.now(UTC)
    result = fetcher.fetch(watch("https://example.com/old"))
    assert (result.status, result.body, result.not_modified) == (200, HTML, False)
    assert (result.url, result.final_url) == ("https://example.com/old", "https://example.com/new")
    assert result.header("etag") == '"v1"' and ("etag", '"v1"') in result.headers
    assert result.content_type == "text/html; charset=utf-8"
    assert result.fetched_at.tzinfo is UTC and result.fetched_at >= before
    assert 0 <= result.duration < 2
    sent = seen[-1].headers
    assert sent["User-Agent"] == USER_AGENT and "text/html" in sent["Accept"]
    assert sent["Accept-Language"].startswith("en")
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent


def test_a_503_is_retried_after_a_backoff() -> None:
    handler, seen = replies(page(503), page(200))
    fetcher, sleeps = mock_fetcher(handler)
    assert fetcher.fetch(watch("https://example.com/terms")).body == HTML
    assert len(seen) == 2 and sleeps == [FAST.backoff]


def test_the_backoff_doubles_until_the_retries_run_out() -> None:
    handler, seen = replies(page(429))
    fetcher, sleeps = mock_fetcher(handler)
    error = fetch_error(fetcher, "https://example.com/terms")
    assert (error.status, error.transient, error.blocked) == (429, True, True)
    assert len(seen) == 3 and sleeps == [FAST.backoff, FAST.backoff * 2]


def in_seconds(seconds: int) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    "retry_after,low,high",
    [
        ("7", 7, 7),
        ("3600", FAST.max_retry_after, FAST.max_retry_after),  # capped
        ("in 20 s", 15, 20),  # an HTTP date, made when the test runs (not when collected)
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0, 0),  # a date in the past: no wait
        ("soon", FAST.backoff, FAST.backoff),  # unreadable: the usual backoff
    ],
)
def test_retry_after_is_honoured(retry_after: str, low: float, high: float) -> None:
    if retry_after.startswith("in "):
        retry_after = in_seconds(int(retry_after.split()[1]))
    handler, _ = replies(page(429, headers={"Retry-After": retry_after}), page(200))
    fetcher, sleeps = mock_fetcher(handler)
    fetcher.fetch(watch("https://example.com/terms"))
    assert len(sleeps) == 1 and low <= sleeps[0] <= high


STATUS_CASES = yaml.safe_load((DATA / "fetch_statuses.yaml").read_text())


@pytest.mark.parametrize("case", STATUS_CASES, ids=lambda c: f"{c['status']}-{c['says']}")
def test_http_statuses_become_fetch_errors(case: dict[str, Any]) -> None:
    body = case.get("body", "<html>error</html>").encode()
    handler, seen = replies(page(case["status"], body))
    fetcher, _ = mock_fetcher(handler)
    error = fetch_error(fetcher, "https://example.com/terms")
    assert case["says"] in str(error) and error.url == "https://example.com/terms"
    assert (error.transient, error.blocked) == (case["transient"], case["blocked"])
    assert len(seen) == case["attempts"]


def test_a_conditional_get_sends_validators_and_maps_304() -> None:
    handler, seen = replies(httpx.Response(304, headers={"ETag": '"v1"'}))
    fetcher, _ = mock_fetcher(handler)
    modified = "Wed, 21 Oct 2015 07:28:00 GMT"
    result = fetcher.fetch(watch("https://example.com/t"), Validators('"v1"', modified))
    assert (result.not_modified, result.status, result.body) == (True, 304, b"")
    assert seen[0].headers["If-None-Match"] == '"v1"'
    assert seen[0].headers["If-Modified-Since"] == modified


def test_an_unsendable_validator_falls_back_to_a_full_get() -> None:
    handler, seen = replies(page())
    fetcher, _ = mock_fetcher(handler)
    fetcher.fetch(watch("https://example.com/t"), Validators(etag='"caf\u00e9"'))
    assert "If-None-Match" not in seen[0].headers


def chunks(size: int) -> Iterator[bytes]:
    for _ in range(size // 1000):
        yield b"<p>" + b"x" * 997


@pytest.mark.parametrize(
    "response",
    [
        page(body=b"x" * 1001),  # Content-Length says so before any byte is read
        httpx.Response(200, headers={"Content-Type": "text/html"}, content=chunks(5000)),
        page(body=zlib.compress(b"<html>" + b" " * 5000), headers={"Content-Encoding": "deflate"}),
    ],
    ids=["declared", "streamed", "decoded"],
)
def test_a_body_over_max_bytes_is_refused(response: httpx.Response) -> None:
    fetcher, _ = mock_fetcher(replies(response)[0], FetchSettings(max_bytes=1000, retries=0))
    error = fetch_error(fetcher, "https://example.com/big")
    assert "too large" in str(error) and not error.transient


@pytest.mark.parametrize(
    "content_type,body,accepted",
    [
        ("text/html; charset=utf-8", HTML, True),
        ("application/xhtml+xml", HTML, True),
        ("text/plain; charset=utf-8", b"Terms of use. 1. You agree.", True),
        ("TEXT/HTML", HTML, True),
        (None, HTML, True),  # no content type, but the body is HTML
        (None, b"%PDF-1.7 binary", True),  # PDF policies are read by extract_pdf
        ("application/pdf", b"%PDF-1.7 binary", True),
        (None, b"\x89PNG\r\n binary", False),
        ("application/json", b'{"terms": 1}', False),
    ],
)
def test_only_html_pages_are_accepted(
    content_type: str | None, body: bytes, accepted: bool
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    fetcher, _ = mock_fetcher(replies(httpx.Response(200, content=body, headers=headers))[0])
    if accepted:
        assert fetcher.fetch(watch("https://example.com/t")).body == body
    else:
        error = fetch_error(fetcher, "https://example.com/t")
        assert str(error).startswith("not an HTML page") and not error.transient
        assert content_type is None or content_type in str(error)


def test_a_redirect_loop_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        other = "/b" if request.url.path == "/a" else "/a"
        return httpx.Response(302, headers={"Location": other})

    fetcher, _ = mock_fetcher(handler)
    error = fetch_error(fetcher, "https://example.com/a")
    assert str(error).startswith("redirect loop") and not error.transient


def test_a_server_that_drips_its_page_is_given_up_on() -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(20):
            time.sleep(0.02)
            yield b"<p>slow</p>"

    handler, _ = replies(httpx.Response(200, headers={"Content-Type": "text/html"}, content=drip()))
    fetcher, _ = mock_fetcher(handler, FetchSettings(timeout=0.03, retries=0))
    error = fetch_error(fetcher, "https://example.com/drip")
    assert "did not answer within 0.09 s (gave up" in str(error) and error.transient


def test_an_unknown_content_encoding_is_an_error() -> None:
    fetcher, _ = mock_fetcher(replies(page(headers={"Content-Encoding": "br"}))[0])
    assert "unsupported content encoding br" in str(fetch_error(fetcher, "https://example.com/"))


@pytest.mark.parametrize(
    "url", ["", "example.com/terms", "ftp://example.com/terms", "http://[::1", "http://a..b/"]
)
def test_invalid_urls_raise_fetch_error_not_httpx_errors(url: str) -> None:
    settings = FetchSettings(retries=0)
    with make_client(settings) as client:
        error = fetch_error(Fetcher(client, settings), url)
    assert "invalid URL" in str(error) and error.__cause__ is not None


# --- fetch_many ---------------------------------------------------------------------------


def test_fetch_many_serialises_each_host_and_pauses_between_its_requests() -> None:
    lock = threading.Lock()
    in_flight: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    events: list[tuple[int, str, str]] = []  # (thread, "get" or "sleep", "host/path" or seconds)
    two_hosts_at_once = threading.Barrier(2, timeout=5)

    def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        with lock:
            in_flight[host] += 1
            peak[host] = max(peak[host], in_flight[host])
            events.append((threading.get_ident(), "get", host + request.url.path))
        if request.url.path == "/1" and host != "c.example":
            two_hosts_at_once.wait()  # breaks (and fails the test) unless hosts run in parallel
        time.sleep(0.01)  # widens the window in which an overlap on one host would show
        with lock:
            in_flight[host] -= 1
        return page()

    def fake_sleep(seconds: float) -> None:
        with lock:
            events.append((threading.get_ident(), "sleep", str(seconds)))

    urls = [
        "a.example/1",
        "b.example/1",
        "a.example/2",
        "c.example/1",
        "b.example/2",
        "a.example/3",
    ]
    jobs = [(watch(f"https://{url}", id=url), Validators()) for url in urls]
    settings = dataclasses.replace(FAST, respect_robots=False)  # robots: test_robots.py
    fetcher = Fetcher(
        make_client(settings, httpx.MockTransport(handler)), settings, sleep=fake_sleep
    )
    results = list(fetcher.fetch_many(jobs))

    assert sorted(w.id for w, _ in results) == sorted(urls)
    assert all(isinstance(r, FetchResult) for _, r in results)
    assert set(peak.values()) == {1}
    assert [e[2] for e in events if e[1] == "sleep"] == [str(FAST.host_delay)] * 3
    for thread in {e[0] for e in events}:
        mine = [(kind, what.split("/")[0]) for t, kind, what in events if t == thread]
        for before, after in zip(mine, mine[1:], strict=False):
            assert not before[0] == after[0] == "get" or before[1] != after[1], "no pause"
    gets = [what for _, kind, what in events if kind == "get"]
    assert [g for g in gets if g.startswith("a.")] == ["a.example/1", "a.example/2", "a.example/3"]


def test_fetch_many_yields_failures_as_values() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return page(404) if request.url.path == "/gone" else page()

    fetcher, _ = mock_fetcher(handler)
    jobs = [
        (watch("https://one.example/gone", id="gone"), Validators()),
        (watch("https://two.example/ok", id="ok"), Validators()),
        (watch("https://three.example/ok", id="also-ok"), Validators()),
    ]
    outcomes = {w.id: r for w, r in fetcher.fetch_many(jobs)}
    assert isinstance(outcomes["gone"], FetchError) and outcomes["gone"].status == 404
    assert isinstance(outcomes["ok"], FetchResult) and isinstance(outcomes["also-ok"], FetchResult)
    assert list(fetcher.fetch_many([])) == []


# --- real sockets on tests/httpserver.py ------------------------------------------------

REAL = FetchSettings(timeout=0.3, retries=1, backoff=0.0, host_delay=0.0, max_bytes=100_000)


@pytest.fixture
def real() -> Iterator[Fetcher]:
    with make_client(REAL) as client:
        yield Fetcher(client, REAL, sleep=lambda _seconds: None)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_real_page_and_a_conditional_get(local_server: LocalServer, real: Fetcher) -> None:
    local_server.route("/terms", body=HTML, headers={"ETag": '"v1"'})
    first = real.fetch(watch(local_server.url("/terms")))
    assert first.body == HTML and first.header("ETag") == '"v1"'
    local_server.route("/terms", status=304, content_type=None)
    second = real.fetch(watch(local_server.url("/terms")), Validators(etag='"v1"'))
    assert second.not_modified
    sent = local_server.requests("/terms")
    assert sent[1].headers["If-None-Match"] == '"v1"'
    assert sent[0].headers["User-Agent"] == USER_AGENT


def test_a_500_then_recovery(local_server: LocalServer, real: Fetcher) -> None:
    local_server.sequence("/flaky", [Reply(status=500), Reply(body=HTML)])
    assert real.fetch(watch(local_server.url("/flaky"))).body == HTML
    assert local_server.hits("/flaky") == 2


def gzip_bomb(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(megabytes)) + packer.flush()


REAL_FAILURES: list[tuple[str, dict[str, Any], str, bool]] = [
    # route, route options, what the message says, transient
    ("/missing", {"status": 404}, "HTTP 404 Not Found", False),
    ("/slow", {"body": HTML, "delay": 2.0}, "timed out after 0.3s", True),
    ("/big", {"body": b"<html>" + b"x" * 100_000}, "too large", False),
    ("/zip", {"body": b"PK\x03\x04", "content_type": "application/zip"}, "application/zip", False),
    ("/cut", {"body": b"<html><body>Ter", "content_length": 5000}, "broke off", True),
    ("/loop", {"status": 302, "headers": {"Location": "/loop"}}, "redirect loop", False),
]


@pytest.mark.parametrize(
    "path,options,says,transient", REAL_FAILURES, ids=[case[0][1:] for case in REAL_FAILURES]
)
def test_real_server_failures(
    local_server: LocalServer,
    real: Fetcher,
    path: str,
    options: dict[str, Any],
    says: str,
    transient: bool,
) -> None:
    local_server.route(path, **options)
    error = fetch_error(real, local_server.url(path))
    assert says in str(error) and error.transient == transient
    assert local_server.hits(path) == (2 if transient else 11 if path == "/loop" else 1)


def test_a_gzip_bomb_is_stopped_without_inflating_it(local_server: LocalServer) -> None:
    settings = FetchSettings(retries=0)  # the default 15 MB cap
    local_server.route("/bomb", body=gzip_bomb(50), headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with make_client(settings) as client:
            error = fetch_error(Fetcher(client, settings), local_server.url("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "too large" in str(error)
    assert peak < 2 * settings.max_bytes  # 50 MB were never held at once


@pytest.mark.parametrize(
    "url,says,transient",
    [
        (f"http://127.0.0.1:{closed_port()}/terms", "connection refused (is the site up?", True),
        ("http://nonexistent.invalid/terms", "could not resolve host nonexistent.invalid", True),
    ],
    ids=["refused", "dns"],
)
def test_unreachable_hosts(real: Fetcher, url: str, says: str, transient: bool) -> None:
    error = fetch_error(real, url)
    assert says in str(error) and isinstance(error.__cause__, httpx.ConnectError)
    assert error.transient == transient


def test_https_to_a_plain_http_port_is_a_tls_error(
    local_server: LocalServer, real: Fetcher
) -> None:
    error = fetch_error(real, local_server.url("/terms", scheme="https"))
    assert "TLS handshake with 127.0.0.1 failed" in str(error) and not error.transient
