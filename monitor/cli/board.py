"""`board`: where each document stands on AI training, as the last sweep read it (issue 16)."""

from __future__ import annotations

from typing import Any

import click

from monitor import views
from monitor.cli.options import data_option, open_store
from monitor.models import BoardEntry, Watch

Since = tuple[int, str]


@click.command()
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def board(data_dir: str, as_json: bool) -> None:
    """Show each document's AI-training board: does it train on people's data, which
    data, an opt-out, the legal basis, the regions; each answer with its sentence.

    Example: policy-monitor board --json
    """
    from monitor.store.board import board_state, cells_since, latest_cells  # start-up

    with open_store(data_dir) as store:
        rows = [
            (doc, latest_cells(store, doc.id), (board_state(store, doc.id) or (None, ""))[0],
             cells_since(store, doc.id))
            for doc in store.documents()
        ]  # fmt: skip
    if as_json:
        click.echo(views.json_text({"documents": [_document_dict(*row) for row in rows]}))
    else:
        click.echo("\n".join(_document_lines(*row) for row in rows) or "no documents yet")


def cell_dict(entry: BoardEntry, since: tuple[int, str] | None = None) -> dict[str, Any]:
    from monitor.publish.board_feed import evidence_href  # start-up: no feed library

    since_version, since_at = since or (entry.version, entry.at.isoformat())
    return {
        "value": entry.value,
        "which": list(entry.which),
        "sentence": entry.sentence,
        "version": entry.sentence_version or entry.version,
        "first_seen": entry.first_seen.isoformat() if entry.first_seen else None,
        "where": entry.where,
        "since_version": since_version,
        "evidence": evidence_href(entry),
        "evidence_change": entry.evidence_change,
        "since": since_at,
    }


def _document_dict(
    doc: Watch, cells: dict[str, BoardEntry], version: int | None, since: dict[str, Since]
) -> dict[str, Any]:
    from monitor.board import CELLS

    shown = {name: cell_dict(cells[name], since.get(name)) for name in CELLS if name in cells}
    return {
        "document": doc.id, "company": doc.company, "title": doc.title, "url": doc.url,
        "version": version, "cells": shown,
    }  # fmt: skip


def _document_lines(
    doc: Watch, cells: dict[str, BoardEntry], version: int | None, since: dict[str, Since]
) -> str:
    from monitor.board import CELLS
    from monitor.publish.board_feed import evidence_href, value_text

    read = f", read from v{version}" if version else ""
    lines = [views.terminal_safe(f"{doc.company}: {doc.title} ({doc.id}{read})", newlines=False)]
    if not cells:
        lines.append("  not read yet (no version recorded)")
    for name in CELLS:
        entry = cells.get(name)
        if entry is None:
            continue
        answer = value_text(entry.value, entry.which)
        if entry.sentence:
            seen = entry.first_seen.date().isoformat() if entry.first_seen else "?"
            cite = f'v{entry.sentence_version} {seen} "{_short(entry.sentence)}"'
        else:
            cite = f"nothing says so (since v{since.get(name, (entry.version, ''))[0]})"
        line = f"  {name:<20} {answer:<34} {cite}  [{evidence_href(entry)}]"
        lines.append(views.terminal_safe(line, newlines=False))
    return "\n".join(lines)


def _short(sentence: str, limit: int = 120) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
