"""Rows of the database to the frozen values the rest of the monitor uses, and back."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import zlib
from datetime import UTC, datetime
from typing import Any

from monitor.models import Change, FetchAttempt, Flag, Origin, Version
from monitor.store import compress
from monitor.store.schema import FIRST_EXTRACTOR


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_HEX64 = re.compile("[0-9a-f]{64}")


def digest_column(key: str) -> str | bytes:
    """A sha256 in hex as stored where only the store reads it (a version's words key, a
    snapshot's base): its 32 bytes (m012); anything else as it is."""
    return bytes.fromhex(key) if _HEX64.fullmatch(key) else key


def digest_hex(stored: object) -> str:
    """A stored digest (:func:`digest_column`) as the hex the rest of the monitor uses."""
    return stored.hex() if isinstance(stored, bytes) else str(stored)


def damaged(message: str) -> sqlite3.DatabaseError:
    """A stored form that does not rebuild its bytes: reported as a damaged database."""
    exc = sqlite3.DatabaseError(message)
    exc.sqlite_errorname = "SQLITE_CORRUPT"
    return exc


# A fetch's response headers: JSON pairs, as a zstd frame when longer than this (m012).
HEADERS_PLAIN = 128
MAX_HEADERS = 1 << 24  # bytes the frame of a fetch's headers may declare


def headers_column(pairs: object) -> str | bytes:
    """The ``headers`` column of a fetch: its header pairs as JSON, packed when long."""
    text = json.dumps(pairs or [])
    return text if len(text) <= HEADERS_PLAIN else compress.pack_small(text.encode())


def headers_from(stored: object, what: str) -> tuple[tuple[str, str], ...]:
    """A fetch's header pairs from its ``headers`` column; damaged when it does not read."""
    try:
        if isinstance(stored, bytes):
            stored = compress.unpack_most(stored, MAX_HEADERS).decode()
        pairs = json.loads(stored or "[]")  # type: ignore[arg-type]  # TypeError: damaged
        return tuple((str(k), str(v)) for k, v in pairs)
    except (ValueError, TypeError) as exc:
        raise damaged(f"{what}: its recorded headers do not decode ({exc})") from None


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def attempt_from_row(r: dict[str, Any]) -> FetchAttempt:
    return FetchAttempt(
        id=r["id"], document=r["document"], started_at=dt(r["started_at"]),
        duration=r["duration"] or 0.0, result=r["result"], http_status=r["http_status"],
        error=r["error"] or "", snapshot_sha256=r["snapshot_sha256"],
    )  # fmt: skip


def version_from_row(r: dict[str, Any], with_text: bool = True) -> Version:
    text = zlib.decompress(r["text"]).decode("utf-8") if with_text else ""
    return Version(
        document=r["document"], number=r["number"], text_sha256=r["text_sha256"],
        key_sha256=digest_hex(r["key_sha256"]),
        snapshot_sha256=r["snapshot_sha256"], first_seen=dt(r["first_seen"]),
        last_seen=dt(r["last_seen"]), text=text,
        extractor=r.get("extractor") or FIRST_EXTRACTOR, upgrade=bool(r.get("upgrade")),
        origin=origin_from_row(r),
    )  # fmt: skip


def change_from_row(r: dict[str, Any]) -> Change:
    return Change(
        id=r["id"], document=r["document"], company=r["company"], title=r["title"],
        url=r["url"], detected_at=dt(r["detected_at"]), kind=r["kind"],
        from_version=r["from_version"], to_version=r["to_version"],
        added_chars=r["added_chars"], removed_chars=r["removed_chars"],
        diff_text=r.get("diff_text") or "",
        flags=tuple(Flag(**f) for f in _listed(r["flags"])),
        ai_related=tuple(Flag(**f) for f in _listed(r["ai_related"])),
        added=tuple(_listed(r.get("added"))),
        removed=tuple(_listed(r.get("removed"))),
        note=r.get("note") or "", classifier=r.get("classifier") or "",
        origin=origin_from_row(r),
        opened_at=dt(r["opened_at"]) if r.get("opened_at") else None,
        opened_by_archive=bool(r.get("opened_by_archive")),
    )  # fmt: skip


def _listed(column: str | list[Any] | None) -> list[Any]:
    """A JSON list column (most are empty: no json parse for those), or the list itself
    (the passages of a change stored since m012, change_body.py)."""
    if isinstance(column, list):
        return column
    return json.loads(column) if column and column != "[]" else []


def origin_columns(origin: Origin | None) -> dict[str, str | None]:
    """The origin columns of an imported row (archive, id, time, source, path; empty: live)."""
    if origin is None:
        return {"origin": None, "origin_ref": None, "archived_at": None,
                "origin_source": None, "origin_path": None}  # fmt: skip
    return {"origin": origin.archive, "origin_ref": origin.ref,
            "archived_at": ts(origin.archived_at), "origin_source": origin.source or None,
            "origin_path": origin.path or None}  # fmt: skip


def origin_from_row(r: dict[str, Any]) -> Origin | None:
    if not r.get("origin"):
        return None
    return Origin(
        r["origin"],
        r.get("origin_ref") or "",
        dt(r["archived_at"]),
        r.get("origin_source") or "",
        r.get("origin_path") or "",
    )
