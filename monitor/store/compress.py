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

import zstandard

CODEC = "zstd"
# The level by the bytes a delta searches (the earlier snapshot and the new one): each
# level sizes its match tables for some amount of data and misses much of the earlier
# page past it. A one-word edit of bench/diff_budget.py's 4.9 MB page: 656 KB at level
# 4, 833 bytes at 7; of a 10 MB one: 332 KB at 7, 1.3 KB at 9 (pages of random words do
# worse: tests/test_store_deltas.py). Below those sizes the lower level is the faster (a
# 1 MB corpus page: 2.5 ms at level 4, 9 ms at 7, the same 514 bytes).
LEVELS = ((4 << 20, 4), (12 << 20, 7))
LAST_LEVEL = 9
MAX_WINDOW_LOG = 27  # 128 MB: the default limit of zstd's decoder


def pack(data: bytes, prefix: bytes = b"") -> bytes:
    """``data`` as one zstd frame; with ``prefix``, a delta against those bytes."""
    searched = len(prefix) + len(data)
    window = min(MAX_WINDOW_LOG, max(10, searched.bit_length()))
    params = zstandard.ZstdCompressionParameters.from_level(
        level(searched), source_size=len(data), dict_size=len(prefix), window_log=window,
        write_content_size=1, write_checksum=0, write_dict_id=0,
    )  # fmt: skip
    writer = zstandard.ZstdCompressor(compression_params=params, dict_data=_dict(prefix))
    return writer.compress(data)


def level(searched: int) -> int:
    """The compression level for a delta (or whole snapshot) over ``searched`` bytes."""
    return next((lvl for most, lvl in LEVELS if searched <= most), LAST_LEVEL)


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


def _dict(prefix: bytes) -> zstandard.ZstdCompressionDict | None:
    if not prefix:
        return None
    return zstandard.ZstdCompressionDict(prefix, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
