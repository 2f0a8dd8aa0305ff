"""The commands that import history: `import ota`, `import snapshots` and `backfill`.

Each reads an archive into dated steps and records them through the check's own path
(monitor/importer), one transaction per step, each under the data directory's lock (never
held while an archive is read); then the feeds are rewritten (imported changes stay out of
them unless `include_history`). `import ota` and `import snapshots` take several folders
(each named after its document) in one process, with worker processes extracting and
diffing ahead (`--jobs`), and write the feeds and the site once at the end.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from monitor import views
from monitor.cli.options import EXIT_FAILED, Seconds, data_option, open_store, watchlist_option
from monitor.errors import ArchiveError, ConfigError, MonitorError
from monitor.importer import ARCHIVE_ENV, DEFAULT_ARCHIVE
from monitor.lock import data_lock, import_lock
from monitor.models import Watch, WatchlistConfig
from monitor.signals import signals_raise

if TYPE_CHECKING:  # the pipeline is imported by the commands, not by `--help`
    from monitor.importer.ahead import Workers
    from monitor.importer.run import Report
    from monitor.importer.steps import Step
    from monitor.store import Store

EXIT_INTERRUPTED = 130
Source = Callable[[Watch], list["Step"]]
document_option = click.option(
    "--document", "document", default=None, metavar="ID",
    help="The watchlist document the history belongs to (default: the folder's name; "
    "with several folders, each is named after its document).",
)  # fmt: skip
wait_option = click.option(
    "--wait", default=600.0, show_default=True, type=Seconds(), help="Seconds to wait for the lock."
)
jobs_option = click.option(
    "--jobs", type=click.IntRange(0, 64), default=None, metavar="N",
    help="Worker processes extracting texts ahead of the import (default: one per CPU; "
    "0: none). The store is written by the command alone, in the order of the steps.",
)  # fmt: skip


@click.group("import")
def import_group() -> None:
    """Import documents' histories from archives (Open Terms Archive, snapshot files)."""


@import_group.command("ota")
@click.argument("git_dirs", nargs=-1, required=True, metavar="GIT_DIR...",
                type=click.Path(exists=True, file_okay=False))  # fmt: skip
@document_option
@click.option(
    "--path",
    "path",
    default=None,
    metavar="FILE",
    help='The document\'s file in the repository, e.g. "Google/Privacy Policy.md" (not needed '
    "for a folder with a manifest.json, the evaluation corpus layout).",
)
@watchlist_option
@data_option
@wait_option
@jobs_option
def ota(git_dirs: tuple[str, ...], document: str | None, path: str | None, watchlist_path: str,
        data_dir: str, wait: float, jobs: int | None) -> None:  # fmt: skip
    """Import Open Terms Archive versions histories (git repositories, read with git).

    Example: policy-monitor import ota ./contrib-versions --document google-privacy
    --path "Google/Privacy Policy.md"
    """
    from monitor.importer.ota import ota_steps

    sources = [(folder, _reading(lambda f: ota_steps(f, path), folder)) for folder in git_dirs]
    run_imports(watchlist_path, data_dir, "ota", wait, _named(sources, document), jobs=jobs)


@import_group.command("snapshots")
@click.argument("folders", nargs=-1, required=True, metavar="FOLDER...",
                type=click.Path(exists=True, file_okay=False))  # fmt: skip
@document_option
@watchlist_option
@data_option
@wait_option
@jobs_option
def snapshots(folders: tuple[str, ...], document: str | None, watchlist_path: str, data_dir: str,
              wait: float, jobs: int | None) -> None:  # fmt: skip
    """Import raw HTML or PDF snapshots (a manifest.json, or files named by their time).

    Example: policy-monitor import snapshots ./saved/google --document google-privacy
    """
    from monitor.importer.snapshots import snapshot_steps

    sources = [(folder, _reading(snapshot_steps, folder)) for folder in folders]
    run_imports(watchlist_path, data_dir, "snapshots", wait, _named(sources, document), jobs=jobs)


def _reading(read: Callable[[Path], list[Step]], folder: str) -> Source:
    return lambda watch: read(Path(folder))


def _named(sources: Sequence[tuple[str, Source]], document: str | None) -> list[tuple[str, Source]]:
    """Each folder's document: ``--document`` for a single folder, else the folder's name."""
    if document is not None and len(sources) > 1:
        raise ConfigError("--document names one document: give one folder with it, or name "
                          "each folder after its document and leave --document out")  # fmt: skip
    return [(document or Path(folder).resolve().name, source) for folder, source in sources]


