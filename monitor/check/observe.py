"""What one fetch showed, ready for the decision: the stored snapshot read into text.

The raw bytes are stored first and the text is extracted from the *stored* snapshot, so
any text the monitor ever acted on can be re-read from history. When the current version
was read by an older extractor, its snapshot is re-read too (a technical upgrade).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from monitor.errors import ExtractError, FetchError
from monitor.extract.version import EXTRACTOR_VERSION, MAX_ELEMENTS, MAX_PARSE_BYTES
from monitor.fetch.checks import locale_swap
from monitor.models import DocState, FetchResult, Validators, Watch
from monitor.store import Store, sha256

# The parser and the diff are imported only when a body is read, so a check that gets a
# 304 loads neither (the extractor's version and limits come from an lxml-free module).

ReadText = Callable[[bytes, str, tuple[str, ...], tuple[str, ...]], str]


@lru_cache(maxsize=1)  # an `auto` page is read to test for a shell, then from its snapshot
def _read_text(
    body: bytes,
    content_type: str,
    select: tuple[str, ...],
    remove: tuple[str, ...],
    max_parse_bytes: int,
    max_elements: int,
) -> str:
    from monitor.extract.html import extract_text

    return extract_text(body, content_type, select=select, remove=remove,
                        max_parse_bytes=max_parse_bytes, max_elements=max_elements)  # fmt: skip


@dataclass(frozen=True)
class Extractor:
    """The text reader, its version (a new version re-reads history: an upgrade) and the
    limits of what it parses (`--max-page-mb`, `--max-elements`)."""

    version: str = EXTRACTOR_VERSION
    read: ReadText | None = None  # None: monitor.extract with the limits below
    max_parse_bytes: int = MAX_PARSE_BYTES
    max_elements: int = MAX_ELEMENTS

    def text(
        self, body: bytes, content_type: str, select: tuple[str, ...], remove: tuple[str, ...]
    ) -> str:
        if self.read is not None:
            return self.read(body, content_type, select, remove)
        limits = (self.max_parse_bytes, self.max_elements)
        return _read_text(body, content_type, select, remove, *limits)


@dataclass(frozen=True)
class Observation:
    """One fetch as the decision sees it.

    ``kind``: "error" (no response), "not-modified" (304), "unreadable" (a body with no
    policy text) or "page" (a body and its text).
    """

    kind: str
    at: datetime
    attempt: Mapping[str, Any] = field(default_factory=dict)  # the fetch row's details
    error: str = ""
    text: str = ""
    key: str = ""  # hash of the words (diff.words_key): layout-only edits share it
    snapshot: str | None = None
    validators: Validators = Validators()
    extractor: str = EXTRACTOR_VERSION
    reread: str | None = None  # the current version's snapshot read by this extractor
    sent: Validators | None = None  # a 304's: the validators it answered (None: unknown)


@lru_cache(maxsize=8)  # prepare and transaction, a history's steps: the same text again
def text_key(text: str) -> str:
    from monitor.diff import words_key

    return sha256(words_key(text).encode())


def observe(
    store: Store,
    watch: Watch,
    result: FetchResult | FetchError,
    state: DocState,
    now: datetime,
    extractor: Extractor | None = None,
) -> Observation:
    """Stores the raw snapshot (if any) and reads it back into text; ``now`` dates it."""
    extractor = extractor or Extractor()
    if isinstance(result, FetchError):
        attempt = {"started_at": now, "duration": 0.0, "http_status": result.status,
                   "url": result.url or watch.url}  # fmt: skip
        return Observation("error", now, attempt, error=str(result), extractor=extractor.version)
    reread = _reread(store, watch, state, extractor)
    seen = Observation("not-modified", now, _attempt(result), extractor=extractor.version,
                       reread=reread, sent=result.sent)  # fmt: skip
    if result.not_modified:  # the fetcher trusts a 304 only as the answer to validators
        return seen
    digest = store.save_snapshot(result.body, result.content_type, result.fetched_at, watch.id)
    body, content_type = store.snapshot(digest)
    validators = Validators(result.header("etag"), result.header("last-modified"))
    seen = replace(seen, snapshot=digest, validators=validators)
    try:
        text = extractor.text(body, content_type, watch.select, watch.remove)
    except ExtractError as exc:
        return replace(seen, kind="unreadable", error=f"no policy text: {exc}")
    seen = replace(seen, kind="page", text=text, key=text_key(text))
    swapped = _language_swap(store, watch, state, seen, result.final_url)
    return replace(seen, kind="unreadable", error=swapped) if swapped else seen


def _language_swap(
    store: Store, watch: Watch, state: DocState, seen: Observation, final_url: str
) -> str | None:
    """Why new words are not compared: a redirect now leads to another language's page
    than the one the current version was read at (its translation is no change)."""
    current = state.current
    if current is None or seen.key in (current.key_sha256, text_key(seen.reread or "")):
        return None
    earlier = store.read_at(watch.id, current.number)
    locale = locale_swap(watch.url, final_url, earlier) if earlier else None
    if locale is None:
        return None
    return (f"redirected to locale {locale} ({final_url}), not compared: v{current.number} "
            f"was read at {earlier}, so the site now picks another language; put the "
            "locale you want in the watch URL")  # fmt: skip


def _reread(store: Store, watch: Watch, state: DocState, extractor: Extractor) -> str | None:
    """The current version's stored snapshot read again, when an older extractor read it."""
    current = state.current
    if current is None or current.extractor == extractor.version:
        return None
    body, content_type = store.snapshot(current.snapshot_sha256)
    try:
        return extractor.text(body, content_type, watch.select, watch.remove)
    except ExtractError:
        return None  # the new extractor cannot read it: keep the old text as the baseline


def _attempt(result: FetchResult) -> dict[str, Any]:
    return {"started_at": result.fetched_at, "duration": result.duration,
            "http_status": result.status, "url": result.url, "final_url": result.final_url,
            "headers": list(result.headers)}  # fmt: skip
