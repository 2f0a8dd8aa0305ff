"""What the feeds say about themselves (the watchlist's `feeds:` section over defaults),
apart from the feed library: a check that publishes nothing reads only this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from monitor.models import FeedConfig

# A feed entry's diff is cut at these (it links to the change's page for the rest).
DIFF_MAX_LINES = 40
DIFF_MAX_CHARS = 20_000


@dataclass(frozen=True)
class FeedSettings:
    """What the feed says about itself."""

    title: str = "policy-monitor: terms and privacy policy changes"
    # The feeds' home page when no base URL is set (with one: the index page).
    link: str = "https://github.com/policy-monitor/policy-monitor"
    description: str = (
        "Changes to the terms of service and privacy policies of Meta, Amazon, OpenAI, "
        "LinkedIn and Google, with AI-training language flagged."
    )
    author: str = "policy-monitor"
    limit: int = 50
    base_url: str = ""  # public URL of the feeds folder; "" means no self-links, relative OPML
    # An entry's diff is cut here (it links to the change's page, whose cap is page_diff_chars).
    diff_chars: int = DIFF_MAX_CHARS
    diff_lines: int = DIFF_MAX_LINES
    page_diff_chars: int = 2_000_000
    # Changes imported from an archive (issue 14) stay out of the feeds unless asked: years
    # of history must not flood subscribers as if it had just happened.
    include_history: bool = False
    # Without base_url, the feeds folder's file:// URL when the feeds are written to a folder:
    # a feed reader resolves a relative entry link against the channel's link (the project's
    # home), not the feed file, so entry links must be absolute to open the local pages.
    local_url: str = ""

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError(f"feed limit must be 0 or more, not {self.limit}")
        if min(self.diff_chars, self.diff_lines, self.page_diff_chars) < 1:
            raise ValueError("feed diff limits must be 1 or more")
        if self.base_url and urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"feed base URL must be http(s), not {self.base_url!r}")


DEFAULT_SETTINGS = FeedSettings()


def settings_from_config(config: FeedConfig) -> FeedSettings:
    """The watchlist's `feeds:` section over the defaults."""
    given = {key: value for key, value in vars(config).items() if value is not None}
    return FeedSettings(**given)


def as_utc(when: datetime) -> datetime:
    """Stored times are UTC; a naive one is read as UTC rather than rejected."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
