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
from pathlib import Path
from typing import Any

from monitor.dependencies import install_advice, require_installed

require_installed()  # before click and the rest: one line, not a traceback, when one is missing

import click  # noqa: E402

from monitor.cli import archive, board, held, imports, keep, read, run, site  # noqa: E402
from monitor.cli.options import EXIT_FAILED, EXIT_USAGE  # noqa: E402
from monitor.errors import ConfigError, MonitorError  # noqa: E402


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="policy-monitor")
def cli() -> None:
    """Watch terms and privacy policies; flag changes in AI-training language."""


for _command in (run.check, run.daemon, read.changes, read.diff, read.explain, read.history,
                 read.status, read.feed, imports.import_group, imports.backfill,
                 archive.first_seen, archive.evidence):  # fmt: skip
    cli.add_command(_command)
cli.add_command(board.board)
for _command in (site.site, site.serve):
    cli.add_command(_command)
cli.add_command(keep.prune)
cli.add_command(held.held)


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
    except ModuleNotFoundError as exc:  # one a dependency needs (never ours): what to install
        if (exc.name or "monitor").partition(".")[0] == "monitor":
            raise
        click.echo(install_advice([exc.name or "?"]), err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        sys.exit(_os_error(exc))
