"""Loads and validates ``watchlist.yaml`` into frozen :class:`Watch` records.

Every problem becomes one :class:`ConfigError` naming the file, the entry and the key,
so a user can fix a typo without reading a traceback.

The file is untrusted input too: it is read with limits (size, nesting, nodes once
aliases are expanded: a "billion laughs" file stops at once), and text with control
characters, lone surrogates or bidi overrides is refused, since ids, titles and URLs end
up in terminals, feeds and file names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import ConfigError
from monitor.models import DEFAULT_INTERVAL_SECONDS, FeedConfig, Watch, WatchlistConfig
from monitor.watchlist.reader import read_yaml

REQUIRED_KEYS = ("id", "company", "title", "url")
OPTIONAL_KEYS = ("select", "remove", "interval", "robots", "fetcher")
FETCHERS = ("auto", "http", "browser")
# The whole id (used with fullmatch); at most 100 characters, as it names feed files.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
# Who site operators can reach about our requests; it goes into the User-Agent.
CONTACT = re.compile(r"^(?:https?://\S+|mailto:\S+@\S+|[^@\s()]+@[^@\s()]+\.[a-z]{2,})$", re.I)
INTERVAL_PATTERN = re.compile(r"^(\d{1,12})\s*([smhd]?)$")  # int() reads 4,300 digits at most
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = 60
MAX_INTERVAL = 366 * 86400  # the daemon adds it to dates: 9999999d overflowed its scheduler
# The optional top-level `feeds:` mapping (see monitor.models.FeedConfig).
FEED_KEYS = ("base_url", "title", "description", "author", "limit", "include_history")
MAX_FEED_LIMIT = 1000
MAX_DOCUMENTS = 2000
MAX_TEXT = 2000  # characters in an id, company, title, URL or selector
# Bidi embeddings and overrides (U+202A-U+202E, U+2066-U+2069) can make a title read
# differently from what it is; control characters and lone surrogates break terminals
# and XML.
ODD_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# Says why a CSS selector cannot be used (None: fine); supplied by the extract stage.
SelectorCheck = Callable[[str], "str | None"]


def load_config(path: str | Path, selector_problem: SelectorCheck | None = None) -> WatchlistConfig:
    """Reads and validates a watchlist file: documents, `feeds:` and `contact:`.

    ``selector_problem`` checks each `select:`/`remove:` selector at load time, so a typo
    names its entry now rather than failing every check later.
    """
    raw = read_yaml(path)
    documents = parse_watchlist(raw, str(path), selector_problem)  # checks feeds, contact too
    return WatchlistConfig(
        documents=tuple(documents),
        feeds=parse_feed_config(raw.get("feeds"), str(path)),
        contact=parse_contact(raw.get("contact"), str(path)),
    )


def load_watchlist(path: str | Path) -> list[Watch]:
    """Reads and validates a watchlist file's documents."""
    return list(load_config(path).documents)


def load_feed_config(path: str | Path) -> FeedConfig:
    """Reads and validates the watchlist file's optional `feeds:` section."""
    return load_config(path).feeds


def parse_watchlist(
    raw: Any, where: str = "watchlist", selector_problem: SelectorCheck | None = None
) -> list[Watch]:
    """Validates an already-parsed watchlist document."""
    if not isinstance(raw, dict) or not isinstance(raw.get("documents"), list):
        raise ConfigError("expected a top-level 'documents:' list", path=where)
    unknown = _names(set(raw) - {"documents", "feeds", "contact"})
    if unknown:
        raise ConfigError(f"unknown top-level key(s): {unknown}", path=where)
    if len(raw["documents"]) > MAX_DOCUMENTS:
        message = f"{len(raw['documents']):,} documents; at most {MAX_DOCUMENTS:,} per file"
        raise ConfigError(message, path=where)
    parse_feed_config(raw.get("feeds"), where)
    parse_contact(raw.get("contact"), where)
    check = selector_problem or (lambda _selector: None)
    watches = [_parse_entry(entry, i, where, check) for i, entry in enumerate(raw["documents"], 1)]
    seen: set[str] = set()
    for watch in watches:
        if watch.id in seen:
            raise ConfigError(f"duplicate id {watch.id!r}", path=where, entry=f"id {watch.id}")
        seen.add(watch.id)
    if not watches:
        raise ConfigError("the 'documents:' list is empty", path=where)
    return watches


def _parse_entry(entry: Any, index: int, where: str, check: SelectorCheck) -> Watch:
    name = f"entry {index}"
    if not isinstance(entry, dict):
        raise ConfigError("expected a mapping with id, company, title, url", path=where, entry=name)
    if isinstance(entry.get("id"), str):
        name = f"entry {index} ({_shown(entry['id'], plain=True)})"
    unknown = set(entry) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
    if unknown:
        allowed = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
        raise ConfigError(
            f"unknown key(s) {_names(unknown)} (allowed: {allowed})",
            path=where,
            entry=name,
        )
    # Every missing key in one message: a newcomer writing an entry fixes it in one go.
    missing = [k for k in REQUIRED_KEYS if not (isinstance(entry.get(k), str) and entry[k].strip())]
    if missing:
        keys = ", ".join(f"'{key}'" for key in missing)
        verb = "is" if len(missing) == 1 else "are"
        raise ConfigError(f"{keys} {verb} missing or not a text", path=where, entry=name)
    for key in REQUIRED_KEYS:
        _check_text(entry[key], key, where, name)
    if not ID_PATTERN.fullmatch(entry["id"]):
        raise ConfigError(
            "'id' must be lower-case letters, digits, '.', '_' or '-' (at most 100)",
            path=where,
            entry=name,
        )
    _check_url(entry["url"], where, name)
    return Watch(
        id=entry["id"],
        company=entry["company"].strip(),
        title=entry["title"].strip(),
        url=entry["url"].strip(),
        select=_selectors(entry.get("select"), "select", where, name, check),
        remove=_selectors(entry.get("remove"), "remove", where, name, check),
        interval=_interval(entry.get("interval"), where, name),
        robots=_flag(entry.get("robots", True), "robots", where, name),
        fetcher=_fetcher(entry.get("fetcher", "auto"), where, name),
    )


