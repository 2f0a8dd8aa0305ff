"""A document's versions as the reading commands show them: `history`, `diff`, `status`."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from monitor import citation
from monitor.errors import ConfigError
from monitor.models import Change, DocumentStatus, Version
from monitor.views.changes import window_line
from monitor.views.origin import origin_note
from monitor.views.safe import _one, _when, terminal_safe

if TYPE_CHECKING:  # the reading commands start without loading what they do not use
    from monitor.store import Store


def require_document(store: Store, document: str) -> None:
    """ConfigError naming the known documents when ``document`` is not one of them."""
    known = store.document_ids()
    if document not in known:
        listed = ", ".join(_one(d) for d in known[:20]) + (", ..." if len(known) > 20 else "")
        raise ConfigError(f"no document {_one(document)!r} recorded; known: {listed or 'none yet'}")


def _version_or_fail(store: Store, document: str, number: int, with_text: bool = True) -> Version:
    version = store.version(document, number, with_text)
    if version is None:
        numbers = [v.number for v in store.versions(document)]
        has = f"has versions {min(numbers)}-{max(numbers)}" if numbers else "has no version yet"
        raise ConfigError(
            f"{_one(document)}: no version {number}; {_one(document)} {has} "
            f"(see `policy-monitor history {_one(document)}`)"
        )
    return version


class DiffStyle:
    """How a terminal diff shows its rows: plain text marks the changed words of an edited
    line ``[-…-]`` / ``{+…+}`` (a line added or removed whole needs no mark); the CLI's
    colour style (on a terminal) paints them instead."""

    def header(self, text: str) -> str:
        return text

    def line(self, side: str, text: str) -> str:
        return text

    def word(self, side: str, text: str) -> str:
        return f"[-{text}-]" if side == "-" else f"{{+{text}+}}"


PLAIN = DiffStyle()
DIFF_CONTEXT = 1  # unchanged lines shown around each changed one


def diff_report(
    store: Store, document: str, old: int | None, new: int | None, style: DiffStyle = PLAIN
) -> str:
    """The diff between two versions (default: those of the document's latest change),
    one side per line: ``- `` the old line, ``+ `` the new one, ``  `` context."""
    require_document(store, document)
    if old is None or new is None:
        latest = store.changes(document=document, limit=1)
        current = store.current_version(document, with_text=False)
        if current is None:
            raise ConfigError(f"{document}: no versions recorded (is the id right? see `status`)")
        new = new if new is not None else latest[-1].to_version if latest else current.number
        old = old if old is not None else max(1, new - 1)
    after = _version_or_fail(store, document, new)  # the one asked for is checked first
    before = _version_or_fail(store, document, old)
    header = [
        f"{document}: v{before.number} -> v{after.number}",
        f"--- v{before.number}  first seen {_when(before.first_seen)}  text sha256 "
        f"{before.text_sha256[:16]}  snapshot {before.snapshot_sha256[:16]}",
        f"+++ v{after.number}  first seen {_when(after.first_seen)}  text sha256 "
        f"{after.text_sha256[:16]}  snapshot {after.snapshot_sha256[:16]}",
    ]
    from monitor import linediff
    from monitor.diff import diff_texts, visible  # only the diff command needs the library

    lines = [style.header(terminal_safe(line, newlines=False)) for line in header]
    ops = [
        (op, terminal_safe(visible(text))) for op, text in diff_texts(before.text, after.text).ops
    ]
    hunks = linediff.shown(linediff.rows(ops), DIFF_CONTEXT)
    for k, hunk in enumerate(hunks):
        if k or hunk[0].old_line > 1 or hunk[0].new_line > 1:
            lines.append(style.header("…"))
        lines.extend(
            style.line(row.side, f"{row.side} {linediff.marked(row, style.word)}") for row in hunk
        )
    return "\n".join(lines if hunks else [*lines, "(no difference)"])


def history_report(store: Store, document: str) -> str:
    require_document(store, document)
    versions = store.versions(document)
    if not versions:
        raise ConfigError(f"{document}: no versions recorded (is the id right? see `status`)")
    current = store.current_version(document)
    upgrades = {u.to_version: u for u in store.upgrades(document)}
    led_to: dict[int, list[Change]] = {}  # each version's changes into it, with their windows
    for change in store.changes(document=document, with_diff=False):
        led_to.setdefault(change.to_version, []).append(change)
    lines = [f"{_one(document)}: {len(versions)} version(s)"]
    for v in versions:
        mark = "*" if current and v.number == current.number else " "
        lines.append(
            f"{mark} v{v.number:<4} first seen {_when(v.first_seen)}  last seen "
            f"{_when(v.last_seen)}  text {v.text_sha256[:16]}  snapshot {v.snapshot_sha256[:16]}"
            f"  extractor {_one(v.extractor)}"
            + (f"  {_one(origin_note(v.origin))}" if v.origin else "")
            + (f" ({_one(citation.where(v.origin))})" if v.origin and v.origin.source else "")
        )
        lines.extend(f"        change #{c.id} {window}" for c in led_to.get(v.number, ())
                     if (window := window_line(c)))  # fmt: skip
        if v.number in upgrades:
            u = upgrades[v.number]
            lines.append(
                f"        technical upgrade: v{u.from_version}'s snapshot re-read by extractor "
                f"{_one(u.new_extractor)} (was {_one(u.old_extractor)}); a new baseline, no alert"
            )
    return terminal_safe("\n".join(lines))


def status_dict(s: DocumentStatus) -> dict[str, Any]:
    fetch = s.last_fetch
    return {
        "document": s.document,
        "company": s.company,
        "title": s.title,
        "url": s.url,
        "last_fetch": _when(fetch.started_at) if fetch else None,
        "last_result": fetch.result if fetch else None,
        "last_error": fetch.error if fetch and fetch.error else None,
        "http_status": fetch.http_status if fetch else None,
        "versions": s.versions,
        "current_version": s.current_version,
        "last_change": _when(s.last_change) if s.last_change else None,
        "consecutive_failures": s.consecutive_failures,
        "suspect": s.suspect or None,
        "monitoring": _monitoring(s),
        "failing_since": _when(s.failing_since) if s.failing_since else None,
        # journalist8: an import's steps are no checks; a history only imported says so.
        "checked_live": s.last_live_check is not None,
        "last_live_check": _when(s.last_live_check) if s.last_live_check else None,
        # ops9: what `held ID` lists (quarantined walls, texts held as suspect)
        "held_responses": s.held_responses,
        "last_held": _when(s.last_held) if s.last_held else None,
    }


def _monitoring(s: DocumentStatus) -> str:
    """``failing`` past --alert-after; ``not-checked-yet`` while no check of this monitor
    fetched it (a history only imported: an archive's step is no check); else ``ok``."""
    if s.failing_since:
        return "failing"
    return "ok" if s.last_live_check is not None else "not-checked-yet"


def status_table(rows: list[DocumentStatus]) -> str:
    if not rows:
        return "no documents checked yet: run `policy-monitor check`"
    lines = []
    for s in rows:
        fetch = s.last_fetch
        result = fetch.result if fetch else "never fetched"
        if fetch and fetch.error:
            result += f" ({_one(fetch.error)})"
        if s.failing_since:
            result += f" [MONITORING FAILING since {_when(s.failing_since)}]"
        if s.suspect:
            result += f" [latest text held as suspect: {_one(s.suspect)}]"
        if s.consecutive_failures > 1:
            result += f" [{s.consecutive_failures} failures in a row]"
        if s.held_responses:
            many = "responses" if s.held_responses > 1 else "response"
            result += (f" [{s.held_responses} {many} held back, newest {_when(s.last_held)}: "
                       f"`policy-monitor held {shlex.quote(s.document)}`]")  # fmt: skip
        seen = f"last fetch {_when(fetch.started_at if fetch else None)}"
        if fetch and s.last_live_check is None:  # every fetch is an archive's step
            seen = "imported history only, never checked live"
            result = "not monitored yet (run `policy-monitor check`)"
        elif fetch and s.last_live_check != fetch.started_at:
            seen = f"last checked live {_when(s.last_live_check)}"
        lines.append(
            f"{_one(s.document):<28} {seen}  "
            f"{s.versions} version(s)  last change {_when(s.last_change)}  {result}"
        )
    return terminal_safe("\n".join(lines))
