"""The command line: the composition root that builds the client, store and clock.

Exit codes: 0 all documents checked (or the command succeeded), 1 a document failed
to fetch or extract, or a runtime failure the next run may not meet (the data directory
was locked, the disk was full: the check was rolled back), 2 usage or configuration
error: something an operator must fix first (a data directory that is a file or cannot
be written, a damaged, foreign or newer database).
"""

from __future__ import annotations

import errno
import os
import sys
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from monitor import views
from monitor.check.observe import Extractor
from monitor.check.pipeline import ALERT_AFTER, Policy, browser_for, sweep
from monitor.errors import ConfigError, MonitorError
from monitor.extract.limits import MAX_ELEMENTS, MAX_PARSE_BYTES
from monitor.extract.selectors import selector_problem
from monitor.fetch.http import Fetcher, FetchSettings, make_client, user_agent
from monitor.lock import data_lock
from monitor.models import Watch
from monitor.publish.feed import FeedSettings, settings_from_config
from monitor.publish.write import render_selected, write_feeds
from monitor.store import Store, opened
from monitor.watchlist import load_config, load_feed_config

EXIT_FAILED, EXIT_USAGE = 1, 2
# What `check --quiet` still prints: what a person should look at.
NEWS = ("changed", "failed", "quarantined")

data_option = click.option(
    "--data", "data_dir", default="data", show_default=True, envvar="POLICY_MONITOR_DATA",
    type=click.Path(), help="Data directory (database, feeds).",
)  # fmt: skip
watchlist_option = click.option(
    "--watchlist", "watchlist_path", default="watchlist.yaml", show_default=True,
    type=click.Path(dir_okay=False), help="The watchlist file.",
)  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="policy-monitor")
def cli() -> None:
    """Watch terms and privacy policies; flag changes in AI-training language."""


def open_store(data_dir: str, read_only: bool = True) -> AbstractContextManager[Store]:
    """The store, read-only unless asked: reading commands never create or migrate."""
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
    return Extractor(max_parse_bytes=int(max_page_mb * 1e6), max_elements=max_elements)


@cli.command()
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
    config = load_config(watchlist_path, selector_problem)
    watches = select_watches(list(config.documents), only)
    feed_settings = settings_from_config(config.feeds)
    agent = user_agent(config.contact)
    with data_lock(data_dir, wait), open_store(data_dir, read_only=False) as store:
        settings = FetchSettings(timeout, retries, host_delay=delay, user_agent=agent)
        with make_client(settings) as client, browser_for(watches, agent) as browser:
            fetcher = Fetcher(client, settings)
            policy = check_policy(alert_after, full_fetch_every, ab_window)
            extractor = page_limits(max_page_mb, max_elements)
            outcomes = sweep(store, fetcher, watches, browser=browser, policy=policy,
                             extractor=extractor)  # fmt: skip
        write_feeds(store, data_dir, feed_settings)
    for outcome in outcomes:
        if not quiet or outcome.status in NEWS:
            level = "WARNING" if outcome.status in ("failed", "quarantined") else "INFO"
            line = f"level={level} {views.log_fields(outcome)}" if logfmt else None
            click.echo(line or views.terminal_safe(f"{outcome.document}: {outcome.message}"))
    # A wall page once is a blip; exit 1 once it keeps coming back (like any failure).
    if any(o.status == "failed" or (o.status == "quarantined" and o.failing) for o in outcomes):
        sys.exit(EXIT_FAILED)


def check_policy(alert_after: int, full_fetch_every: float, ab_window: float) -> Policy:
    """The decision's settings from the command line (monitor/check/decide.py)."""
    for name, value in (("--full-fetch-every", full_fetch_every), ("--ab-window", ab_window)):
        if value < 0:
            raise click.BadParameter("must be 0 or more hours", param_hint=name)
    return Policy(
        alert_after=alert_after,
        full_fetch_every=timedelta(hours=full_fetch_every),
        ab_window=timedelta(hours=ab_window),
    )


@cli.command()
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
    from monitor.daemon import DaemonSettings, run_daemon

    if speed <= 0:
        raise click.BadParameter("must be above 0", param_hint="--speed")
    config = load_config(watchlist_path, selector_problem)
    fetch = FetchSettings(timeout=timeout, retries=retries, user_agent=user_agent(config.contact))
    feed_settings = settings_from_config(config.feeds)
    policy = check_policy(alert_after, full_fetch_every, ab_window)
    extractor = page_limits(max_page_mb, max_elements)
    settings = DaemonSettings(data_dir, wait, speed, policy, extractor, fetch, feed_settings)
    run_daemon(list(config.documents), settings)


@cli.command()
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, oldest first.")
@click.option("--document", metavar="ID", help="Only this document's changes.")
@click.option("--ai-only", is_flag=True, help="Only changes flagged as AI-training.")
@click.option("--diffs", is_flag=True, help="Include each change's diff in the JSON.")
def changes(data_dir: str, as_json: bool, document: str | None, ai_only: bool, diffs: bool) -> None:
    """List recorded changes, oldest first.

    Example: policy-monitor changes --ai-only --json
    """
    with open_store(data_dir) as store:
        found = store.changes(document=document, ai_only=ai_only)
    if as_json:
        rows = [views.change_dict(c, with_diff=diffs) for c in found]
        click.echo(views.json_text(rows))
    else:
        click.echo(views.changes_table(found))


