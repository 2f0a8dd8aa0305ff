"""Byte-exact deltas between two fetches of a page: what changed, compressed (pure).

A page fetched again differs from the last fetch by a token, a clock or a sentence, so it
is stored as the pieces of a base snapshot it copies plus the bytes it adds. Both are cut
into tokens that end at ``>`` or a newline (markup ends there, minified or not); the new
page is matched greedily against the base, continuing where the last copy ended and
otherwise from where its token first occurs. The ops are zlib-compressed. ``apply`` gives
back the exact bytes: the caller checks them against their sha256.
"""

from __future__ import annotations

import re
import zlib

_TOKEN = re.compile(rb"[^\n>]*[\n>]|[^\n>]+")
_COPY, _ADD = b"C", b"A"
# Where a token occurs in the base, the first few places are tried (a long copy wins).
_CANDIDATES = 4
MAGIC = b"pmd1"


def tokens(data: bytes) -> list[bytes]:
    return _TOKEN.findall(data)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def make(base: bytes, data: bytes, level: int = 6) -> bytes:
    """The compressed delta that rebuilds ``data`` from ``base``."""
    old, new = tokens(base), tokens(data)
    where: dict[bytes, list[int]] = {}
    for index, token in enumerate(old):
        places = where.setdefault(token, [])
        if len(places) < _CANDIDATES:
            places.append(index)
    out, added, j, expected = [MAGIC], bytearray(), 0, 0
    while j < len(new):
        start, length = _longest(old, new, j, [expected, *where.get(new[j], ())])
        if length:
            if added:
                out += (_ADD, _varint(len(added)), bytes(added))
                added.clear()
            out += (_COPY, _varint(start), _varint(length))
            j, expected = j + length, start + length
        else:
            added += new[j]
            j, expected = j + 1, expected + 1
    if added:
        out += (_ADD, _varint(len(added)), bytes(added))
    return zlib.compress(b"".join(out), level)


def _longest(old: list[bytes], new: list[bytes], j: int, starts: list[int]) -> tuple[int, int]:
    best = (0, 0)
    for start in starts:
        length = 0
        while start + length < len(old) and j + length < len(new):
            if old[start + length] != new[j + length]:
                break
            length += 1
        if length > best[1]:
            best = (start, length)
    return best


def apply(base: bytes, delta: bytes, limit: int | None = None) -> bytes:
    """The bytes ``delta`` (from :func:`make`) rebuilds from ``base``; with ``limit``, a
    ValueError as soon as they would pass it (a crafted delta copies the base over and over)."""
    room = limit if limit is not None else -1
    reader = zlib.decompressobj()
    # The ops take at most a few bytes per token copied or added: a bound on their size.
    ops = reader.decompress(delta, 0 if room < 0 else 16 * room + 64)
    if reader.unconsumed_tail:
        raise ValueError("the delta's operations are larger than the snapshot")
    if not ops.startswith(MAGIC):
        raise ValueError("not a snapshot delta")
    old, out, pos, made = tokens(base), [], len(MAGIC), 0
    while pos < len(ops):
        kind, pos = ops[pos : pos + 1], pos + 1
        if kind == _COPY:
            start, pos = _read_varint(ops, pos)
            length, pos = _read_varint(ops, pos)
            out.append(b"".join(old[start : start + length]))
        elif kind == _ADD:
            length, pos = _read_varint(ops, pos)
            out.append(ops[pos : pos + length])
            pos += length
        else:
            raise ValueError(f"unknown delta op {kind!r}")
        made += len(out[-1])
        if 0 <= room < made:
            raise ValueError(f"the delta rebuilds more than the snapshot's {room} bytes")
    return b"".join(out)
