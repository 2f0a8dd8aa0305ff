"""The commands for citing the archive: `first-seen` (since when does a policy say this?)
and `evidence` (everything a change rests on, in a folder, with its hashes)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor import views
from monitor.cli.options import data_option, open_store
from monitor.errors import ConfigError, MonitorError

if TYPE_CHECKING:  # start-up: `--help` and `check` load no store or phrase matching
    from monitor.phrase import Matcher, PhraseHistory
    from monitor.store import Store


@click.command("first-seen")
@click.argument("document")
@click.argument("text", metavar="PHRASE")
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object for scripts.")
def first_seen(document: str, text: str, data_dir: str, as_json: bool) -> None:
    """Find the first version of a document holding a phrase, and the changes that added
    and removed it (case and whitespace ignored, whole words at both ends).

    Example: policy-monitor first-seen google-privacy "AI models" --json
    """
    from monitor import phrase

    if not phrase.normalise(text):
        raise ConfigError(f"{document}: the phrase is empty: give some words to look for")
    with open_store(data_dir) as store:
        views.require_document(store, document)
        found = find_phrase(store, document, text)
    if as_json:
        click.echo(views.json_text(phrase_dict(found)))
    else:
        click.echo(phrase_report(found))


def find_phrase(store: Store, document: str, text: str) -> PhraseHistory:
    """The phrase's history in ``document``; MonitorError when no version holds it."""
    from monitor import phrase
    from monitor.classify.lookalike import latin
    from monitor.classify.visible import IGNORABLE

    pattern = phrase.phrase_pattern(text, unseen=IGNORABLE, reading=latin)
    present = _holding(store, document, text, pattern)
    versions = store.versions(document)
    current = store.current_version(document, with_text=False)
    found = phrase.phrase_history(
        text, present, versions, store.changes(document=document),
        store.upgrades(document), current.number if current else None,
    )  # fmt: skip
    if found is None:
        numbers = f"v1-v{versions[-1].number}" if versions else "none"
        raise MonitorError(
            f"{document}: {text!r} is in none of its {len(versions)} version(s) ({numbers}); "
            f"matched with {phrase.MATCHING}"
        )
    first = store.version(document, found.version)
    excerpt = phrase.excerpt(first.text if first else "", pattern)
    return replace(found, excerpt=excerpt, origin=first.origin if first else None)


def _holding(store: Store, document: str, text: str, pattern: Matcher) -> set[int]:
    """The numbers of the versions holding the phrase: the FTS index names the lines
    that hold it or could start or end it (search.py), the exact rule decides."""
    from monitor import phrase
    from monitor.classify.lookalike import LOOKALIKES
    from monitor.classify.visible import IGNORABLE
    from monitor.store import search

    lists, legacy = search.paragraph_lists(store, document)
    ids = {pid for listed in lists.values() for pid in listed}
    edges = phrase.edge_queries(text)
    queries = [phrase.fts_query(text), *edges] if edges else [None]
    lines = search.blank_paragraphs(store, ids)
    if queries != [None]:  # lines with characters no reader sees (the index splits words
        # there) or letters read as Latin ones (the index holds them as written)
        lines.update(search.paragraphs_matching(store, ids, f"*[{IGNORABLE}{LOOKALIKES}]*"))
    for query in dict.fromkeys(queries):
        lines.update(search.paragraph_texts(store, ids, query))
    present = phrase.holding(lists, lines, pattern)
    for number in legacy:  # versions kept in their pre-m010 form: read whole
        version = store.version(document, number)
        if version is not None and phrase.contains(version.text, pattern):
            present.add(number)
    return present


def phrase_dict(found: PhraseHistory) -> dict[str, object]:
    """The `first-seen --json` record."""
    from monitor import phrase

    return {
        "document": found.document,
        "phrase": found.phrase,
        "matching": phrase.MATCHING,
        "version": found.version,
        "change": found.change,
        "first_seen": views.when(found.first_seen),
        "removed_by": found.removed_by,
        "returned_by": found.returned_by,
        "present_now": found.present_now,
        "excerpt": found.excerpt,
        **views.origin_fields(found.origin),  # imported from an archive, or all null
        "events": [
            {"event": s.event, "change": s.change, "at": views.when(s.at),
             "from_version": s.from_version, "to_version": s.to_version}
            for s in found.steps
        ],
    }  # fmt: skip


def phrase_report(found: PhraseHistory) -> str:
    """The `first-seen` lines; an imported first version is dated by its archive."""
    from monitor import phrase

    lines = [f"{found.document}: {found.phrase!r} ({phrase.MATCHING})"]
    if found.change is not None:
        how = f"introduced by change #{found.change}"
    elif found.version == 1:
        how = "already in the first recorded version"
    else:
        how = "appeared with a technical upgrade (a new baseline, not a change)"
    when = views.when(found.first_seen)
    if found.origin is not None:  # the monitor never saw it: the date is the archive's
        when += f" (dated by the archive, {views.origin_note(found.origin)})"
    lines.append(f"first seen in v{found.version} on {when}, {how}:")
    lines.append(f'  "{found.excerpt}"')
    for step in found.steps:
        by = f"change #{step.change}" if step.change is not None else "a technical upgrade"
        lines.append(
            f"  {step.event:<7} by {by} (v{step.from_version} -> v{step.to_version}) "
            f"on {views.when(step.at)}"
        )
    if found.removed_by is not None and found.returned_by is not None:
        lines.append(f"removed by change #{found.removed_by}, back with #{found.returned_by}")
    lines.append(
        "present in the current version" if found.present_now else "not in the current version"
    )
    if found.origin is not None:  # where to read v{found.version} without this tool
        lines.extend(f"v{found.version} {line}" for line in views.source_lines(found.origin))
    return views.terminal_safe("\n".join(lines))


@click.command()
@click.argument("change_id", type=int)
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False),
    help="Folder to write the evidence into (created; must be empty if it exists).",
)  # fmt: skip
@data_option
def evidence(change_id: int, out_dir: str, data_dir: str) -> None:
    """Write a change's evidence to a folder: both raw snapshots as fetched, both texts,
    the unified diff, manifest.json and SHA256SUMS (check with `sha256sum -c SHA256SUMS`).

    Example: policy-monitor evidence 12 --out evidence-12
    """
    with open_store(data_dir) as store:
        change = views.require_change(store, change_id)
        before = store.version(change.document, change.from_version or 0)
        after = store.version(change.document, change.to_version)
        from monitor import linediff
        from monitor.diff import diff_texts  # start-up: only this command diffs
        from monitor.publish.evidence import write_evidence

        ops = diff_texts(before.text if before else "", after.text if after else "").ops
        unified = linediff.unified(
            ops, f"v{change.from_version} ({change.document})",
            f"v{change.to_version} ({change.document})",
        )  # fmt: skip
        files = write_evidence(
            store, change, Path(out_dir), record=views.change_dict(change), diff=unified
        )
    click.echo(f"change #{change_id}: {len(files)} files in {out_dir}; verify with:")
    click.echo(f"  cd {out_dir} && sha256sum -c SHA256SUMS")
