"""The commands that check: `check` (once, for cron) and `daemon` (on each document's interval)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import TYPE_CHECKING, NoReturn

import click

from monitor.cli.options import (
    EXIT_FAILED,
    NEWS,
    check_policy,
    data_option,
    open_store,
    page_limits,
    policy_options,
    select_watches,
    watchlist_option,
)  # fmt: skip

if TYPE_CHECKING:
    from monitor.check.decide import Policy
    from monitor.check.observe import Extractor
    from monitor.fetch.settings import FetchSettings
    from monitor.models import CheckOutcome, Watch
    from monitor.publish.feed import FeedSettings


@click.command()
@watchlist_option
@data_option
@click.option("--only", multiple=True, metavar="ID", help="Check only this document (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="Print only changes and failures (for cron).")
@click.option("--logfmt", is_flag=True, help="Print key=value lines (level, document, status).")
@click.option("--wait", default=600.0, show_default=True, help="Seconds to wait for the lock.")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds per HTTP request.")
@click.option(
    "--delay", default=1.0, show_default=True, help="Seconds between two requests to a host."
)
@click.option("--retries", default=2, show_default=True, help="Retries on timeouts, 5xx and 429.")
@policy_options
def check(
    watchlist_path: str,
    data_dir: str,
    only: tuple[str, ...],
    quiet: bool,
    logfmt: bool,
    wait: float,
    timeout: float,
    delay: float,
    retries: int,
    alert_after: int,
    full_fetch_every: float,
    ab_window: float,
    max_page_mb: float,
    max_elements: int,
) -> None:
    """Check every document once and record what changed.

    Example: policy-monitor check --watchlist watchlist.yaml --data data
    """
    from monitor.extract.selectors import selector_problem
    from monitor.fetch.http import FetchSettings, user_agent
    from monitor.publish.settings import settings_from_config
    from monitor.signals import Stopped, signals_raise
    from monitor.watchlist import load_config

    config = load_config(watchlist_path, selector_problem)
    watches = select_watches(list(config.documents), only)
    agent = user_agent(config.contact)
    fetch = FetchSettings(timeout, retries, host_delay=delay, user_agent=agent)
    how = (check_policy(alert_after, full_fetch_every, ab_window),
           page_limits(max_page_mb, max_elements), settings_from_config(config.feeds))  # fmt: skip
    # SIGTERM (a service manager, `timeout`, a shutdown) or Ctrl-C: see _stopped
    with signals_raise(Stopped, signal.SIGTERM, signal.SIGINT):
        try:
            outcomes = _check_all(watches, {d.id for d in config.documents}, data_dir, wait,
                                  fetch, how)  # fmt: skip
        except Stopped as stop:
            _stopped(stop)
    from monitor.views import pointed_to_held

    for outcome in outcomes:
        outcome = pointed_to_held(outcome, data_dir)
        for line in _lines(outcome, quiet, logfmt, how[0].alert_after):
            click.echo(line)
    # A wall page once is a blip; exit 1 once it keeps coming back (like any failure).
    if any(o.status == "failed" or (o.status == "quarantined" and o.failing) for o in outcomes):
        sys.exit(EXIT_FAILED)


def _lines(outcome: CheckOutcome, quiet: bool, logfmt: bool, alert_after: int) -> Iterator[str]:
    """A document's line, then its alert or recovery line if this check crossed one.
    ``quiet`` (cron mails what is printed): only what needs a human: a change, an alert,
    a recovery, a crash (a failure the decision table did not make: a bug, a database
    error); not a failure before the alert, nor each one after it."""
    from monitor import views

    crash = outcome.status == "failed" and not outcome.state
    if not quiet or outcome.status in NEWS or crash:
        level = "WARNING" if outcome.status in ("failed", "quarantined") else "INFO"
        line = f"level={level} {views.log_fields(outcome)}" if logfmt else None
        yield line or views.terminal_safe(f"{outcome.document}: {outcome.message}")
    crossed = views.alert(outcome, alert_after)
    if crossed is not None:
        level = "ERROR" if outcome.health == "failing" else "INFO"
        yield f"level={level} {crossed[1]}" if logfmt else crossed[0]


def _check_all(
    watches: list[Watch], watched: set[str], data_dir: str, wait: float,
    fetch: FetchSettings, how: tuple[Policy, Extractor, FeedSettings],
) -> list[CheckOutcome]:  # fmt: skip
    """One sweep, then the feeds. The data lock is held only to write (open or upgrade the
    database, each batch's transaction, the feeds): the daemon and imports record while
    this waits for hosts; the check lock keeps a second `check` from fetching meanwhile."""
    from monitor.check.pipeline import browser_for, sweep
    from monitor.claims import Claims
    from monitor.cli.stopping import publish_in_time
    from monitor.fetch.http import Fetcher, make_client
    from monitor.lock import check_lock
    from monitor.publish.stamp import publish_if_stale
    from monitor.signals import Stopped

    policy, extractor, feed_settings = how
    hold = partial(_write_turn, data_dir, wait)
    with check_lock(data_dir, wait), ExitStack() as stack:
        with hold():
            store = stack.enter_context(open_store(data_dir, read_only=False))
        claims = Claims(data_dir, "check")
        claims.tidy(watched)  # claim files of documents no longer watched, nobody holds
        with make_client(fetch) as client, browser_for(watches, fetch.user_agent) as browser:
            try:
                outcomes = sweep(store, Fetcher(client, fetch), watches, browser=browser,
                                 policy=policy, extractor=extractor, hold=hold,
                                 claims=claims)  # fmt: skip
            except Stopped as stop:  # before closing the client: it would wait for fetches
                publish = partial(publish_if_stale, store, data_dir, feed_settings, watched)
                _stopped(stop, data_dir, partial(publish_in_time, data_dir, wait, publish,
                                                 (Stopped,)))  # fmt: skip
        with hold():
            publish_if_stale(store, data_dir, feed_settings, watched=watched)
    return outcomes


@contextmanager
def _write_turn(data_dir: str, wait: float) -> Iterator[None]:
    """The data lock, and a stop signal held back until the write in it is done."""
    from monitor.lock import data_lock
    from monitor.signals import held_back

    with data_lock(data_dir, wait), held_back():
        yield


def _stopped(
    stop: BaseException, data_dir: str | None = None, publish: Callable[[], str] | None = None
) -> NoReturn:
    """A cron check asked to stop: what it recorded is kept (each batch of documents is
    one transaction, and a stop waits for the one under way) and, stopped in its sweep,
    written to the feeds (``publish``: "" or why not); the others are checked by the next
    run. One line, the check lock's record removed, exit status 128 + the signal's number
    (143 for SIGTERM): fetches still waiting for a host are abandoned, not waited for."""
    from monitor import views
    from monitor.cli.stopping import end_now
    from monitor.lock import forget_check

    problem = publish() if publish is not None else None
    if problem is None:
        kept = "each document recorded is kept whole, the others are checked by the next run"
    elif problem:
        kept = (f"each document recorded is kept whole, the others are checked by the "
                f"next run; the feeds were not written ({problem}): the next run writes "
                "them")  # fmt: skip
    else:
        kept = ("each document recorded is kept whole, and in the feeds; the others are "
                "checked by the next run")  # fmt: skip
    forget = None if data_dir is None else partial(forget_check, data_dir)
    end_now([views.terminal_safe(f"check stopped by {stop}: {kept}")],
            128 + signal.Signals[str(stop)].value, forget)  # fmt: skip


@click.command()
@watchlist_option
@data_option
@click.option(
    "--wait", default=600.0, show_default=True, help="Seconds a check waits for the lock."
)
@click.option("--timeout", default=20.0, show_default=True, help="Seconds per HTTP request.")
@click.option("--retries", default=2, show_default=True, help="Retries on timeouts, 5xx and 429.")
@policy_options
@click.option("--speed", default=1.0, show_default=True, help="Run the timetable N times faster.")
def daemon(
    watchlist_path: str,
    data_dir: str,
    wait: float,
    timeout: float,
    retries: int,
    alert_after: int,
    full_fetch_every: float,
    ab_window: float,
    max_page_mb: float,
    max_elements: int,
    speed: float,
) -> None:
    """Check each document on its interval until stopped (SIGTERM / Ctrl-C).

    Example: policy-monitor daemon --watchlist watchlist.yaml --data /var/lib/policy-monitor
    """
    from monitor.daemonlog import StartupStop, log_startup_stop, start_logging
    from monitor.signals import signals_raise

    start_logging()  # through a queue: a stderr nobody reads never holds up a check
    # SIGTERM before the scheduler sets its own handlers (which flag a stop, and stay for
    # the rest of the block): one line, exit 0
    with signals_raise(StartupStop, signal.SIGTERM, signal.SIGINT):
        try:
            policy = check_policy(alert_after, full_fetch_every, ab_window)
            extractor = page_limits(max_page_mb, max_elements)
            _daemon(watchlist_path, data_dir, wait, timeout, retries, policy, extractor, speed)
        except StartupStop as stop:
            log_startup_stop(stop)


def _daemon(watchlist_path: str, data_dir: str, wait: float, timeout: float, retries: int,
            policy: Policy, extractor: Extractor, speed: float) -> None:  # fmt: skip
    from monitor.daemon import DaemonSettings, run_daemon
    from monitor.extract.selectors import selector_problem
    from monitor.fetch.settings import FetchSettings, user_agent
    from monitor.publish.feed import settings_from_config
    from monitor.watchlist import load_config

    if speed <= 0:
        raise click.BadParameter("must be above 0", param_hint="--speed")
    config = load_config(watchlist_path, selector_problem)
    fetch = FetchSettings(timeout=timeout, retries=retries, user_agent=user_agent(config.contact))
    feed_settings = settings_from_config(config.feeds)
    settings = DaemonSettings(data_dir, wait, speed, policy, extractor, fetch, feed_settings)
    run_daemon(list(config.documents), settings)
