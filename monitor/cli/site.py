"""The commands of the static site: `site` (write it) and `serve` (look at it on 127.0.0.1)."""

from __future__ import annotations

import contextlib
import errno
import functools
import threading
from pathlib import Path
from typing import Any

import click

from monitor.cli.options import data_option, open_store
from monitor.errors import ConfigError
from monitor.lock import data_lock
from monitor.publish import FEED_DIR

DEFAULT_WATCHLIST = "watchlist.yaml"
LOCK_WAIT = 600.0  # seconds, as `check --wait`


@click.command()
@data_option
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), metavar="DIR",
    help="Folder to write the site to (default: DATA/feeds, where check keeps it).",
)  # fmt: skip
@click.option(
    "--watchlist", "watchlist_path", type=click.Path(dir_okay=False),
    help="Take the feed settings (base URL, title...) from this watchlist's 'feeds:' "
    "(default: watchlist.yaml when there is one).",
)  # fmt: skip
def site(data_dir: str, out_dir: str | None, watchlist_path: str | None) -> None:
    """Write the static site (index, timelines, change pages, snapshots, feeds) to a folder.

    Example: policy-monitor site --data data --out /var/www/policy
    """
    # Imported here, not at the top: `policy-monitor --help` loads no feed library.
    from monitor.publish.feed import FeedSettings, settings_from_config
    from monitor.publish.write import write_site_folder
    from monitor.watchlist import load_feed_config

    settings = FeedSettings()
    if watchlist_path is None and Path(DEFAULT_WATCHLIST).is_file():
        watchlist_path = DEFAULT_WATCHLIST  # the feeds keep the base URL `check` gives them
    if watchlist_path is not None:
        settings = settings_from_config(load_feed_config(watchlist_path))
    target = Path(out_dir) if out_dir else Path(data_dir) / FEED_DIR
    # Into the data directory's own folder, one writer at a time (`check`, the daemon).
    lock = data_lock(data_dir, LOCK_WAIT) if out_dir is None else contextlib.nullcontext()
    with open_store(data_dir) as store, lock:  # no database: an error, nothing created
        written = write_site_folder(store, data_dir, target, settings)
    click.echo(f"{target}: {len(written)} files written, index: {target / 'index.html'}")


@click.command()
@data_option
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0: any free one).",
)
def serve(data_dir: str, port: int) -> None:
    """Serve the site (DATA/feeds) on 127.0.0.1 for a quick look, until Ctrl-C.

    Example: policy-monitor serve --port 8000
    """
    folder = Path(data_dir) / FEED_DIR
    if not (folder / "index.html").is_file():
        raise ConfigError(f"no site in {folder}: run `policy-monitor check` or `site` first")
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer  # start-up: here only

    class _QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
            return

    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        taken = exc.errno == errno.EADDRINUSE
        why = "is already in use" if taken else f"cannot be opened ({exc.strerror})"
        raise ConfigError(f"port {port} on 127.0.0.1 {why}: choose another with --port") from None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    click.echo(f"serving {folder} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
