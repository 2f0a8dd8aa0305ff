"""The network layer under the HTTP client: one deadline per attempt, no private detours.

httpx has per-read timeouts only, which a server dripping one byte at a time resets
forever. :class:`GuardedBackend` is an httpcore network backend that bounds every connect,
TLS handshake, read and write by what is left of the current attempt's deadline, so an
attempt ends when its time is up whatever the server does.

It also checks the address each connection really goes to (after DNS, so a name that
re-resolves to a private address between two lookups is caught too): once the first
address a fetch speaks to is public, no later hop may reach a loopback, private,
link-local, unique-local, multicast or unspecified address. A watchlist URL on a private
address stays allowed (the operator wrote it), with its redirects.

The rules live in a per-thread :class:`Guard`, set around one attempt with :func:`guarded`:
httpx's sync client does its I/O in the calling thread.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpcore

from monitor.fetch.addresses import AddressPolicy, AddressRefused, SocketAddress, resolve

SocketOption = typing.Any  # httpcore's SOCKET_OPTION union, passed through untouched
_LOCAL = threading.local()


@dataclass
class Guard:
    """The rules of one attempt: when it ends, and whether private addresses are off limits
    (None until the first connection of the attempt decides it)."""

    deadline: float
    public_only: bool | None = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def bound(self, timeout: float | None, late: type[Exception]) -> float:
        """``timeout`` shortened to the time left; raises ``late`` once none is left."""
        left = self.remaining()
        if left <= 0:
            raise late("the attempt's deadline has passed")
        return left if timeout is None else min(timeout, left)


@contextmanager
def guarded(deadline: float, public_only: bool | None = None) -> Iterator[Guard]:
    """Applies a :class:`Guard` to this thread's connections until the block ends."""
    previous = getattr(_LOCAL, "guard", None)
    guard = Guard(deadline, public_only)
    _LOCAL.guard = guard
    try:
        yield guard
    finally:
        _LOCAL.guard = previous


def current_guard() -> Guard | None:
    guard = getattr(_LOCAL, "guard", None)
    return guard if isinstance(guard, Guard) else None


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, bounded by the thread's :class:`Guard` when one is set."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        guard = current_guard()
        addresses = _resolve(host, port, timeout)
        allowed = self._allowed(host, addresses, guard)
        source = None if local_address is None else (local_address, 0)
        for index, (family, address) in enumerate(allowed):
            try:
                sock = _connect(family, address, source, timeout)
            except OSError as exc:
                if index < len(allowed) - 1:
                    continue  # the next address of the name may answer
                # Raised inside the handler: httpcore drops __cause__, and the message
                # reads the OS error from __context__.
                kind = httpcore.ConnectTimeout if isinstance(exc, TimeoutError) else None
                raise (kind or httpcore.ConnectError)(str(exc)) from exc
            for option in socket_options or ():
                sock.setsockopt(*option)
            return GuardedStream(sock, self._policy)
        raise httpcore.ConnectError(f"no address found for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used by the monitor")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _allowed(
        self, host: str, addresses: list[tuple[int, SocketAddress]], guard: Guard | None
    ) -> list[tuple[int, SocketAddress]]:
        """The addresses this attempt may connect to; the first connection decides whether
        the fetch started at a public address."""
        if guard is None:
            return addresses
        private = [self._policy.is_private(str(a[1][0])) for a in addresses]
        if guard.public_only is None:
            guard.public_only = not all(private)
        if not guard.public_only:
            return addresses
        public = [a for a, p in zip(addresses, private, strict=True) if not p]
        if not public and addresses:
            raise AddressRefused(host, str(addresses[0][1][0]))
        return public


class GuardedStream(httpcore.NetworkStream):
    """A socket whose every operation ends by the deadline; its peer is checked before
    each request is written, so a pooled connection cannot carry a hop to a private host."""

    def __init__(self, sock: socket.socket, policy: AddressPolicy) -> None:
        self._sock = sock
        self._policy = policy

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        timeout = _bounded(timeout, httpcore.ReadTimeout)
        try:
            self._sock.settimeout(timeout)
            return self._sock.recv(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._check_peer()
        try:
            while buffer:
                self._sock.settimeout(_bounded(timeout, httpcore.WriteTimeout))
                sent = self._sock.send(buffer)
                buffer = buffer[sent:]
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        try:
            # The handshake as a whole is bounded by the socket timeout (CPython keeps one
            # deadline across its reads).
            self._sock.settimeout(_bounded(timeout, httpcore.ConnectTimeout))
            wrapped = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._sock.close()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            self._sock.close()
            raise httpcore.ConnectError(str(exc)) from exc
        return GuardedStream(wrapped, self._policy)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            return self._sock._sslobj  # type: ignore[attr-defined]
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return _is_readable(self._sock)
        return None

    def _check_peer(self) -> None:
        guard = current_guard()
        if guard is None:
            return
        peer = str(self._sock.getpeername()[0])
        private = self._policy.is_private(peer)
        if guard.public_only is None:
            guard.public_only = not private
        elif guard.public_only and private:
            raise AddressRefused(peer, peer)


def _bounded(timeout: float | None, late: type[Exception]) -> float | None:
    guard = current_guard()
    return timeout if guard is None else guard.bound(timeout, late)


def _resolve(host: str, port: int, timeout: float | None) -> list[tuple[int, SocketAddress]]:
    try:
        return resolve(host, port, _bounded(timeout, httpcore.ConnectTimeout))
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"looking up {host} took too long") from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc


def _connect(
    family: int,
    address: SocketAddress,
    source: tuple[str, int] | None,
    timeout: float | None,
) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(_bounded(timeout, httpcore.ConnectTimeout))
        if source is not None:
            sock.bind(source)
        sock.connect(address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def _is_readable(sock: socket.socket) -> bool:
    """Whether an idle pooled connection has data or EOF waiting (then it is not reused)."""
    import select

    if sock.fileno() < 0:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def guarded_pool(
    ssl_context: ssl.SSLContext, policy: AddressPolicy, keepalive: int = 20
) -> httpcore.ConnectionPool:
    """A connection pool whose connections go through :class:`GuardedBackend`;
    ``keepalive``: connections kept open between requests (one per host a sweep fetches
    from at once, or each request to the others opens a new one)."""
    return httpcore.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=max(100, keepalive),
        max_keepalive_connections=keepalive,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(policy),
    )
