"""A small real HTTP server for tests: configurable routes on 127.0.0.1, served from a thread.

    with LocalServer() as server:
        server.route("/terms", body=b"<html>...</html>")
        server.sequence("/flaky", [Reply(status=500), Reply(body=b"<html>ok</html>")])
        httpx.get(server.url("/terms"))
        assert server.hits("/terms") == 1
        assert server.requests("/terms")[0].headers["User-Agent"]

Routes match the URL's path (the query string is ignored); an unknown path answers 404.
A route is a function from the received :class:`Request` to a :class:`Reply`, so tests can
also compute replies (``server.handle(path, fn)``). The server speaks HTTP/1.0 and closes
the connection after each reply, so a lying ``Content-Length`` makes a truncated body.
Use it through the ``local_server`` fixture in ``tests/conftest.py``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """What a route answers. ``content_length`` overrides the real length (to truncate)."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)
    content_type: str | None = "text/html; charset=utf-8"  # None: send no Content-Type
    content_length: int | None = None


@dataclass(frozen=True)
class Request:
    """A request the server received."""

    method: str
    path: str  # with the query string
    headers: Mapping[str, str]


Handler = Callable[[Request], Reply]


class LocalServer:
    """A ThreadingHTTPServer on 127.0.0.1 with a free port; a context manager."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._requests: dict[str, list[Request]] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def route(
        self,
        path: str,
        status: int = 200,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        **options: Any,
    ) -> None:
        """Answers every request to ``path`` the same way (``options``: other Reply fields)."""
        reply = Reply(status, body, dict(headers or {}), delay, **options)
        self.handle(path, lambda _request: reply)

    def sequence(self, path: str, replies: Sequence[Reply]) -> None:
        """Answers with each reply in turn, then repeats the last one."""
        remaining = list(replies)
        lock = threading.Lock()

        def next_reply(_request: Request) -> Reply:
            with lock:
                return remaining.pop(0) if len(remaining) > 1 else remaining[0]

        self.handle(path, next_reply)

    def handle(self, path: str, handler: Handler) -> None:
        with self._lock:
            self._routes[path] = handler

    def hits(self, path: str) -> int:
        return len(self.requests(path))

    def requests(self, path: str) -> list[Request]:
        with self._lock:
            return list(self._requests.get(path, []))

    def close(self) -> None:
        self._closing.set()  # wakes handlers that wait out a delay
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _serve(self) -> None:
        # A short poll interval makes shutdown() quick: it waits for the next poll.
        self._server.serve_forever(poll_interval=0.02)

    def _answer(self, request: Request) -> Reply:
        path = urlsplit(request.path).path
        with self._lock:
            self._requests.setdefault(path, []).append(request)
            handler = self._routes.get(path)
        if handler is None:
            return Reply(status=404, body=b"<html><body>not found</body></html>")
        return handler(request)

    def _wait(self, seconds: float) -> None:
        self._closing.wait(seconds)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up early (timeouts, size caps, TLS probes) are expected here.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _make_handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            request = Request(self.command, self.path, dict(self.headers.items()))
            reply = server._answer(request)
            server._wait(reply.delay)
            try:
                self._send(reply)
            except OSError:
                pass  # the client gave up (timeout tests); nothing to report

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            if reply.content_type is not None:
                self.send_header("Content-Type", reply.content_type)
            length = len(reply.body) if reply.content_length is None else reply.content_length
            self.send_header("Content-Length", str(length))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return _Handler