@cli.command()
@click.argument("document")
@data_option
@click.option("--from", "from_", type=int, metavar="N", help="Old version number.")
@click.option("--to", type=int, metavar="N", help="New version number (default: the latest).")
def diff(document: str, data_dir: str, from_: int | None, to: int | None) -> None:
    """Show what changed between two versions of a document.

    Example: policy-monitor diff google-privacy --from 3 --to 4
    """
    with open_store(data_dir) as store:
        click.echo(views.diff_report(store, document, from_, to))


@cli.command()
@click.argument("change_id", type=int)
@data_option
def explain(change_id: int, data_dir: str) -> None:
    """Show why a change was (or was not) flagged: each sentence and the words that matched.

    Example: policy-monitor explain 12
    """
    with open_store(data_dir) as store:
        try:
            change = store.change(change_id)
        except KeyError:
            raise ConfigError(f"no change #{change_id} (see `policy-monitor changes`)") from None
    click.echo(views.explain_report(change))


@cli.command()
@click.argument("document")
@data_option
def history(document: str, data_dir: str) -> None:
    """List a document's versions with their snapshot hashes and times.

    Example: policy-monitor history google-privacy
    """
    with open_store(data_dir) as store:
        click.echo(views.history_report(store, document))


@cli.command()
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def status(data_dir: str, as_json: bool) -> None:
    """Show every document's last fetch, versions and last change.

    Example: policy-monitor status --json
    """
    with open_store(data_dir) as store:
        rows = [store.status(doc_id) for doc_id in store.document_ids()]
    if as_json:
        click.echo(views.json_text([views.status_dict(s) for s in rows]))
    else:
        click.echo(views.status_table(rows))


@cli.command()
@data_option
@click.option(
    "--format", "fmt", type=click.Choice(["rss", "atom"]), default="rss", show_default=True
)
@click.option("--ai-only", is_flag=True, help="Only AI-training changes.")
@click.option("--document", metavar="ID", help="Only this document's changes.")
@click.option("--company", metavar="NAME", help="Only this company's changes.")
@click.option(
    "--watchlist", "watchlist_path", type=click.Path(dir_okay=False),
    help="Take the feed settings (base URL, title...) from this watchlist's 'feeds:'.",
)  # fmt: skip
def feed(
    data_dir: str,
    fmt: str,
    ai_only: bool,
    document: str | None,
    company: str | None,
    watchlist_path: str | None,
) -> None:
    """Print the feed of recent changes (RSS 2.0 or Atom) on stdout.

    Example: policy-monitor feed --format atom --ai-only > ai.atom
    """
    settings = FeedSettings()
    if watchlist_path is not None:
        settings = settings_from_config(load_feed_config(watchlist_path))
    with open_store(data_dir) as store:
        data = render_selected(
            store, fmt, settings, ai_only=ai_only, company=company, document=document
        )
    sys.stdout.buffer.write(data)


# Parser advice meant for developers, raised on pages we parse on purpose the way we do
# (an XML prolog before a policy, a page whose whole text looks like a file name). Left
# alone, Python prints it to stderr on every run and cron mails it; it is not news.
HARMLESS_WARNINGS = (
    r"It looks like you're using an HTML parser to parse an XML document",
    r".*looks more like a (URL|filename) than markup",
)
# Out of space or quota: the run failed and was rolled back; the next one may succeed.
RUNTIME_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def _route_warnings() -> None:
    """Silences known harmless warnings; any other is one line on stderr, not five."""
    for pattern in HARMLESS_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    warnings.showwarning = _warning_line


def _warning_line(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    first = (str(message).strip().splitlines() or [""])[0]
    where = f"{Path(filename).name}:{lineno}"
    click.echo(f"warning: {category.__name__}: {first} ({where})", err=True)


def _os_error(exc: OSError) -> int:
    """One line for a file the monitor could not write or read; the exit status."""
    name = exc.filename or "a file in the data directory"
    runtime = exc.errno in RUNTIME_ERRNOS
    advice = (
        "free space (or check the disk) and run it again"
        if runtime
        else "fix its path or permissions"
    )
    click.echo(f"error: {name}: {exc.strerror or exc}; {advice}", err=True)
    return EXIT_FAILED if runtime else EXIT_USAGE


def main(argv: list[str] | None = None) -> Any:
    """Runs the CLI, turning our errors into one line on stderr and an exit code."""
    _route_warnings()
    try:
        return cli.main(args=argv, prog_name="policy-monitor", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_FAILED)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    except BrokenPipeError:  # the reader went away (`feed | head`): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
        sys.exit(EXIT_FAILED)
    except OSError as exc:
        sys.exit(_os_error(exc))
