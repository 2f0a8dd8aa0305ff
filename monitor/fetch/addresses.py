"""Which addresses are private, and name lookups that give up in time (stdlib only).

Both fetchers use this: the HTTP client's network backend checks every connection, the
browser every request it intercepts. Private means loopback, RFC 1918, link-local
(169.254.0.0/16, where cloud metadata services answer), unique-local, carrier-grade NAT,
multicast, unspecified and reserved: anything not globally routable.
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SocketAddress = tuple[typing.Any, ...]  # (host, port) or (host, port, flow, scope)
# getaddrinfo cannot be interrupted; lookups run here so a stuck resolver is abandoned.
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve")


class AddressRefused(Exception):
    """A hop of a fetch that began at a public address would reach a private one."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to private address {address}")
        self.host = host
        self.address = address
        self.url = ""  # the hop's URL, filled in by the code following redirects


class AddressPolicy:
    """Which addresses count as private; ``treat_as_public`` lists exceptions (networks
    whose public sites have private addresses, and tests that play a public site on
    127.0.0.2)."""

    def __init__(self, treat_as_public: Iterable[str] = ()) -> None:
        self._public: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in treat_as_public
        )

    def is_private(self, address: str) -> bool:
        try:
            ip: Address = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False  # not an address: the connection will fail on its own
        if any(ip in network for network in self._public):
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return self.is_private(str(ip.ipv4_mapped))
        return ip.is_multicast or not ip.is_global

    def host_is_private(self, host: str, timeout: float) -> bool:
        """Whether every address of ``host`` is private (a name that does not resolve is
        not: its fetch fails on its own)."""
        try:
            addresses = resolve(host, 0, timeout)
        except OSError:
            return False
        return bool(addresses) and all(self.is_private(str(a[1][0])) for a in addresses)

    def first_private(self, host: str, timeout: float) -> str | None:
        """A private address of ``host``, if it has one."""
        try:
            addresses = resolve(host, 0, timeout)
        except OSError:
            return None
        return next((str(a[1][0]) for a in addresses if self.is_private(str(a[1][0]))), None)


def resolve(host: str, port: int, timeout: float | None) -> list[tuple[int, SocketAddress]]:
    """(family, socket address) of ``host``; TimeoutError when the lookup takes too long
    (it goes on in the background, its answer unused)."""
    lookup = _RESOLVER.submit(socket.getaddrinfo, host.strip("[]"), port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=timeout)
    except FutureTimeout as exc:
        raise TimeoutError(f"looking up {host} took too long") from exc
    return [(info[0], info[4]) for info in infos]
