"""A raw-socket HTTP server that misbehaves on purpose, for the hostile-fetch tests.

    with HostileServer() as server:
        server.route("/drip", drip_headers(interval=1.0))
        server.route("/moved", redirect("http://10.0.0.5/"))
        fetcher.fetch(watch(server.url("/drip")))

Each route is a function given the connected socket and a stop event; it writes whatever
bytes it likes, as slowly as it likes, and returns when done or when the server closes
(the stop event is set). ``host`` may be another loopback address (127.0.0.2) so a test
can play a "public" site next to a private one. Unknown paths answer 404.
"""

from __future__ import annotations

import functools
import socket
import threading
import zlib
from collections.abc import Callable
from types import TracebackType

# Writes a reply; True: keep the connection open for the next request.
Behaviour = Callable[[socket.socket, threading.Event], bool | None]
HEAD_LIMIT = 65536


class HostileServer:
    """Listens on ``host`` with a free port; one thread per connection; a context manager."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._routes: dict[str, Behaviour] = {}
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, behaviour: Behaviour) -> None:
        with self._lock:
            self._routes[path] = behaviour

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits.get(path, 0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                keep_alive = True
                while keep_alive and not self._stop.is_set():
                    path = _read_path(conn)
                    if not path:
                        return  # the client closed a kept-alive connection
                    with self._lock:
                        self._hits[path] = self._hits.get(path, 0) + 1
                        behaviour = self._routes.get(path, page(b"not found", status=404))
                    keep_alive = bool(behaviour(conn, self._stop))
            except OSError:
                pass  # the client gave up, which is what most routes are waiting for


def _read_path(conn: socket.socket) -> str:
    conn.settimeout(5)
    head = b""
    while b"\r\n\r\n" not in head and len(head) < HEAD_LIMIT:
        data = conn.recv(4096)
        if not data:
            break
        head += data
    conn.settimeout(None)
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if not head:
        return ""
    return request_line[1].split("?")[0] if len(request_line) > 1 else "/"


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def page(
    body: bytes,
    status: int = 200,
    content_type: str = "text/html; charset=utf-8",
    keep_alive: bool = False,
) -> Behaviour:
    """A well-behaved answer; the connection then closes, or stays open for the next."""

    def answer(conn: socket.socket, _stop: threading.Event) -> bool:
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        connection = "keep-alive" if keep_alive else "close"
        conn.sendall(_head(status, {**headers, "Connection": connection}) + body)
        return keep_alive

    return answer


def redirect(location: str, status: int = 302) -> Behaviour:
    def answer(conn: socket.socket, _stop: threading.Event) -> None:
        headers = {"Location": location, "Content-Length": "0", "Connection": "close"}
        conn.sendall(_head(status, headers))

    return answer


def silent() -> Behaviour:
    """Accepts the connection, reads the request and never answers."""

    def answer(_conn: socket.socket, stop: threading.Event) -> None:
        stop.wait()

    return answer


def drip(data: bytes, interval: float) -> Behaviour:
    """Sends ``data`` one byte every ``interval`` seconds."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        for index in range(len(data)):
            conn.sendall(data[index : index + 1])
            if stop.wait(interval):
                return

    return answer


def drip_headers(interval: float) -> Behaviour:
    """A status line and headers, one byte at a time: headers that never finish in time."""
    head = _head(200, {"Content-Type": "text/html", "X-Filler": "x" * 200})
    return drip(head + b"<html>never</html>", interval)


def drip_body(interval: float, content_type: str = "text/html") -> Behaviour:
    """Headers at once, then a body one byte at a time."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_head(200, {"Content-Type": content_type, "Content-Length": "100000"}))
        drip(b"<html><body>" + b"x" * 99_988, interval)(conn, stop)

    return answer


def endless_chunked(content_type: str = "text/html", chunk: int = 65536) -> Behaviour:
    """A chunked body that never ends, as fast as the client reads it."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_head(200, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}))
        piece = f"{chunk:x}\r\n".encode() + b"<p>" + b"a" * (chunk - 3) + b"\r\n"
        while not stop.is_set():
            conn.sendall(piece)

    return answer


@functools.lru_cache(maxsize=2)
def bomb(decoded_mb: int) -> bytes:
    """gzip of ``decoded_mb`` MB of zeros: under 1 MB on the wire (level 1 is the fastest
    to build, and any level is small for zeros)."""
    squeeze = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    return b"".join(squeeze.compress(block) for _ in range(decoded_mb)) + squeeze.flush()


def gzip_bomb(decoded_mb: int = 200, content_type: str = "text/html") -> Behaviour:
    """A small gzip body that inflates to ``decoded_mb`` MB of zeros."""
    body = bomb(decoded_mb)
    headers = {
        "Content-Type": content_type,
        "Content-Encoding": "gzip",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }

    def answer(conn: socket.socket, _stop: threading.Event) -> None:
        conn.sendall(_head(200, headers) + body)

    return answer


BEHAVIOURS: dict[str, Callable[..., Behaviour]] = {
    "page": page,
    "redirect": redirect,
    "silent": silent,
    "drip_headers": drip_headers,
    "drip_body": drip_body,
    "endless_chunked": endless_chunked,
    "gzip_bomb": gzip_bomb,
}
