"""The terminal diff one side per line, and the unified diff of `evidence`: data-driven on
the diff cases (their rows rebuild both texts; the unified diff applies with the real
`patch`), and the real CLI on a pseudo-terminal (colour) and a pipe (marks)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor import linediff
from monitor.diff import diff_texts
from monitor.views import PLAIN
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer

DATA = Path(__file__).parent / "data"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "diff_cases.yaml").read_text())
LAYOUTS: list[dict[str, Any]] = yaml.safe_load((DATA / "linediff_cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rows_rebuild_both_texts(case: dict[str, Any]) -> None:
    rows = linediff.rows(diff_texts(case["old"], case["new"]).ops)
    assert "\n".join(r.text for r in rows if r.side != "+") == case["old"]
    assert "\n".join(r.text for r in rows if r.side != "-") == case["new"]


@pytest.mark.parametrize("case", LAYOUTS, ids=[c["name"] for c in LAYOUTS])
def test_one_side_per_line(case: dict[str, Any]) -> None:
    ops = diff_texts(case["old"], case["new"]).ops
    hunks = linediff.shown(linediff.rows(ops), 1)
    shown = ["…" if k else "" for k in range(len(hunks))]
    lines = []
    for mark, hunk in zip(shown, hunks, strict=True):
        lines += [mark] if mark else []
        lines += [f"{r.side} {linediff.marked(r, PLAIN.word)}" for r in hunk]
    assert lines == case["lines"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_unified_diff_applies_with_patch(case: dict[str, Any], tmp_path: Path) -> None:
    old, new = case["old"] + "\n", case["new"] + "\n"  # patch works on whole lines
    (tmp_path / "text").write_text(old)
    unified = linediff.unified(diff_texts(old, new).ops, "a", "b")
    if old == new:
        assert unified == "--- a\n+++ b\n"  # nothing to patch
        return
    (tmp_path / "change.diff").write_text(unified)
    done = subprocess.run(["patch", "-s", "text", "change.diff"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "text").read_text() == new


@pytest.fixture
def two_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    with LocalServer() as server:
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        args = ["--watchlist", str(watchlist), "--data", str(tmp_path / "data"), "--delay", "0"]
        for extra in ("<li>We keep your data safe.</li>", "<li>We keep your data forever.</li>"):
            server.route("/p", body=policy(extra=extra))
            assert run_cli(capsys, "check", *args).code == 0
    return tmp_path / "data"


def test_piped_diff_marks_words_on_separate_lines(
    two_versions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_cli(capsys, "diff", "doc", "--data", str(two_versions)).out
    assert "\n- - We keep your data [-safe-].\n+ - We keep your data {+forever+}.\n" in out
    assert "\x1b" not in out


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Runs the CLI with a pseudo-terminal as stdout; returns what it wrote."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "monitor", *args], stdout=child,
                            stderr=subprocess.PIPE, env=env)  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, err = proc.communicate(timeout=30)
    os.close(main)
    assert proc.returncode == 0, err
    return b"".join(chunks).decode()


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
def test_terminal_diff_is_coloured_unless_no_color(two_versions: Path, no_color: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    out = _on_a_terminal(["diff", "doc", "--data", str(two_versions)], env)
    if no_color:
        assert "\x1b[" not in out and "[-safe-]" in out
    else:
        assert "\x1b[31m- - We keep your data " in out  # the old line in red
        assert "\x1b[1m\x1b[4msafe" in out and "[-safe-]" not in out  # the word, no marks
        assert "\x1b[32m+ - We keep your data " in out
