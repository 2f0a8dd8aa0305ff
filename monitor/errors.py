"""The exception hierarchy of policy-monitor.

    MonitorError            anything the monitor reports to a user as one line
    ├── ConfigError         the watchlist or a command-line value is wrong (exit 2)
    ├── FetchError          a document could not be fetched (transient / blocked)
    ├── ExtractError        a fetched page holds no readable policy text
    └── LockedError         another sweep holds the data directory's lock

Stages raise only these, chaining the cause (``raise FetchError(...) from exc``);
the pipeline records them per document and goes on, the CLI maps them to exit codes.
Every message says what went wrong and, where it helps, what to do about it;
``http_status_error`` words HTTP error statuses once for both fetchers.
"""

from __future__ import annotations


class MonitorError(Exception):
    """A failure the monitor explains in one line."""


class ConfigError(MonitorError):
    """The watchlist (or a command-line value) is invalid."""

    def __init__(self, message: str, *, path: str = "", entry: str = "") -> None:
        where = ": ".join(part for part in (path, entry) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.entry = entry


class FetchError(MonitorError):
    """A document could not be fetched.

    ``transient``: trying again later may work (timeouts, 5xx, 429, connection resets).
    ``blocked``: the site probably refuses automated clients (403, bot challenges).
    """

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        transient: bool = False,
        blocked: bool = False,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.transient = transient
        self.blocked = blocked


class BusyError(FetchError):
    """Not fetched: another process (the daemon, a cron `check`) is fetching the document
    now and records what it gets (monitor/claims.py)."""

    def __init__(self, holder: str, url: str = "") -> None:
        super().__init__(f"skipped: being fetched by another process ({holder}), which "
                         "records it", url=url)  # fmt: skip


def data_dir_problem(data_dir: object, exc: OSError | None = None) -> ConfigError:
    """A data directory that is a file (``exc`` None) or cannot be created, in one line."""
    if exc is None:
        return ConfigError(f"data directory {data_dir} is a file: point --data at a directory")
    return ConfigError(
        f"cannot create data directory {data_dir} ({exc.strerror}): "
        "create it, or point --data elsewhere"
    )


class ExtractError(MonitorError):
    """A fetched page holds no readable text (empty, script-only, undecodable)."""


class ArchiveError(MonitorError):
    """An archive that is not what it should be: a path not in the repository, an index
    answer not as documented, a capture that is the archive's own error page. A step that
    raises it is recorded as failed, never as a version."""


class LockedError(MonitorError):
    """Another check or the daemon is already working on this data directory."""


# What to do about an HTTP error status, the same whichever fetcher (HTTP or browser) saw it.
STATUS_ADVICE = {
    401: "the page needs a login; watch a public URL instead",
    403: "access denied, the site probably blocks automated clients",
    404: "the document may have moved; update its URL in the watchlist",
    410: "the document was removed; find its new URL or drop it from the watchlist",
    451: "unavailable for legal reasons, the site may block your region",
}


def http_status_error(status: int, reason: str, url: str) -> FetchError:
    """The error for a final response of HTTP 400 or more (429 and 5xx are transient)."""
    said = f"HTTP {status} {reason}".rstrip()
    if status == 429 or status >= 500:
        why = "rate limited" if status == 429 else "server error"
        message = f"{why} ({said}) from {url}; try again later"
        return FetchError(message, url=url, status=status, transient=True, blocked=status == 429)
    advice = STATUS_ADVICE.get(status, "check the URL in a browser")
    blocked = status in (403, 451)
    return FetchError(f"{said} for {url}: {advice}", url=url, status=status, blocked=blocked)
