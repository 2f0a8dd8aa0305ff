"""The demo's three versions: every edit applies, so `make demo` shows a diff and a flag."""

from __future__ import annotations

from monitor.demo.__main__ import EDITS, page


def test_every_edit_applies_to_the_version_before() -> None:
    for version, edits in EDITS.items():
        before = page(version - 1).decode()
        assert all(old in before for old, _ in edits), version
    assert "train our AI models" in page(3).decode()
    assert "train our AI models" not in page(2).decode()