def _check_text(text: str, key: str, where: str, name: str) -> None:
    """Refuses text that would break a terminal, a feed or a file name, or mislead a reader."""
    odd = ODD_CHARACTER.search(text)
    if odd:
        code = f"U+{ord(odd.group()):04X}"
        surrogate = unicodedata.category(odd.group()) == "Cs"
        kind = "a lone surrogate" if surrogate else "a control"
        raise ConfigError(f"'{key}' contains {kind} character {code}; remove it",
                          path=where, entry=name)  # fmt: skip
    if len(text) > MAX_TEXT:
        raise ConfigError(f"'{key}' is longer than {MAX_TEXT:,} characters",
                          path=where, entry=name)  # fmt: skip


def _shown(value: Any, plain: bool = False) -> str:
    """A value as an error message may quote it: one short line, odd characters escaped."""
    text = value if plain and isinstance(value, str) else repr(value)
    if ODD_CHARACTER.search(text):
        text = ascii(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _names(keys: set[Any]) -> str:
    """Unknown keys for an error message, sorted whatever their YAML type."""
    return ", ".join(sorted(_shown(key, plain=True) for key in keys))


def _check_url(url: str, where: str, name: str, key: str = "url") -> None:
    _check_text(url, key, where, name)
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        message = f"'{key}' must be an http(s) URL, got {_shown(url)}"
        raise ConfigError(message, path=where, entry=name)


def _selectors(
    value: Any, key: str, where: str, name: str, check: SelectorCheck
) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) and s.strip() for s in items):
        raise ConfigError(
            f"'{key}' must be a CSS selector or a list of them", path=where, entry=name
        )
    for selector in items:
        _check_text(selector, key, where, name)
        problem = check(selector.strip())
        if problem:
            message = f"'{key}': invalid CSS selector {_shown(selector.strip())}: {problem}"
            raise ConfigError(message, path=where, entry=name)
    return tuple(s.strip() for s in items)


def _fetcher(value: Any, where: str, name: str) -> str:
    if value not in FETCHERS:
        allowed = ", ".join(FETCHERS)
        raise ConfigError(
            f"'fetcher' must be one of {allowed}, got {_shown(value)}", path=where, entry=name
        )
    return str(value)


def _flag(value: Any, key: str, where: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            f"'{key}' must be true or false, got {_shown(value)}", path=where, entry=name
        )
    return value


def _interval(value: Any, where: str, name: str) -> int:
    if value is None:
        return DEFAULT_INTERVAL_SECONDS
    match = INTERVAL_PATTERN.match(str(value).strip().lower())
    if isinstance(value, bool) or match is None:
        raise ConfigError(
            f"'interval' must look like 30m, 6h or 1d, got {_shown(value)}", path=where, entry=name
        )
    seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
    if seconds < MIN_INTERVAL:
        raise ConfigError(
            "'interval' must be at least 1m (be polite to the sites)", path=where, entry=name
        )
    if seconds > MAX_INTERVAL:
        raise ConfigError(
            "'interval' must be at most 366d (a page checked less often is not watched)",
            path=where, entry=name,
        )  # fmt: skip
    return seconds


def parse_contact(raw: Any, where: str = "watchlist") -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        _check_text(raw, "contact", where, "contact")
    if not isinstance(raw, str) or not CONTACT.match(raw.strip()):
        message = f"'contact' must be an http(s) URL or an e-mail address, got {_shown(raw)}"
        raise ConfigError(message, path=where, entry="contact")
    return raw.strip()


def parse_feed_config(raw: Any, where: str = "watchlist") -> FeedConfig:
    """Validates the `feeds:` mapping (absent or empty: every default)."""
    if raw is None:
        return FeedConfig()
    if not isinstance(raw, dict):
        raise ConfigError(f"expected a mapping with keys {', '.join(FEED_KEYS)}", path=where,
                          entry="feeds")  # fmt: skip
    unknown = _names(set(raw) - set(FEED_KEYS))
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown} (allowed: {', '.join(FEED_KEYS)})",
                          path=where, entry="feeds")  # fmt: skip
    for key in ("title", "description", "author"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise ConfigError(f"'{key}' must be a non-empty text", path=where, entry="feeds")
        if key in raw:
            _check_text(raw[key], key, where, "feeds")
    base_url = raw.get("base_url")
    if base_url is not None:
        if not isinstance(base_url, str):
            raise ConfigError("'base_url' must be an http(s) URL", path=where, entry="feeds")
        _check_url(base_url, where, "feeds", key="base_url")
    history = raw.get("include_history")
    if history is not None and not isinstance(history, bool):
        raise ConfigError(f"'include_history' must be true or false, got {_shown(history)}",
                          path=where, entry="feeds")  # fmt: skip
    return FeedConfig(
        include_history=history,
        base_url=base_url.strip() if base_url is not None else None,
        title=_text(raw.get("title")), description=_text(raw.get("description")),
        author=_text(raw.get("author")), limit=_feed_limit(raw.get("limit"), where),
    )  # fmt: skip


def _text(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def _feed_limit(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_FEED_LIMIT:
        raise ConfigError(f"'limit' must be a whole number from 1 to {MAX_FEED_LIMIT}, "
                          f"got {_shown(value)}", path=where, entry="feeds")  # fmt: skip
    return value
