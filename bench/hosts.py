"""Many slow hosts on one machine: one asyncio process serving N hosts from 127.0.0.0/8.

Host k (1..N) listens on 127.0.0.(k+1):PORT, so each has its own host name for the
monitor's per-host politeness, and answers every request after its own latency (from
50 ms for the first host to 200 ms for the last). ``/doc/I`` is a real policy (the last
Google privacy version of ../shared/corpus, ODC-BY 1.0) in chrome that changes on every
request (replay.py's noisy page), with an ETag of the policy text: a request sending
that ETag in If-None-Match gets 304. ``/robots.txt`` is 404. HTTP/1.1 keep-alive.

Run as a child: ``python bench/hosts.py HOSTS`` prints ``ready PORT`` and serves until
stdin closes.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys

from common import CORPUS

LATENCY_MIN, LATENCY_MAX = 0.050, 0.200


def latency(host: int, hosts: int) -> float:
    """Seconds host ``host`` (0-based) waits before each answer."""
    return LATENCY_MIN + (LATENCY_MAX - LATENCY_MIN) * host / max(1, hosts - 1)


def etag_of(path: str) -> str:
    """The ETag of ``/doc/I`` (the same on every request: the policy text never changes)."""
    return '"' + hashlib.sha256(path.encode()).hexdigest()[:16] + '"'


def policy_html() -> str:
    from markdown_it import MarkdownIt

    last = sorted((CORPUS / "versions" / "google-privacy").glob("*.md"))[-1]
    return MarkdownIt("commonmark").enable("table").render(last.read_text())


class Hosts:
    def __init__(self, hosts: int) -> None:
        import replay

        self.hosts = hosts
        self.page = replay.noisy_page
        self.policy = policy_html()
        self.requests = 0

    async def serve(self, port: int) -> list[asyncio.Server]:
        servers = []
        for host in range(self.hosts):
            delay = latency(host, self.hosts)

            async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                             delay: float = delay) -> None:  # fmt: skip
                try:
                    await self.connection(reader, writer, delay)
                except (ConnectionError, asyncio.IncompleteReadError):
                    pass
                finally:
                    writer.close()

            servers.append(await asyncio.start_server(handle, f"127.0.0.{host + 2}", port))
        return servers

    async def connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
    ) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
            await asyncio.sleep(delay)
            self.requests += 1
            writer.write(self.answer(path, headers.get("if-none-match")))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return

    def answer(self, path: str, etag_sent: str | None) -> bytes:
        if not path.startswith("/doc/"):
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        etag = etag_of(path)
        if etag_sent == etag:
            return f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n".encode()
        body = self.page(f"Policy {path}", self.policy)
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"ETag: {etag}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body


async def main(hosts: int) -> None:
    server = Hosts(hosts)
    port = 18000 + (hash(sys.argv[0]) % 1000)
    for attempt in range(50):
        try:
            running = await server.serve(port + attempt)
            break
        except OSError:
            continue
    print(f"ready {port + attempt}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    for s in running:
        s.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
