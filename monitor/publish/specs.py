"""Which feeds exist and what they are called: everything, AI-training only, one per company,
one per document. Also the names shown to people: a document's name and its type.

A feed's ``path`` is its file name without the extension, relative to the feeds folder
(``all``, ``company/google``, ``document/google-privacy``). It is part of the feed's id and
of its public URL, so it must never change for a given company name or document id.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from monitor.models import Change, Watch
from monitor.publish.entry_html import clean_text

OVERVIEW, COMPANY, DOCUMENT = "overview", "company", "document"
# Checked in order: "Privacy terms" is a privacy document, "Terms of Service" terms.
_DOCUMENT_TYPES = (
    ("privacy", re.compile(
        r"privacy|data (policy|protection)|personal data|confidentialit|donn[ée]es personnelles"
        r"|datenschutz|privacidad|privacit", re.IGNORECASE)),
    ("terms", re.compile(
        r"\bterms\b|conditions|agreement|\beula\b|\bcgu\b|nutzungsbedingungen|\bagb\b"
        r"|t[ée]rminos|condizioni", re.IGNORECASE)),
)  # fmt: skip
_ID_SAFE = re.compile(r"[a-z0-9][a-z0-9._-]*")  # fullmatch: "abc\n" is not safe


@dataclass(frozen=True)
class FeedSpec:
    """One feed: the changes it shows, where it lives and what it is called."""

    path: str
    label: str  # "All changes", "Google", "Google Privacy Policy"
    summary: str = ""  # one sentence appended to the feed's description
    ai_only: bool = False
    company: str | None = None  # a company slug
    document: str | None = None  # a document id
    home: str | None = None  # the page the feed is about (a document's URL)
    group: str = OVERVIEW
    published: bool = True  # written to the feeds folder (so it has a self-link)

    def matches(self, change: Change) -> bool:
        if self.ai_only and not change.flags:
            return False
        if self.document is not None and change.document != self.document:
            return False
        return self.company is None or company_slug(change.company) == self.company


ALL = FeedSpec("all", "All changes")
AI_TRAINING = FeedSpec(
    "ai-training",
    "AI-training changes",
    summary="This feed: only the changes that add, remove or alter AI-training language.",
    ai_only=True,
)


def company_slug(company: str) -> str:
    """A file-name-safe, stable slug: "Smith & Co." -> "smith-co"."""
    ascii_name = unicodedata.normalize("NFKD", company).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if slug:
        return slug
    # A name with no Latin letters still needs a stable, distinct file name.
    return "company-" + hashlib.sha256(company.strip().encode()).hexdigest()[:10]


def document_type(title: str) -> str:
    """ "privacy", "terms" or "other", from the document's title."""
    return next((kind for kind, pattern in _DOCUMENT_TYPES if pattern.search(title)), "other")


def document_name(company: str, title: str) -> str:
    """The title, prefixed by the company unless it already starts with it."""
    company, title = one_line(company), one_line(title)
    if not company or _starts_with_word(title, company):
        return title or "Document"
    return f"{company} {title}".strip()


def company_feed(company: str) -> FeedSpec:
    name = one_line(company) or "Unknown company"
    slug = company_slug(company)
    return FeedSpec(
        f"company/{slug}", name, summary=f"This feed: only {name}'s documents.",
        company=slug, group=COMPANY,
    )  # fmt: skip


def document_feed(document: Watch) -> FeedSpec:
    name = document_name(document.company, document.title)
    return FeedSpec(
        f"document/{_file_safe(document.id)}", name,
        summary=f"This feed: only {name} ({one_line(document.url)}).",
        document=document.id, home=one_line(document.url) or None, group=DOCUMENT,
    )  # fmt: skip


def feed_specs(documents: Iterable[Watch]) -> list[FeedSpec]:
    """Every published feed: everything, AI-training, each company, each document."""
    docs = sorted({d.id: d for d in documents}.values(), key=lambda d: d.id)
    names: dict[str, Counter[str]] = {}
    for doc in docs:
        names.setdefault(company_slug(doc.company), Counter())[one_line(doc.company)] += 1
    # Spellings of one company ("Smith & Co.", "SMITH & CO") share a feed named by the usual one.
    usual = [min(count, key=lambda name: (-count[name], name)) for count in names.values()]
    by_company = sorted(map(company_feed, usual), key=lambda s: (s.label.casefold(), s.path))
    by_document = sorted(map(document_feed, docs), key=lambda s: (s.label.casefold(), s.path))
    return [ALL, AI_TRAINING, *by_company, *by_document]


def select_spec(
    documents: Iterable[Watch],
    *,
    ai_only: bool = False,
    company: str | None = None,
    document: str | None = None,
) -> FeedSpec:
    """The feed the `feed` command prints: a published one when the filters name one."""
    published = {spec.path: spec for spec in feed_specs(documents)}
    spec = ALL
    if document is not None:
        unknown = FeedSpec(f"document/{_file_safe(document)}", document, document=document)
        spec = published.get(unknown.path, replace(unknown, published=False))
    if company is not None:
        wanted = company_feed(company)
        if document is None:
            spec = published.get(wanted.path, replace(wanted, published=False))
        else:
            spec = _narrowed(spec, f"company/{wanted.company}", company=wanted.company)
    if ai_only:
        spec = AI_TRAINING if spec == ALL else _narrowed(spec, "ai-training", ai_only=True)
    return spec


def _narrowed(
    spec: FeedSpec, suffix: str, *, ai_only: bool = False, company: str | None = None
) -> FeedSpec:
    """A filtered view of a feed; only printed, never published, so it has no self-link."""
    return replace(
        spec, path=f"{spec.path}/{suffix}", label=f"{spec.label} ({suffix.replace('/', ' ')})",
        ai_only=spec.ai_only or ai_only, company=company or spec.company, published=False,
    )  # fmt: skip


def file_safe(document_id: str) -> str:
    """A document id as a file name: itself when safe, else a stable hash of it."""
    return _file_safe(document_id)


def _file_safe(document_id: str) -> str:
    if _ID_SAFE.fullmatch(document_id):
        return document_id
    return "doc-" + hashlib.sha256(document_id.encode()).hexdigest()[:10]


def _starts_with_word(text: str, prefix: str) -> bool:
    """True if text begins with prefix as a whole word ("Meta Terms", not "Metadata")."""
    if not text.casefold().startswith(prefix.casefold()):
        return False
    return len(text) == len(prefix) or not text[len(prefix)].isalnum()


def one_line(text: str) -> str:
    """The text on one line, without the characters XML 1.0 forbids."""
    return " ".join(clean_text(text).split())
