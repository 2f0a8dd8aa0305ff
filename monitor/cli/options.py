"""What several commands share: the data and watchlist options, the store, the policy and
page-limit options of `check` and `daemon`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from monitor.errors import ConfigError
from monitor.extract.version import MAX_ELEMENTS, MAX_PARSE_BYTES
from monitor.models import Watch

if TYPE_CHECKING:  # imported where used: `--help` and the reading commands start fast
    from monitor.check.observe import Extractor
    from monitor.check.pipeline import Policy
    from monitor.store import Store

EXIT_FAILED, EXIT_USAGE = 1, 2
# The default of monitor.check.decide.Policy, written here so that building the options
# imports no check (tests/test_startup.py checks they agree).
ALERT_AFTER = 3
# What `check --quiet` still prints: what a person should look at.
NEWS = ("changed",)  # what `check --quiet` prints, besides alerts, recoveries and crashes

data_option = click.option(
    "--data", "data_dir", default="data", show_default=True, envvar="POLICY_MONITOR_DATA",
    type=click.Path(), help="Data directory (database, feeds).",
)  # fmt: skip
watchlist_option = click.option(
    "--watchlist", "watchlist_path", default="watchlist.yaml", show_default=True,
    type=click.Path(dir_okay=False), help="The watchlist file.",
)  # fmt: skip


class Seconds(click.ParamType):  # type: ignore[type-arg]
    """A number of seconds from 0 to ``most`` (NaN and infinity are refused: sleeps,
    deadlines and locks crash or wait forever on them)."""

    name = "seconds"

    def __init__(self, most: float = 86_400.0) -> None:
        self.most = most

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not 0 <= number <= self.most:  # NaN fails this too
            self.fail(f"{value!r} is not 0 to {self.most:g} seconds", param, ctx)
        return number


def open_store(data_dir: str, read_only: bool = True) -> AbstractContextManager[Store]:
    """The store, read-only unless asked: reading commands never create or migrate."""
    from monitor.store import opened

    return opened(data_dir, read_only=read_only)


def select_watches(watches: list[Watch], only: tuple[str, ...]) -> list[Watch]:
    unknown = sorted(set(only) - {w.id for w in watches})
    if unknown:
        raise ConfigError(f"--only: no document with id {', '.join(unknown)} in the watchlist")
    return [w for w in watches if not only or w.id in only]


POLICY_OPTIONS = (
    click.option(
        "--alert-after", default=ALERT_AFTER, show_default=True,
        help="Failures in a row before a document is reported as failing.",
    ),
    click.option(
        "--full-fetch-every", default=24.0, show_default=True, metavar="HOURS",
        help="Fetch each page whole (no ETag / If-Modified-Since) at least this often.",
    ),
    click.option(
        "--ab-window", default=72.0, show_default=True, metavar="HOURS",
        help="Texts seen in turn within this window are A/B variants: no alert when they flip.",
    ),
)  # fmt: skip


PAGE_OPTIONS = (
    click.option(
        "--max-page-mb", default=MAX_PARSE_BYTES / 1e6, show_default=True, metavar="MB",
        help="A page with more markup than this fails its check instead of being parsed.",
    ),
    click.option(
        "--max-elements", default=MAX_ELEMENTS, show_default=True, metavar="N",
        help="A page with more HTML elements than this fails its check.",
    ),
)  # fmt: skip


def policy_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options of a check's decision and page limits, the same for `check` and `daemon`."""
    for option in reversed(POLICY_OPTIONS + PAGE_OPTIONS):
        command = option(command)
    return command


def page_limits(max_page_mb: float, max_elements: int) -> Extractor:
    if max_page_mb <= 0 or max_elements <= 0:
        raise click.BadParameter("must be above 0", param_hint="--max-page-mb/--max-elements")
    from monitor.check.observe import Extractor

    return Extractor(max_parse_bytes=int(max_page_mb * 1e6), max_elements=max_elements)


def check_policy(alert_after: int, full_fetch_every: float, ab_window: float) -> Policy:
    """The decision's settings from the command line (monitor/check/decide.py)."""
    for name, value in (("--full-fetch-every", full_fetch_every), ("--ab-window", ab_window)):
        if value < 0:
            raise click.BadParameter("must be 0 or more hours", param_hint=name)
    from monitor.check.pipeline import Policy

    return Policy(
        alert_after=alert_after,
        full_fetch_every=timedelta(hours=full_fetch_every),
        ab_window=timedelta(hours=ab_window),
    )
