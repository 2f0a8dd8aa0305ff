"""Raw snapshots compressed with Zstandard, alone or against an earlier snapshot (pure).

A delta is one zstd frame whose dictionary is the raw content of an earlier snapshot of
the same page: what the two fetches share costs a few bytes, and compression runs at C
speed (the pure-Python ``delta.py`` that stored snapshots before schema step m011 stays
for reading them). The window covers the earlier snapshot and the new one, so a match
anywhere in a large page is found.

Reading is bounded by the size recorded for the snapshot: a frame must declare exactly
that many bytes (zstd would otherwise allocate whatever a crafted header claims), carry
nothing after itself, and never use a window past ``MAX_WINDOW_LOG``. Anything else is a
``ValueError`` naming the cause (the store reports it as a damaged database).
"""

from __future__ import annotations

import threading

import zstandard

CODEC = "zstd"
# Level 4 (zstd's "dfast"): a delta of a 1 MB corpus page in ~2.5 ms (level 7: 9 ms,
# the same 514 bytes). Its match tables are sized for the data, and past a few MB
# searched (the earlier snapshot and the new one) they miss most of the earlier page: a
# one-word edit of bench/diff_budget.py's 4.9 MB page is 656 KB at level 4, 7.6 KB at
# levels 7 and 9. Tables of 2^22 entries (32 MB while compressing) find it again: 514
# bytes in ~0.1 s; 1.2 KB for 12 MB of random words (tests/test_store_deltas.py).
LEVEL = 4
BIG = 4 << 20  # bytes searched past which the tables are set to BIG_TABLES_LOG
BIG_TABLES_LOG = 22
MAX_WINDOW_LOG = 27  # 128 MB: the default limit of zstd's decoder


def pack(data: bytes, prefix: bytes = b"", level: int = LEVEL) -> bytes:
    """``data`` as one zstd frame; with ``prefix``, a delta against those bytes."""
    searched = len(prefix) + len(data)
    window = min(MAX_WINDOW_LOG, max(10, searched.bit_length()))
    tables = min(window - 1, BIG_TABLES_LOG)
    sized = {"hash_log": tables, "chain_log": tables} if searched > BIG else {}
    params = zstandard.ZstdCompressionParameters.from_level(
        level, source_size=len(data), dict_size=len(prefix), window_log=window,
        write_content_size=1, write_checksum=0, write_dict_id=0, **sized,
    )  # fmt: skip
    writer = zstandard.ZstdCompressor(compression_params=params, dict_data=_dict(prefix))
    return writer.compress(data)


_SMALL = threading.local()  # a compressor per thread (one is not safe to share)


def pack_small(data: bytes) -> bytes:
    """``data`` (a few hundred bytes: a fetch's headers) as one zstd frame, at the cost
    of a JSON dump (a compressor made per call costs four times that)."""
    writer = getattr(_SMALL, "writer", None)
    if writer is None:
        writer = _SMALL.writer = zstandard.ZstdCompressor(level=3, write_checksum=False)
    return writer.compress(data)


def unpack(blob: bytes, size: int, prefix: bytes = b"") -> bytes:
    """The ``size`` bytes a frame from :func:`pack` holds (``prefix``: its base's bytes)."""
    try:
        frame = zstandard.get_frame_parameters(blob)
    except zstandard.ZstdError as exc:
        raise ValueError(f"not a zstd frame ({exc})") from None
    if frame.content_size != size:
        declared = "no size" if frame.content_size < 0 else f"{frame.content_size} bytes"
        raise ValueError(f"the frame declares {declared}, the snapshot {size}")
    if frame.window_size > 1 << MAX_WINDOW_LOG:
        raise ValueError(f"the frame asks for a {frame.window_size}-byte window")
    window = 1 << MAX_WINDOW_LOG
    reader = zstandard.ZstdDecompressor(dict_data=_dict(prefix), max_window_size=window)
    try:
        data = reader.decompress(blob, max_output_size=size, allow_extra_data=False)
    except zstandard.ZstdError as exc:
        raise ValueError(f"the frame does not decode ({exc})") from None
    if len(data) != size:
        raise ValueError(f"the frame holds {len(data)} bytes, the snapshot {size}")
    return data


def unpack_most(blob: bytes, most: int, prefix: bytes = b"") -> bytes:
    """The bytes of a frame from :func:`pack` whose size was not recorded: the frame's
    declared size, refused past ``most`` (ValueError, as :func:`unpack`)."""
    try:
        size = zstandard.get_frame_parameters(blob).content_size
    except zstandard.ZstdError as exc:
        raise ValueError(f"not a zstd frame ({exc})") from None
    if not 0 <= size <= most:
        declared = "no size" if size < 0 else f"{size} bytes"
        raise ValueError(f"the frame declares {declared}, more than the {most} allowed")
    return unpack(blob, size, prefix)


def _dict(prefix: bytes) -> zstandard.ZstdCompressionDict | None:
    if not prefix:
        return None
    return zstandard.ZstdCompressionDict(prefix, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
