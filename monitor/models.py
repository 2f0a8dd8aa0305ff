"""Frozen values passed between the pipeline's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_INTERVAL_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Watch:
    """One watchlist entry: a document to monitor."""

    id: str
    company: str
    title: str
    url: str
    select: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    interval: int = DEFAULT_INTERVAL_SECONDS
    robots: bool = True  # False: fetch even where robots.txt disallows it
    fetcher: str = "auto"  # "http", "browser" (render with Chromium) or "auto" (browser if needed)


@dataclass(frozen=True)
class FeedConfig:
    """The watchlist's optional ``feeds:`` section; ``None`` keeps the built-in default."""

    base_url: str | None = None  # public URL of the feeds folder, for self-links and OPML
    title: str | None = None
    description: str | None = None
    author: str | None = None
    limit: int | None = None  # entries per feed
    include_history: bool | None = None  # show changes imported from archives too


@dataclass(frozen=True)
class WatchlistConfig:
    """Everything a watchlist file says, read and validated once."""

    documents: tuple[Watch, ...]
    feeds: FeedConfig = FeedConfig()
    contact: str = ""  # URL or e-mail for the User-Agent


@dataclass(frozen=True)
class Validators:
    """What the last good response said about itself, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """A successful HTTP exchange; ``not_modified`` means a 304 (no body)."""

    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    content_type: str
    fetched_at: datetime
    duration: float
    not_modified: bool = False
    # The validators the request was chosen to send (None: not a conditional fetch's
    # result): a 304 answers them, which may no longer be those recorded when it is read.
    sent: Validators | None = None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


@dataclass(frozen=True)
class Diff:
    """What changed between two versions of a text."""

    ops: tuple[tuple[int, str], ...]  # diff-match-patch ops: -1 removed, 0 same, 1 added
    added: tuple[str, ...]  # added passages, in document order
    removed: tuple[str, ...]
    rendered: str  # readable text rendering: [-removed-]{+added+} with context

    @property
    def is_empty(self) -> bool:
        return not self.added and not self.removed


@dataclass(frozen=True)
class Flag:
    """One sentence that speaks of AI training, with why it was flagged."""

    sentence: str
    side: str  # "added" or "removed"
    phrase: str  # the exact words that matched
    category: str  # e.g. "user-content-training", "opt-out", "legal-basis"
    rule: str  # id of the rule that matched


def flags_direction(flags: tuple[Flag, ...]) -> str | None:
    """ "added" or "removed" when all flags agree, "changed" when both occur."""
    sides = {f.side for f in flags}
    if not sides:
        return None
    return sides.pop() if len(sides) == 1 else "changed"


# Training on people's data newly allowed, or a protection against it dropped, is what
# subscribers most need to see first. A legal basis stated for training (journalist9:
# LinkedIn's "reliance on Legitimate Interests as the legal basis for training" was only
# "medium") is the company claiming that right, with no consent asked for legitimate
# interests; removed alone it protects no one (medium).
GRANTING = {"user-content-training", "public-data-training", "personal-data-training",
            "model-training", "ai-development", "legal-basis"}  # fmt: skip
PROTECTING = {"training-negation", "opt-out"}


def severity_flag(flags: tuple[Flag, ...]) -> Flag | None:
    """The first flag that makes a change "high": a granting sentence added, or a
    protecting one removed (what `explain` names as the reason)."""
    for f in flags:
        if (f.side == "added" and f.category in GRANTING) or (
            f.side == "removed" and f.category in PROTECTING
        ):
            return f
    return None


def flags_severity(flags: tuple[Flag, ...], ai_related: tuple[Flag, ...] = ()) -> str:
    """high / medium / low / none, for sorting changes."""
    if severity_flag(flags) is not None:
        return "high"
    if flags:
        return "medium"
    return "low" if ai_related else "none"


@dataclass(frozen=True)
class Classification:
    """What a diff means for subscribers."""

    flags: tuple[Flag, ...] = ()
    ai_related: tuple[Flag, ...] = ()  # AI language that is not about training

    @property
    def ai_training(self) -> bool:
        return bool(self.flags)

    @property
    def direction(self) -> str | None:
        return flags_direction(self.flags)


@dataclass(frozen=True)
class Origin:
    """Where an imported step came from: the archive, its id there, the archive's time."""

    archive: str  # "ota", "snapshots" or "wayback"
    ref: str  # the commit, the file, or the capture's timestamp
    archived_at: datetime  # when the archive saw the page (the step's time)
    # Where to cite it (journalist8): the repository (its remote URL, or the clone's folder
    # name), the snapshots' folder name or the Wayback Machine's address; and the file in
    # the repository or folder, or the capture's URL. "" in rows imported before m015.
    source: str = ""
    path: str = ""


@dataclass(frozen=True)
class Change:
    """A recorded change of a document's text, as the feed and `changes` show it."""

    id: int
    document: str
    company: str
    title: str
    url: str
    detected_at: datetime
    kind: str  # "first" (first version), "changed"
    from_version: int | None
    to_version: int
    added_chars: int
    removed_chars: int
    diff_text: str
    flags: tuple[Flag, ...] = field(default=())
    ai_related: tuple[Flag, ...] = field(default=())
    added: tuple[str, ...] = ()  # the added passages, in document order
    removed: tuple[str, ...] = ()
    # Why this change is special, for the reader: "held as suspect ... and confirmed",
    # "returned to the text of v1".
    note: str = ""
    classifier: str = ""  # version of the AI-training rules that classified it
    origin: Origin | None = None  # imported from an archive; None: seen by a live check
    # When it happened is only known to a window: from the last step (a check, or an
    # archive's) that read the old version before it, to ``detected_at`` (None: no such step).
    opened_at: datetime | None = None
    opened_by_archive: bool = False  # that step was an archive's, not a check

    @property
    def ai_training(self) -> bool:
        return bool(self.flags)

    @property
    def direction(self) -> str | None:
        return flags_direction(self.flags)

    @property
    def severity(self) -> str:
        return flags_severity(self.flags, self.ai_related)


