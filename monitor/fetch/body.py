"""Reading a response body with bounds on its decoded size and on the time it takes.

Stdlib only: the HTTP module hands over the raw byte chunks and the Content-Encoding.
A gzip bomb is decoded in steps, so it never expands in memory past the limit; an
endless body is read only up to the limit.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable, Iterator

from monitor.errors import FetchError

DECODABLE_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate"})
DECODE_STEP = 1 << 20  # bytes decoded at a time; zlib briefly holds twice this


class BoundedDecoder:
    """Decodes a Content-Encoding, producing at most one byte more than ``limit`` in all.

    The decoded size is what counts, and decoding in steps of ``max_length`` keeps a gzip
    bomb from expanding in memory, even within one network chunk.
    """

    def __init__(self, content_encoding: str, url: str, limit: int) -> None:
        codings = [c.strip() for c in content_encoding.lower().split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in DECODABLE_ENCODINGS):
            raise FetchError(
                f"unsupported content encoding {'+'.join(codings)} from {url}", url=url
            )
        # wbits | 32 accepts both gzip and zlib framing (HTTP's "deflate" is zlib-framed).
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32) if codings else None
        self.limit = limit
        self.size = 0

    @property
    def exceeded(self) -> bool:
        return self.size > self.limit

    def decode(self, raw: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``raw``; stops one byte past the limit (then ``exceeded``)."""
        data = raw
        while data and not self.exceeded:
            room = self.limit - self.size + 1
            if self._zlib is None:
                piece, data = data[:room], b""
            else:
                piece = self._zlib.decompress(data, min(room, DECODE_STEP))
                data = self._zlib.unconsumed_tail
            self.size += len(piece)
            yield piece

    def finish(self) -> Iterator[bytes]:
        """Whatever zlib still holds once the input ended (a few bytes at most)."""
        if self._zlib is not None and not self.exceeded:
            piece = self._zlib.flush()
            self.size += len(piece)
            yield piece


def read_body(
    chunks: Iterable[bytes],
    encoding: str,
    url: str,
    limit: int,
    deadline: float,
    too_large: Callable[[], FetchError],
    too_slow: Callable[[], FetchError],
) -> bytes:
    """Reads and decodes the body; ``too_large()`` past ``limit`` bytes, ``too_slow()``
    past ``deadline`` (a monotonic time)."""
    decoder = BoundedDecoder(encoding, url, limit)
    parts: list[bytes] = []
    for raw in chunks:
        parts.extend(decoder.decode(raw))
        if decoder.exceeded:
            raise too_large()
        if time.monotonic() > deadline:
            raise too_slow()
    parts.extend(decoder.finish())
    if decoder.exceeded:
        raise too_large()
    return b"".join(parts)


def read_prefix(chunks: Iterable[bytes], encoding: str, url: str, limit: int) -> bytes:
    """The first ``limit`` decoded bytes; the rest is never read (robots.txt, error pages)."""
    decoder = BoundedDecoder(encoding, url, limit)
    parts: list[bytes] = []
    for raw in chunks:
        parts.extend(decoder.decode(raw))
        if decoder.exceeded:
            break
    else:
        parts.extend(decoder.finish())
    return b"".join(parts)[:limit]
