"""`changes --json` builds its records straight from the store's listing rows: the same
records as ``change_dict`` of each ``Change`` (the JSON contract), for every kind of row."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import views
from monitor.models import Change, Flag, Origin, Watch
from monitor.store import Store
from monitor.views import safe
from tests.cli_helpers import run_cli

AT = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
GRANT = Flag("We train our models on your posts.", "added", "train our models", "model-training",
             "r1")  # fmt: skip
OPT_OUT = Flag("You can opt out.", "removed", "opt out", "opt-out", "r2")
RELATED = Flag("We use AI to sort your feed.", "added", "AI", "ai-use", "r3")
CHANGES = [  # flags, ai_related, note, origin
    ((), (), "", None),
    ((GRANT,), (), "", None),
    ((GRANT, OPT_OUT), (RELATED,), "held as suspect since then and seen again", None),
    ((OPT_OUT,), (), "", Origin("wayback", "20250101000000", AT)),
    ((), (RELATED,), "returned to the text of v1", Origin("ota", "", AT)),
]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path)
    store.sync_documents([Watch("a", "Ä Co", "Terms", "https://a.test/"),
                          Watch("b", "B", "Privacy", "https://b.test/")], AT)  # fmt: skip
    for i, (flags, related, note, origin) in enumerate(CHANGES):
        store.add_change(Change(
            id=0, document="ab"[i % 2], company="", title="", url="", detected_at=AT,
            kind="changed" if i else "first", from_version=i or None, to_version=i + 1,
            added_chars=10 * i, removed_chars=i, diff_text="{+x+}", flags=flags,
            ai_related=related, note=note, classifier="rules5", origin=origin,
        ))  # fmt: skip
    return store


@pytest.mark.parametrize(("document", "ai_only"), [(None, False), ("a", False), (None, True)])
def test_records_from_rows_are_the_records_of_the_changes(
    store: Store, document: str | None, ai_only: bool
) -> None:
    found = store.changes(document=document, ai_only=ai_only, with_diff=False)
    rows = store.change_rows(document, ai_only)
    assert views.change_records(rows) == [views.change_dict(c) for c in found]
    assert len(found) == {None: 5, "a": 3}[document] - (2 if ai_only else 0)
    store.close()


def test_changes_json_prints_them(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(store.path.parent)
    expected = views.json_text([views.change_dict(c) for c in store.changes(with_diff=False)])
    store.close()
    out = run_cli(capsys, "changes", "--json", "--data", data).out
    assert out == expected + "\n"
    assert [r["origin"] for r in json.loads(out)] == [None, None, None, "wayback", "ota"]


# Strings a record may carry: json_text skips its scan for ASCII text without DEL (perf9),
# so each kind of character the terminal must not get raw is tried in and out of ASCII.
UNSAFE_TEXTS = ["plain", "DEL \x7f here", "NUL \x00 BEL \x07 ESC \x1b", "tab\tline\n",
                "C1 \x9b", "bidi \u202e", "isolate \u2066", "lone \ud800", "é and \x7f",
                "accents é 中文"]  # fmt: skip


@pytest.mark.parametrize("text", UNSAFE_TEXTS)
@pytest.mark.parametrize("shape", ["list", "dict"])
def test_json_text_escapes_what_the_terminal_must_not_get_raw(text: str, shape: str) -> None:
    value: object = [{"note": text}] if shape == "list" else {"note": text}
    out = views.json_text(value)
    assert not safe._UNSAFE.search(out), repr(out)
    if "\ud800" not in text:  # a lone surrogate cannot come back from UTF-8 JSON
        assert json.loads(out) == value
