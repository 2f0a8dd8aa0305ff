"""What a newcomer trying the README hit: typos in a filter must say so, not print nothing.

A replayed history through the real CLI against pages on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feed_replay import HISTORY, Replay
from tests.httpserver import LocalServer

KNOWN_DOCS = ", ".join(d["id"] for d in HISTORY["documents"])
FIRST = HISTORY["documents"][0]["id"]

# (command line, the one line it must print on stderr)
TYPOS = [
    (("feed", "--document", "nope"), f"error: no document 'nope' recorded; known: {KNOWN_DOCS}"),
    (("feed", "--document", "nope", "--format", "atom", "--ai-only"), "error: no document 'nope'"),
    (("feed", "--company", "Nope"), "error: no company 'Nope' recorded; known: "),
    (("feed", "--company", "Nope", "--document", FIRST), "error: no company 'Nope'"),
    (("changes", "--document", "nope"), f"error: no document 'nope' recorded; known: {KNOWN_DOCS}"),
    (("changes", "--document", "nope", "--json"), "error: no document 'nope'"),
]


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    with LocalServer() as pages:
        replay = Replay(tmp_path_factory.mktemp("replay"), pages)
        replay.run_all()
        yield replay


@pytest.mark.parametrize(("args", "message"), TYPOS)
def test_an_unknown_document_or_company_is_a_one_line_error(
    played: Replay, args: tuple[str, ...], message: str
) -> None:
    """Was: an empty but valid feed dated 1970 (or `no changes recorded`), exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", "monitor", *args, "--data", str(played.data)],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_known_filters_still_print_their_feed(played: Replay) -> None:
    doc = HISTORY["documents"][0]
    for args in (("--document", doc["id"]), ("--company", doc["company"])):
        result = played.cli("feed", *args)
        assert result.code == 0 and "<rss" in result.out and "1970" not in result.out, args
    listed = played.cli("changes", "--document", doc["id"])
    assert listed.code == 0 and doc["id"] in listed.out
