"""The board's facet pack (``facets.yaml``): data kinds, legal bases, opt-out words, where
an opt-out is, regions. Parsed once; every regex compiled case-insensitive (the compiled
code kept on disk by monitor/classify/regex_cache.py)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from monitor.classify.regex_cache import compile_cached

# libyaml's safe loader when PyYAML has it (the wheels do): 10x the pure-Python one, the
# same documents.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FACETS_FILE = Path(__file__).with_name("facets.yaml")
# One character for one, as the classifier folds them: typographic quotes, odd spaces.
FOLD = str.maketrans("’‘ʼ\u00a0\u202f\u2011", "'''  -")

Named = tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]


@dataclass(frozen=True)
class Facets:
    version: str
    data: Named
    legal_basis: Named
    regions: Named
    section_basis: tuple[re.Pattern[str], ...]
    opt_out: tuple[re.Pattern[str], ...]
    where: tuple[re.Pattern[str], ...]


def _patterns(items: Any) -> tuple[re.Pattern[str], ...]:
    # compiled once per machine, not per process (the rule packs' cache)
    return tuple(compile_cached(str(item), re.IGNORECASE) for item in items or ())


def _named(section: Any) -> Named:
    return tuple((str(name), _patterns(items)) for name, items in (section or {}).items())


@lru_cache(maxsize=2)
def load_facets(path: Path = FACETS_FILE) -> Facets:
    raw = path.read_bytes()
    data = yaml.load(raw.decode("utf-8"), Loader=_LOADER)
    digest = hashlib.sha256(raw).hexdigest()[:8]
    return Facets(
        version=f"board{data.get('version', 0)}-{digest}",
        data=_named(data.get("data")),
        legal_basis=_named(data.get("legal_basis")),
        regions=_named(data.get("regions")),
        section_basis=_patterns(data.get("section_basis")),
        opt_out=_patterns(data.get("opt_out")),
        where=_patterns(data.get("where")),
    )


# A passage is read once per training sentence in it: a paragraph of a thousand such
# sentences (one line, no bullets) was read a million times (a minute per check, the
# board's share of the sweep); each sentence's answer is remembered instead.
REMEMBERED = 4096


@lru_cache(maxsize=REMEMBERED)
def names_found(named: Named, text: str) -> tuple[str, ...]:
    """The names whose patterns are found in ``text``, in pack order."""
    text = text.translate(FOLD)
    return tuple(name for name, patterns in named if any(p.search(text) for p in patterns))


@lru_cache(maxsize=REMEMBERED)
def first_found(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    """The first match of the first pattern found in ``text`` (its span is the text's)."""
    text = text.translate(FOLD)
    return next((m for m in (p.search(text) for p in patterns) if m), None)