@click.command()
@click.argument("document")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (YYYY-MM-DD).")
@click.option("--archive-url", default=DEFAULT_ARCHIVE, show_default=True, envvar=ARCHIVE_ENV,
              help=f"The Wayback Machine's address (or ${ARCHIVE_ENV}).")  # fmt: skip
@click.option("--delay", default=1.0, show_default=True, type=Seconds(),
              help="Seconds between two requests.")  # fmt: skip
@click.option("--timeout", default=30.0, show_default=True, type=Seconds(3600.0),
              help="Seconds per HTTP request.")  # fmt: skip
@click.option("--retries", default=3, show_default=True, help="Retries on timeouts, 5xx and 429.")
@watchlist_option
@data_option
@wait_option
def backfill(document: str, since: datetime | None, until: datetime | None, archive_url: str,
             delay: float, timeout: float, retries: int, watchlist_path: str, data_dir: str,
             wait: float) -> None:  # fmt: skip
    """Import a document's captures from the Wayback Machine (resumable, idempotent).

    Example: policy-monitor backfill google-privacy --since 2023-01-01
    """
    from monitor.extract.selectors import selector_problem
    from monitor.fetch.http import Fetcher, FetchSettings, make_client, user_agent
    from monitor.importer.wayback import Wayback, wayback_steps
    from monitor.watchlist import load_config

    config = load_config(watchlist_path, selector_problem)
    settings = FetchSettings(timeout=timeout, retries=retries,
                             user_agent=user_agent(config.contact))  # fmt: skip
    first, last = _day(since), _day(until)
    if first and last and first > last:  # the archive would answer nothing, "no history"
        raise click.UsageError(f"--since {first} is after --until {last}: swap them")
    with make_client(settings) as client:
        archive = Wayback(Fetcher(client, settings), archive_url, delay=delay)
        source: Source = lambda watch: wayback_steps(archive, watch, first, last)  # noqa: E731
        run_imports(watchlist_path, data_dir, "wayback", wait, [(document, source)], config)


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None


def run_imports(
    watchlist_path: str, data_dir: str, archive: str, wait: float,
    sources: list[tuple[str, Source]], config: WatchlistConfig | None = None,
    jobs: int | None = 0,
) -> None:  # fmt: skip
    """Imports each document's history in turn in this one process (with ``jobs`` worker
    processes extracting ahead: None, one per CPU), prints each summary, then rewrites the
    feeds and the site once."""
    from monitor.cli.stopping import publish_in_time
    from monitor.extract.selectors import selector_problem
    from monitor.importer.ahead import Workers, default_jobs
    from monitor.publish.feed import settings_from_config
    from monitor.publish.site.write import render_with
    from monitor.publish.write import write_feeds
    from monitor.watchlist import load_config

    config = config or load_config(watchlist_path, selector_problem)
    watches = _watches(config, [document for document, _ in sources], watchlist_path)
    feeds = settings_from_config(config.feeds)
    with data_lock(data_dir, wait), open_store(data_dir, read_only=False) as store:
        store.sync_documents(watches, datetime.now(UTC))  # creates or upgrades the database
    retry, current = False, watches[0].id
    # SIGTERM (a service manager, `timeout`, `kill`) stops it as Ctrl-C does: the step under
    # way rolls back, the workers are ended, the feeds are written in bounded time, one
    # line says how to resume (dying at once left the worker processes running on their
    # own; waiting for them to finish their chunks once kept a stopped import running).
    with signals_raise(KeyboardInterrupt, signal.SIGTERM), \
            open_store(data_dir, read_only=False) as store, \
            Workers(default_jobs() if jobs is None else jobs) as workers:  # fmt: skip
        try:
            listed = [_once(source) for _, source in sources]
            for index, (watch, source) in enumerate(zip(watches, listed, strict=True)):
                current = watch.id
                if index + 1 < len(watches):  # the next history is read while this one ends
                    following = (watches[index + 1], listed[index + 1])
                    workers.following(partial(_prefetch, store, archive, following, workers))
                report = _import_one(store, watch, archive, source, (data_dir, wait), workers)
                retry = _print(report) or retry
        except KeyboardInterrupt:
            workers.abandon()  # at once: no chunk is needed any more
            publish = partial(write_feeds, store, data_dir, feeds)  # the pages made here
            _interrupted(current, data_dir, publish_in_time(data_dir, wait, publish,
                                                           (KeyboardInterrupt,)))  # fmt: skip
        finally:  # an archive's error, the end: the feeds of what was recorded
            with data_lock(data_dir, wait):  # the change pages made by the workers
                write_feeds(store, data_dir, feeds, render=render_with(workers.map))
    if retry:
        sys.exit(EXIT_FAILED)


