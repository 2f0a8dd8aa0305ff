"""`held`: the responses a check held back (a wall or error page quarantined, a text held
as suspect), listed, shown as text or written out byte for byte."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from monitor import views
from monitor.cli.options import data_option, open_store
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.store import Store
    from monitor.store.held import HeldResponse

STATES = {"wall": "quarantined", "held": "held-as-suspect"}


@click.command()
@click.argument("document", required=False)
@data_option
@click.option("--fetch", "fetch_id", type=int, metavar="N",
              help="Show the held response of fetch #N: its facts and its text.")  # fmt: skip
@click.option("--raw", is_flag=True, help="With --fetch: write its raw bytes to stdout.")
@click.option("--limit", default=20, show_default=True, help="List at most this many.")
def held(document: str | None, data_dir: str, fetch_id: int | None, raw: bool, limit: int) -> None:
    """List the responses held back (quarantined walls, texts held as suspect), newest first.

    Example: policy-monitor held acme-help, then policy-monitor held --fetch 12
    """
    from monitor.store.held import held_response, held_responses

    with open_store(data_dir) as store:
        if fetch_id is None:
            if raw:
                raise click.BadParameter("needs --fetch N", param_hint="--raw")
            if document is not None:
                views.require_document(store, document)
            click.echo(_listing(held_responses(store, document, limit), document))
            return
        response = held_response(store, fetch_id)
        if response is None or (document is not None and response.document != document):
            of = f" of {document}" if document else ""
            raise ConfigError(f"fetch #{fetch_id} is not a response held back{of}: `held` "
                              "lists them")  # fmt: skip
        body, content_type = _snapshot(store, response)
    if raw:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    click.echo(views.terminal_safe(_shown(response, body, content_type)))


def _listing(found: list[HeldResponse], document: str | None) -> str:
    if not found:
        return f"{document}: no response held back" if document else "no response held back"
    lines = [f"{len(found)} response(s) held back (newest first; `held --fetch N` shows one):"]
    for r in found:
        size = f"{r.size} bytes" if r.size is not None else "pruned"
        why = f": {r.why.removeprefix('quarantined, not recorded: ')}" if r.why else ""
        lines.append(f"#{r.fetch_id} {views.when(r.at)} {r.document} {STATES[r.state]} snapshot "
                     f"{(r.snapshot or '-')[:16]} ({size}) HTTP {r.http_status}{why}")  # fmt: skip
    return views.terminal_safe("\n".join(lines), newlines=True)


def _snapshot(store: Store, response: HeldResponse) -> tuple[bytes, str]:
    if response.snapshot is None or response.size is None:
        raise ConfigError(f"fetch #{response.fetch_id} of {response.document}: its raw snapshot "
                          "is no longer stored (removed by `prune`)")  # fmt: skip
    return store.snapshot(response.snapshot)


def _shown(r: HeldResponse, body: bytes, content_type: str) -> str:
    from monitor.errors import ExtractError
    from monitor.extract.html import extract_text

    try:
        text = extract_text(body, content_type)
    except ExtractError as exc:
        text = f"(no readable text: {exc}; `--raw` writes its bytes)"
    return "\n".join([
        f"{r.document}: fetch #{r.fetch_id}, {STATES[r.state]}"
        + (f": {r.why.removeprefix('quarantined, not recorded: ')}" if r.why else ""),
        f"fetched: {views.when(r.at)}",
        f"url: {r.url}" + (f" (ended at {r.final_url})" if r.final_url != r.url else ""),
        f"HTTP status: {r.http_status}",
        f"raw snapshot: sha256 {r.snapshot}, {r.size} bytes, {content_type}",
        "text, as the extractor reads it (`--raw` writes the bytes as fetched):",
        "",
        text,
    ])  # fmt: skip
