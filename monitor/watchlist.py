"""Loads and validates ``watchlist.yaml`` into frozen :class:`Watch` records.

Every problem becomes one :class:`ConfigError` naming the file, the entry and the key,
so a user can fix a typo without reading a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from monitor.errors import ConfigError
from monitor.models import DEFAULT_INTERVAL_SECONDS, FeedConfig, Watch, WatchlistConfig

REQUIRED_KEYS = ("id", "company", "title", "url")
OPTIONAL_KEYS = ("select", "remove", "interval", "robots", "fetcher")
FETCHERS = ("auto", "http", "browser")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# Who site operators can reach about our requests; it goes into the User-Agent.
CONTACT = re.compile(r"^(?:https?://\S+|mailto:\S+@\S+|[^@\s()]+@[^@\s()]+\.[a-z]{2,})$", re.I)
INTERVAL_PATTERN = re.compile(r"^(\d+)\s*([smhd]?)$")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = 60
# The optional top-level `feeds:` mapping (see monitor.models.FeedConfig).
FEED_KEYS = ("base_url", "title", "description", "author", "limit")
MAX_FEED_LIMIT = 1000


def load_config(path: str | Path) -> WatchlistConfig:
    """Reads and validates a watchlist file: documents, `feeds:` and `contact:`."""
    raw = _read(path)
    documents = parse_watchlist(raw, str(path))  # checks the top level, feeds and contact too
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


def _read(path: str | Path) -> Any:
    where = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file not found (pass --watchlist FILE)", path=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", path=where) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{line}{problem}", path=where) from exc
    return raw


def parse_watchlist(raw: Any, where: str = "watchlist") -> list[Watch]:
    """Validates an already-parsed watchlist document."""
    if not isinstance(raw, dict) or not isinstance(raw.get("documents"), list):
        raise ConfigError("expected a top-level 'documents:' list", path=where)
    unknown = set(raw) - {"documents", "feeds", "contact"}
    if unknown:
        raise ConfigError(f"unknown top-level key(s): {', '.join(sorted(unknown))}", path=where)
    parse_feed_config(raw.get("feeds"), where)
    parse_contact(raw.get("contact"), where)
    watches = [_parse_entry(entry, i, where) for i, entry in enumerate(raw["documents"], 1)]
    seen: set[str] = set()
    for watch in watches:
        if watch.id in seen:
            raise ConfigError(f"duplicate id {watch.id!r}", path=where, entry=f"id {watch.id}")
        seen.add(watch.id)
    if not watches:
        raise ConfigError("the 'documents:' list is empty", path=where)
    return watches


def _parse_entry(entry: Any, index: int, where: str) -> Watch:
    name = f"entry {index}"
    if not isinstance(entry, dict):
        raise ConfigError("expected a mapping with id, company, title, url", path=where, entry=name)
    if isinstance(entry.get("id"), str):
        name = f"entry {index} ({entry['id']})"
    unknown = set(entry) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
    if unknown:
        allowed = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
        raise ConfigError(
            f"unknown key(s) {', '.join(sorted(map(str, unknown)))} (allowed: {allowed})",
            path=where,
            entry=name,
        )
    for key in REQUIRED_KEYS:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ConfigError(f"'{key}' is missing or not a text", path=where, entry=name)
    if not ID_PATTERN.match(entry["id"]):
        raise ConfigError(
            "'id' must be lower-case letters, digits, '.', '_' or '-'", path=where, entry=name
        )
    _check_url(entry["url"], where, name)
    return Watch(
        id=entry["id"],
        company=entry["company"].strip(),
        title=entry["title"].strip(),
        url=entry["url"].strip(),
        select=_selectors(entry.get("select"), "select", where, name),
        remove=_selectors(entry.get("remove"), "remove", where, name),
        interval=_interval(entry.get("interval"), where, name),
        robots=_flag(entry.get("robots", True), "robots", where, name),
        fetcher=_fetcher(entry.get("fetcher", "auto"), where, name),
    )


def _check_url(url: str, where: str, name: str, key: str = "url") -> None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"'{key}' must be an http(s) URL, got {url!r}", path=where, entry=name)


def _selectors(value: Any, key: str, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) and s.strip() for s in items):
        raise ConfigError(
            f"'{key}' must be a CSS selector or a list of them", path=where, entry=name
        )
    return tuple(s.strip() for s in items)


def _fetcher(value: Any, where: str, name: str) -> str:
    if value not in FETCHERS:
        allowed = ", ".join(FETCHERS)
        raise ConfigError(
            f"'fetcher' must be one of {allowed}, got {value!r}", path=where, entry=name
        )
    return str(value)


def _flag(value: Any, key: str, where: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"'{key}' must be true or false, got {value!r}", path=where, entry=name)
    return value


def _interval(value: Any, where: str, name: str) -> int:
    if value is None:
        return DEFAULT_INTERVAL_SECONDS
    match = INTERVAL_PATTERN.match(str(value).strip().lower())
    if isinstance(value, bool) or match is None:
        raise ConfigError(
            f"'interval' must look like 30m, 6h or 1d, got {value!r}", path=where, entry=name
        )
    seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
    if seconds < MIN_INTERVAL:
        raise ConfigError(
            "'interval' must be at least 1m (be polite to the sites)", path=where, entry=name
        )
    return seconds


def parse_contact(raw: Any, where: str = "watchlist") -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str) or not CONTACT.match(raw.strip()):
        message = f"'contact' must be an http(s) URL or an e-mail address, got {raw!r}"
        raise ConfigError(message, path=where, entry="contact")
    return raw.strip()


def parse_feed_config(raw: Any, where: str = "watchlist") -> FeedConfig:
    """Validates the `feeds:` mapping (absent or empty: every default)."""
    if raw is None:
        return FeedConfig()
    if not isinstance(raw, dict):
        raise ConfigError(f"expected a mapping with keys {', '.join(FEED_KEYS)}", path=where,
                          entry="feeds")  # fmt: skip
    unknown = sorted(map(str, set(raw) - set(FEED_KEYS)))
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(FEED_KEYS)})",
                          path=where, entry="feeds")  # fmt: skip
    for key in ("title", "description", "author"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise ConfigError(f"'{key}' must be a non-empty text", path=where, entry="feeds")
    base_url = raw.get("base_url")
    if base_url is not None:
        if not isinstance(base_url, str):
            raise ConfigError("'base_url' must be an http(s) URL", path=where, entry="feeds")
        _check_url(base_url, where, "feeds", key="base_url")
    return FeedConfig(
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
                          f"got {value!r}", path=where, entry="feeds")  # fmt: skip
    return value