@dataclass(frozen=True)
class CheckOutcome:
    """The result of checking one document once."""

    document: str
    # "first", "changed", "unchanged", "alternating", "suspect" (held), "quarantined"
    # (a wall or error page: a failed check), "failed"
    status: str
    message: str = ""
    change_id: int | None = None
    ai_training: bool = False
    failing: bool = False  # failures in a row reached the alert threshold
    state: str = ""  # the row of the decision table ("": not decided: a crash, a db error)
    # "failing": this check reached the alert threshold; "recovered": it ended such a run
    health: str | None = None
    failures: int = 0  # with health: the failures in a row of the run begun or ended
    failing_since: datetime | None = None  # with "failing": that run's first failure


@dataclass(frozen=True)
class Version:
    """A distinct extracted text of a document; numbered from 1 per document."""

    document: str
    number: int
    text_sha256: str
    key_sha256: str  # hash of the words alone: versions differing only in layout share it
    snapshot_sha256: str
    first_seen: datetime
    last_seen: datetime
    text: str = ""
    extractor: str = ""  # version of the extractor that read this text from the snapshot
    upgrade: bool = False  # a technical upgrade's new baseline, not a change of the page
    origin: Origin | None = None  # imported from an archive; None: seen by a live check


@dataclass(frozen=True)
class Held:
    """A text that looks like a broken page, waiting to be seen again before it counts."""

    key: str
    reason: str
    since: datetime


@dataclass(frozen=True)
class DocState:
    """Everything a check's decision needs to know about a document, loaded at once."""

    document: str
    current: Version | None = None  # with its text
    held: Held | None = None
    failures: int = 0  # failed checks in a row before this one
    last_full_fetch: datetime | None = None  # last time a whole body came back (200)
    validators: Validators = Validators()  # those of the current version's response
    last_number: int = 0  # highest version number so far
    keys: tuple[tuple[str, int], ...] = ()  # (words hash, latest version number with it)
    # Versions seen by successful checks within the A/B window, oldest first.
    recent: tuple[int, ...] = ()

    def version_with_key(self, key: str) -> int | None:
        return next((number for k, number in self.keys if k == key), None)


@dataclass(frozen=True)
class Upgrade:
    """A technical upgrade: the current snapshot re-read by a new extractor."""

    id: int
    document: str
    at: datetime
    from_version: int
    to_version: int
    old_extractor: str
    new_extractor: str


@dataclass(frozen=True)
class FetchAttempt:
    """One recorded fetch of a document, successful or not."""

    id: int
    document: str
    started_at: datetime
    duration: float
    result: str  # "ok", "not-modified", "failed"
    http_status: int | None
    error: str
    snapshot_sha256: str | None


@dataclass(frozen=True)
class DocumentStatus:
    """What `status` shows for one document."""

    document: str
    company: str
    title: str
    url: str
    last_fetch: FetchAttempt | None
    versions: int
    current_version: int | None
    last_change: datetime | None
    consecutive_failures: int
    suspect: str = ""  # why the latest text is held back, when it is
    failing_since: datetime | None = None  # set while monitoring of it is failing
    # The latest fetch by this monitor itself (an import's steps are the archive's, not
    # checks): None for a document whose history was only imported (journalist8).
    last_live_check: datetime | None = None
    # Responses held back (walls quarantined, texts held as suspect: `held` lists them)
    held_responses: int = 0
    last_held: datetime | None = None  # the newest of them


@dataclass(frozen=True)
class HealthEvent:
    """Monitoring of a document started failing (after N failures in a row) or recovered."""

    id: int
    document: str
    at: datetime
    kind: str  # "failing" or "recovered"
    failures: int
    error: str


@dataclass(frozen=True)
class BoardEntry:
    """One cell of the AI-training status board as recorded at a time (issue 16).

    ``kind``: "first" (the document's first reading), "change" (the value or what it names
    moved: one board-feed entry), "cite" (same value, the sentence it rests on changed),
    "rules" (new board rules or a newer extractor moved it: no entry), "variant" (a flip
    between A/B or regional variants of the page moved it: no entry).
    ``sentence_version`` is the first version whose text has ``sentence``, ``first_seen``
    that version's first-seen time, ``evidence_change`` the change that recorded it (or,
    for a cell with no sentence, the change that recorded ``version``).
    """

    id: int
    document: str
    cell: str
    at: datetime
    version: int  # the document's version the cell was read from
    value: str  # "yes", "no" or "not stated"
    which: tuple[str, ...] = ()
    sentence: str = ""
    where: str = ""
    sentence_version: int | None = None
    first_seen: datetime | None = None
    evidence_change: int | None = None
    kind: str = "first"
    previous_value: str = ""
    previous_which: tuple[str, ...] = ()
    previous_sentence: str = ""
    rules: str = ""
    company: str = ""
    title: str = ""
    url: str = ""
