"""monitor.cachedir: the one place that reads $POLICY_MONITOR_CACHE and $XDG_CACHE_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cachedir import ENV, cache_folder

# (POLICY_MONITOR_CACHE, XDG_CACHE_HOME, cache, folder); ~ is the home folder
CASES = [
    (None, None, "regex", "~/.cache/policy-monitor/regex"),
    (None, None, "templates", "~/.cache/policy-monitor/templates"),
    (None, "/xdg", "regex", "/xdg/policy-monitor/regex"),
    (None, "/xdg", "templates", "/xdg/policy-monitor/templates"),
    ("/mine", "/xdg", "regex", "/mine"),  # README: the variable names the regex folder
    ("/mine", None, "templates", "/mine/templates"),  # ... and the others are inside it
    ("", "", "regex", "~/.cache/policy-monitor/regex"),  # empty is unset
]


@pytest.mark.parametrize("chosen,xdg,name,expected", CASES)
def test_each_cache_has_its_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    chosen: str | None, xdg: str | None, name: str, expected: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("HOME", str(tmp_path))
    for variable, value in ((ENV, chosen), ("XDG_CACHE_HOME", xdg)):
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)
    assert cache_folder(name) == Path(expected.replace("~", str(tmp_path)))
