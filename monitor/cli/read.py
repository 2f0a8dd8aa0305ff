"""The commands that read the store: changes, diff, explain, history, status, feed."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor import views
from monitor.cli.options import data_option, open_store
from monitor.errors import ConfigError
from monitor.export import changes_csv

if TYPE_CHECKING:
    from monitor.publish.settings import FeedSettings
    from monitor.store import Store


@click.command()
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, oldest first.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default=None,
    help="table (default), json (as --json) or csv (one row per change, for spreadsheets).",
)  # fmt: skip
@click.option("--document", metavar="ID", help="Only this document's changes.")
@click.option("--ai-only", is_flag=True, help="Only changes flagged as AI-training.")
@click.option("--diffs", is_flag=True, help="Include each change's diff in the JSON or CSV.")
def changes(
    data_dir: str, as_json: bool, fmt: str | None, document: str | None, ai_only: bool,
    diffs: bool,
) -> None:  # fmt: skip
    """List recorded changes, oldest first.

    Example: policy-monitor changes --ai-only --json
    """
    if as_json and fmt not in (None, "json"):
        raise click.BadParameter(
            f"--json and --format {fmt} disagree: give one", param_hint="--json"
        )
    fmt = "json" if as_json else fmt or "table"
    with open_store(data_dir) as store:
        if document is not None:
            views.require_document(store, document)
        if fmt == "json" and not diffs:  # the common listing: records straight from rows
            click.echo(views.json_text(views.change_records(store.change_rows(document, ai_only))))
            return
        found = store.changes(document=document, ai_only=ai_only, with_diff=diffs)
    if fmt == "json":
        rows = [views.change_dict(c, with_diff=diffs) for c in found]
        click.echo(views.json_text(rows))
    elif fmt == "csv":
        click.echo(changes_csv(found, with_diff=diffs), nl=False)
    else:
        click.echo(views.changes_table(found))


@click.command()
@click.argument("document")
@data_option
@click.option("--from", "from_", type=int, metavar="N", help="Old version number.")
@click.option("--to", type=int, metavar="N", help="New version number (default: the latest).")
def diff(document: str, data_dir: str, from_: int | None, to: int | None) -> None:
    """Show what changed between two versions of a document.

    Example: policy-monitor diff google-privacy --from 3 --to 4
    """
    with open_store(data_dir) as store:
        click.echo(views.diff_report(store, document, from_, to, diff_style()))


class ColourDiff(views.DiffStyle):
    """Removed lines red, added lines green, their changed words bold and underlined."""

    COLOURS = {"-": "red", "+": "green"}

    def header(self, text: str) -> str:
        return click.style(text, bold=True)

    def line(self, side: str, text: str) -> str:
        return click.style(text, fg=self.COLOURS.get(side)) if side in self.COLOURS else text

    def word(self, side: str, text: str) -> str:
        colour = self.COLOURS[side]
        # Reset to the line's colour after the word, not to the terminal's default.
        return click.style(text, fg=colour, bold=True, underline=True, reset=False) + (
            "\x1b[22m\x1b[24m"
        )


def diff_style() -> views.DiffStyle:
    """Colour on a terminal unless NO_COLOR is set (https://no-color.org), else marks."""
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return views.PLAIN
    return ColourDiff()


@click.command()
@click.argument("change_id", type=int)
@data_option
def explain(change_id: int, data_dir: str) -> None:
    """Show why a change was (or was not) flagged: each sentence and the words that matched.

    Example: policy-monitor explain 12
    """
    with open_store(data_dir) as store:
        change = views.require_change(store, change_id)
        numbers = (change.from_version, change.to_version)
        sides = [store.version(change.document, n, False) for n in numbers if n is not None]
    click.echo(views.explain_report(change, [v for v in sides if v is not None]))


@click.command()
@click.argument("document")
@data_option
def history(document: str, data_dir: str) -> None:
    """List a document's versions with their snapshot hashes and times.

    Example: policy-monitor history google-privacy
    """
    with open_store(data_dir) as store:
        click.echo(views.history_report(store, document))


@click.command()
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def status(data_dir: str, as_json: bool) -> None:
    """Show every document's last fetch, versions and last change.

    Example: policy-monitor status --json
    """
    from monitor.lock import daemon_state

    with open_store(data_dir) as store:
        rows = [store.status(doc_id) for doc_id in store.document_ids()]
    if as_json:
        click.echo(views.json_text([views.status_dict(s) for s in rows]))
        return
    daemon = daemon_state(data_dir)  # none when no daemon runs or ran (cron)
    if daemon:
        click.echo(views.terminal_safe(daemon))
    click.echo(views.status_table(rows))


@click.command()
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
@click.option(
    "--include-history", is_flag=True,
    help="Also show changes imported from archives (`import`, `backfill`).",
)  # fmt: skip
@click.option(
    "--base-url", metavar="URL", default=None,
    help="Public http(s) URL of the published feeds folder: entries link there (default: the "
    "watchlist's feeds: base_url, else the data directory's own pages, file://).",
)  # fmt: skip
def feed(
    data_dir: str,
    fmt: str,
    ai_only: bool,
    document: str | None,
    company: str | None,
    watchlist_path: str | None,
    include_history: bool,
    base_url: str | None,
) -> None:
    """Print the feed of recent changes (RSS 2.0 or Atom) on stdout.

    Example: policy-monitor feed --format atom --ai-only > ai.atom
    """
    from monitor.publish.feed import FeedSettings, settings_from_config
    from monitor.publish.write import render_selected
    from monitor.watchlist import load_feed_config

    settings = FeedSettings()
    if watchlist_path is not None:
        settings = settings_from_config(load_feed_config(watchlist_path))
    if include_history:
        settings = replace(settings, include_history=True)
    settings = _linked(settings, base_url, data_dir)
    with open_store(data_dir) as store:
        _require_feed_filters(store, document, company)
        data = render_selected(
            store, fmt, settings, ai_only=ai_only, company=company, document=document
        )
    if not settings.base_url:  # once, not per entry, and not before an error's one line
        click.echo(NO_BASE_URL, err=True)  # stdout stays the feed (journalist9)
    sys.stdout.buffer.write(data)


NO_BASE_URL = (
    "note: no public URL for the feeds folder: entries link this machine's pages (file://), "
    "which a feed reader elsewhere cannot open; give --base-url URL or the watchlist's "
    "feeds: base_url (with --watchlist)"
)


def _linked(settings: FeedSettings, base_url: str | None, data_dir: str) -> FeedSettings:
    """Absolute entry links: a relative ``changes/15.html`` is resolved by readers against
    the channel's link (the project's home), no page of this install (journalist7). With
    no base URL, the data directory's pages as the published files link them (file://)."""
    from monitor.publish import FEED_DIR

    if base_url is not None:
        try:
            return replace(settings, base_url=base_url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--base-url") from None
    folder = Path(data_dir) / FEED_DIR
    if settings.base_url or not folder.is_dir():
        return settings
    return replace(settings, local_url=folder.resolve().as_uri())


def _require_feed_filters(store: Store, document: str | None, company: str | None) -> None:
    """ConfigError when ``--document`` / ``--company`` name nothing recorded: a typo
    must not print a valid but empty feed dated 1970."""
    from monitor.publish.specs import company_slug

    if document is not None:
        views.require_document(store, document)
    names = list(dict.fromkeys(doc.company for doc in store.documents()))
    if company is not None and company_slug(company) not in map(company_slug, names):
        listed = ", ".join(views.terminal_safe(n, newlines=False) for n in names[:20])
        asked = views.terminal_safe(company, newlines=False)
        raise ConfigError(f"no company {asked!r} recorded; known: {listed or 'none yet'}")


# Parser advice meant for developers, raised on pages we parse on purpose the way we do
