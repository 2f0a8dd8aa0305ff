"""robots.txt for the fetcher (the only module importing protego).

A site's robots.txt is read once per host and fetcher; a missing, unreadable or
erroring robots.txt allows everything (the policy page itself will say if the site is
down), as does one that is too slow or redirects into a private network. As RFC 9309
says, only its first 500 KiB count; the fetcher never reads more. The product token
matched against it is ``policy-monitor``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

AGENT_TOKEN = "policy-monitor"
# RFC 9309 section 2.5: crawlers must parse at least 500 KiB; more is not worth holding.
MAX_ROBOTS_BYTES = 500 * 1024


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


class RobotsCache:
    """Parsed robots.txt per host; ``load(robots_url, until)`` returns its text or None,
    by ``until`` (a monotonic time)."""

    def __init__(self, load: Callable[[str, float], str | None]) -> None:
        self._load = load
        self._rules: dict[str, Protego | None] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str, until: float) -> bool:
        try:
            key = robots_url(url)
        except ValueError:
            return True  # a malformed URL: the fetch itself reports it
        with self._lock:
            known = key in self._rules
            rules = self._rules.get(key)
        if not known:
            text = self._load(key, until)
            rules = Protego.parse(text) if text else None
            with self._lock:
                self._rules[key] = rules
        return rules is None or bool(rules.can_fetch(url, AGENT_TOKEN))
