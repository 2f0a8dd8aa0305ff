"""How the HTTP fetcher behaves: timeouts and deadlines, retries, size caps, identity.

Stdlib only, so the CLI, the daemon and tests can build settings without the client.
"""

from __future__ import annotations

from dataclasses import dataclass

USER_AGENT = (
    "policy-monitor/0.1"
    " (+https://github.com/policy-monitor/policy-monitor; watches published terms)"
)


def user_agent(contact: str = "") -> str:
    """The honest User-Agent, naming the operator's contact when the watchlist gives one."""
    if not contact:
        return USER_AGENT
    return f"policy-monitor/0.1 (+{contact}; watches published terms)"


ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
ACCEPT_LANGUAGE = "en-US,en;q=0.9"
# Only what _read_body can decode with a size bound: httpx would also offer br and zstd when
# those packages happen to be installed, and decode them without a bound.
ACCEPT_ENCODING = "gzip, deflate"
MAX_REDIRECTS = 10
# Per-read timeouts do not bound a server that drips bytes, so a whole attempt (connect,
# headers and body) gets this many times the timeout unless a deadline is set.
ATTEMPT_TIME_FACTOR = 3


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 20.0
    retries: int = 2  # extra attempts on connect errors, timeouts, 5xx, 429
    backoff: float = 1.0  # seconds, doubled each retry
    max_retry_after: float = 60.0
    max_bytes: int = 15_000_000
    host_delay: float = 1.0  # pause between two requests to the same host
    # documents fetched at once in a `check` (one host per worker): enough for every host
    # of a large watchlist to wait on its own latency at the same time
    max_workers: int = 64
    user_agent: str = USER_AGENT
    respect_robots: bool = True
    deadline: float | None = None  # seconds for one whole attempt; None: 3 x timeout
    # seconds for a document's fetch with its robots.txt, retries and waits; None: every
    # attempt's deadline plus one Retry-After wait
    total_deadline: float | None = None
    # networks treated as public although their addresses are private (see netguard)
    treat_as_public: tuple[str, ...] = ()

    @property
    def attempt_seconds(self) -> float:
        return self.deadline if self.deadline is not None else self.timeout * ATTEMPT_TIME_FACTOR

    @property
    def fetch_seconds(self) -> float:
        if self.total_deadline is not None:
            return self.total_deadline
        return self.attempt_seconds * (self.retries + 1) + self.max_retry_after
