"""Watchlist loading: every invalid file gets one line naming the entry and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.errors import ConfigError
from monitor.extract.selectors import selector_problem
from monitor.models import DEFAULT_INTERVAL_SECONDS
from monitor.watchlist import load_config, load_watchlist, parse_watchlist

ROOT = Path(__file__).parents[1]
CASES: list[dict[str, Any]] = yaml.safe_load((ROOT / "tests/data/watchlist_cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_invalid_watchlist_names_the_problem(case: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "watchlist.yaml"
    path.write_text(case["yaml"], encoding="utf-8", errors="surrogatepass")
    with pytest.raises(ConfigError) as info:
        load_config(path, selector_problem)  # as `check` and `daemon` load it
    message = str(info.value)
    expected = [case["error"]] if isinstance(case["error"], str) else case["error"]
    assert any(words in message for words in expected), message
    assert message.startswith(str(path))
    # One line, and nothing in it a terminal would act on (escapes, bidi overrides).
    assert message.isprintable() and len(message) < 300


def test_lone_surrogate_is_named_by_entry_whatever_the_yaml_parser() -> None:
    raw = {"documents": [{"id": "a", "company": "C", "title": "P\udc80", "url": "http://x.test/"}]}
    with pytest.raises(ConfigError, match=r"entry 1 \(a\): 'title' contains a lone surrogate"):
        parse_watchlist(raw, "w.yaml")


def test_missing_file_says_how_to_pass_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_watchlist(tmp_path / "nope.yaml")


def test_shipped_watchlist_covers_the_five_companies() -> None:
    watches = load_watchlist(ROOT / "watchlist.yaml")
    companies = {w.company for w in watches}
    assert {"Meta", "Amazon", "OpenAI", "LinkedIn", "Google"} <= companies
    titles = " ".join(w.title for w in watches)
    for needed in ("Instagram", "Meta AI", "Alexa", "improve model performance", "Gemini"):
        assert needed in titles
    for company in companies:
        kinds = " ".join(w.title for w in watches if w.company == company).lower()
        assert "privacy" in kinds and (
            "terms" in kinds or "agreement" in kinds or "conditions" in kinds
        )


def test_optional_keys_are_parsed(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "documents:\n"
        "  - {id: a, company: C, title: T, url: 'http://x.test/', select: main,"
        " remove: ['.ad', nav], interval: 30m}\n"
        "  - {id: b, company: C, title: T, url: 'https://y.test/p'}\n"
    )
    first, second = load_watchlist(path)
    assert (first.select, first.remove, first.interval) == (("main",), (".ad", "nav"), 1800)
    assert (second.select, second.remove, second.interval) == ((), (), DEFAULT_INTERVAL_SECONDS)
