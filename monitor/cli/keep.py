"""`prune`: the retention of raw snapshots (issue 15); nothing is deleted unless asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from monitor.cli.options import Seconds, data_option, open_store

MAX_DAYS = 365_000  # a thousand years: far past it the cut-off is no date


@click.command()
@data_option
@click.option(
    "--raw-older-than", "days", type=float, required=True, metavar="DAYS",
    help="Delete raw snapshots first seen more than DAYS ago that no version was read from.",
)  # fmt: skip
@click.option("--wait", default=600.0, show_default=True, type=Seconds(),
              help="Seconds to wait for the lock.")  # fmt: skip
def prune(data_dir: str, days: float, wait: float) -> None:
    """Delete old raw snapshots that no recorded version or change needs.

    Every snapshot a version was read from (so both sides of every change) is kept, and so
    is every snapshot another kept one is stored as a delta of; fetch attempts keep their
    sha256 and time. Example: policy-monitor prune --raw-older-than 90
    """
    from monitor.lock import data_lock

    if not 0 <= days <= MAX_DAYS:  # also NaN, which no comparison holds for
        raise click.BadParameter(f"must be 0 to {MAX_DAYS:,} days", param_hint="--raw-older-than")
    before = datetime.now(UTC) - timedelta(days=days)
    with open_store(data_dir):  # no database yet: say so, never create one to prune
        pass
    with data_lock(data_dir, wait), open_store(data_dir, read_only=False) as store:
        with store.transaction():
            count, freed = store.prune_snapshots(before)
    click.echo(
        f"pruned {count} raw snapshot(s), {freed / 1e6:.1f} MB compressed, first seen before "
        f"{before.isoformat(timespec='seconds')}; every snapshot a version was read from is kept"
    )