def _interrupted(document: str, data_dir: str, problem: str) -> NoReturn:
    """A stopped import's last words, then its end (exit status 130, at once: see
    monitor/cli/stopping.py). What it recorded is kept: each step is one transaction."""
    from monitor.cli.stopping import end_now
    from monitor.lock import forget_import

    lines = [f"{document}: interrupted; what was imported is kept, run the same command "
             "again to resume"]  # fmt: skip
    if problem:
        lines.insert(0, f"{document}: the feeds were not written ({views.terminal_safe(problem)})"
                        ": the next import or check writes them")  # fmt: skip
    lines[0] = "\n" + lines[0]  # ends the progress bar's line
    end_now(lines, EXIT_INTERRUPTED, partial(forget_import, data_dir, document))


def _import_one(
    store: Store, watch: Watch, archive: str, source: Source, lock: tuple[str, float],
    workers: Workers,
) -> Report:  # fmt: skip
    from monitor.importer.progress import Progress
    from monitor.importer.run import import_steps

    data_dir, wait = lock
    try:
        steps = source(watch)
    except ArchiveError as exc:
        message = f"{watch.id}: {archive}: {exc}"  # names from the archive: cleaned
        raise MonitorError(views.terminal_safe(message, newlines=False)) from None
    progress = Progress(len(steps), _progress_writer(), tty=sys.stderr.isatty())
    say = lambda line: click.echo(views.terminal_safe(line, newlines=False), err=True)  # noqa: E731
    # one import of a document at a time: the second finds the steps recorded
    with import_lock(data_dir, watch.id, wait, say):
        return import_steps(store, watch, archive, steps, tick=progress, workers=workers,
                            hold=lambda: data_lock(data_dir, wait))  # fmt: skip


def _once(source: Source) -> Source:
    """``source``, listing its steps once (or failing once, the same way each time asked):
    the next history is listed before its turn, to be read ahead."""
    listed: list[list[Step] | ArchiveError] = []

    def steps(watch: Watch) -> list[Step]:
        if not listed:
            try:
                listed.append(source(watch))
            except ArchiveError as exc:
                listed.append(exc)
        found = listed[0]
        if isinstance(found, ArchiveError):
            raise found
        return found

    return steps


def _prefetch(
    store: Store, archive: str, following: tuple[Watch, Source], workers: Workers
) -> None:
    """Starts reading the next history's first steps into the workers (its import, under
    its own lock, takes them if they are the steps it still needs)."""
    from monitor.importer.run import reading_ahead

    watch, source = following
    try:
        reading_ahead(store, watch, archive, source(watch), workers)
    except Exception:  # noqa: BLE001 (reading ahead is a saving: its turn says what failed)
        return


def _watches(config: WatchlistConfig, documents: list[str], path: str) -> list[Watch]:
    """The watchlist entries of the documents to import, or one error naming every id the
    watchlist lacks (a folder's name is its id) and how to add them."""
    known = {watch.id: watch for watch in config.documents}
    unknown = [document for document in documents if document not in known]
    if unknown:
        raise ConfigError(
            f"no document with id {', '.join(unknown)} in {path}: add each with its id, "
            "company, title and url to the watchlist (a folder's name is its id), or import "
            "one folder with --document ID"
        )
    return [known[document] for document in documents]


def _progress_writer() -> Callable[[str], None]:
    def write(text: str) -> None:
        # The bar rewrites its line with a carriage return; anything else odd is shown.
        safe = "\r".join(views.terminal_safe(part) for part in text.split("\r"))
        click.echo(safe, err=True, nl=False)

    return write


def _print(report: Report) -> bool:
    """Prints the summary; whether a step is to be retried (exit status 1)."""
    for problem in report.problems:
        click.echo(views.terminal_safe(f"warning: {problem}", newlines=False), err=True)
    click.echo(views.terminal_safe(report.summary()))
    if not report.steps:
        click.echo(f"{report.document}: {report.archive}: the archive has no steps to import")
    return any(p.endswith("(will retry)") for p in report.problems)


__all__ = ["backfill", "import_group"]
