"""What an operator running policy-monitor from cron and as a daemon was not told (branch
ops9): where to look at a quarantined page, how many responses were held back, that an
imported document is not monitored, leftover claim files, a missing dependency.

Real processes (the CLI as a subprocess), real SQLite files, local servers on 127.0.0.1;
each case once went wrong (see bench/HOSTILE.md, "ops9")."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.cli_helpers import policy, write_watchlist
from tests.httpserver import LocalServer
from tests.test_hostile_states import WALL
from tests.test_ops_faults import cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli(*args), capture_output=True, text=True, timeout=120)


def _check_wall(tmp_path: Path, *extra: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A sweep of a login wall ("help") and a policy ("ok"), once per ``extra`` run."""
    data = tmp_path / "data dir"  # a space: the command printed must still be exact
    tmp_path.mkdir(exist_ok=True)
    with LocalServer() as server:
        server.route("/help", body=WALL)
        server.route("/ok", body=policy())
        wl = write_watchlist(tmp_path / "w.yaml", {"help": server.url("/help"),
                                                   "ok": server.url("/ok")})  # fmt: skip
        checked = run("check", "--watchlist", str(wl), "--data", str(data), "--delay", "0", *extra)
    return data, checked


# -- 1. the quarantined line says how to look at the page ---------------------------------------
def test_a_quarantined_line_names_the_held_command_to_look_at_it(tmp_path: Path) -> None:
    # Before: `help: quarantined, not recorded: looks like a login wall ...` and nothing
    # more: the operator had to know that `held` exists, and with which data directory.
    data, checked = _check_wall(tmp_path)
    assert checked.returncode == 0, checked  # a wall once is a blip (README's exit status)
    (line,) = [x for x in checked.stdout.splitlines() if x.startswith("help: ")]
    command = f"policy-monitor held help --data {shlex.quote(str(data))}"
    assert line.startswith("help: quarantined, not recorded: looks like a login wall"), line
    assert line.endswith(f"; `{command}` shows it"), line
    # the command printed works as printed (the one line it lists is this wall)
    shown = run(*shlex.split(command)[1:])
    assert shown.returncode == 0 and " help quarantined snapshot " in shown.stdout, shown
    # logfmt (and so the daemon's log) carries it in its message
    _, logged = _check_wall(tmp_path / "again", "--logfmt")
    (fields,) = [x for x in logged.stdout.splitlines() if "document=help" in x]
    assert "status=quarantined" in fields and "`policy-monitor held help --data " in fields


# -- 2. status counts the responses held back ----------------------------------------------------
def test_status_counts_the_held_responses_and_dates_the_newest(tmp_path: Path) -> None:
    # Before: `status` said `failed (quarantined, ...)` for the latest check only; two
    # walls a day earlier, then a good fetch, left no trace in it (nor in --json).
    data, _ = _check_wall(tmp_path)
    _check_wall(tmp_path)
    listed = {s["document"]: s for s in json.loads(run("status", "--json", "--data",
                                                       str(data)).stdout)}  # fmt: skip
    newest = run("held", "help", "--data", str(data)).stdout.splitlines()[1].split()[1]
    assert (listed["help"]["held_responses"], listed["help"]["last_held"]) == (2, newest)
    assert (listed["ok"]["held_responses"], listed["ok"]["last_held"]) == (0, None)
    text = run("status", "--data", str(data)).stdout
    (row,) = [x for x in text.splitlines() if x.startswith("help ")]
    assert f"[2 responses held back, newest {newest}: `policy-monitor held help`]" in row, row
    (ok,) = [x for x in text.splitlines() if x.startswith("ok ")]
    assert "held back" not in ok, ok


# -- 3. an imported-only document is not "monitoring: ok" ----------------------------------------
def test_status_json_says_an_imported_only_document_is_not_checked_yet(tmp_path: Path) -> None:
    # Before: "monitoring": "ok" for a document whose every step came from an archive
    # (only "checked_live": false told): a script reading `monitoring` saw it as watched.
    saved = tmp_path / "saved"
    saved.mkdir()
    for name, extra in (("2024-06-26T10:00:00Z", ""), ("2024-07-01T10:00:00Z", "<li>New.</li>")):
        (saved / f"{name}.html").write_bytes(policy(extra=extra))
    data = tmp_path / "data"
    with LocalServer() as server:
        server.route("/p", body=policy())
        wl = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        imported = run("import", "snapshots", str(saved), "--document", "doc",
                       "--watchlist", str(wl), "--data", str(data))  # fmt: skip
        assert imported.returncode == 0, imported
        (before,) = json.loads(run("status", "--json", "--data", str(data)).stdout)
        assert run("check", "--watchlist", str(wl), "--data", str(data)).returncode == 0
        (after,) = json.loads(run("status", "--json", "--data", str(data)).stdout)
    assert (before["monitoring"], before["checked_live"]) == ("not-checked-yet", False), before
    assert (after["monitoring"], after["checked_live"]) == ("ok", True), after
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\S+", after["last_live_check"]), after


# -- 5. a dependency missing after a `git pull` --------------------------------------------------
ROOT = Path(__file__).parents[1]


def _site_without(tmp_path: Path, hidden: str) -> Path:
    """The venv's site-packages as links, but for ``hidden`` (its module and metadata):
    what a checkout pulled past a new dependency runs with until `make install`."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    farm = tmp_path / f"site-without-{hidden}"
    farm.mkdir()
    for entry in site.iterdir():
        if entry.name.split("-")[0].split(".")[0].lower() != hidden.lower():
            (farm / entry.name).symlink_to(entry)
    return farm


@pytest.mark.parametrize("hidden", ["ahocorasick_rs", "click", "zstandard"])
@pytest.mark.parametrize("command", [("check",), ("status", "--json"), ("--help",)])
def test_a_missing_dependency_is_one_line_naming_it_and_what_to_run(
    tmp_path: Path, hidden: str, command: tuple[str, ...]
) -> None:
    # Before: `.venv/bin/policy-monitor check` after a `git pull` that added ahocorasick-rs
    # (no `make` run since) printed a 30-line traceback ending in ModuleNotFoundError.
    farm = _site_without(tmp_path, hidden)
    data = tmp_path / "data"
    with LocalServer() as server:
        server.route("/p", body=policy())
        wl = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        args = [*command, "--watchlist", str(wl)] if command == ("check",) else [*command]
        if command != ("--help",):
            args += ["--data", str(data)]
        # the venv's own entry script; -S: no site-packages but the one given (the
        # editable install's hook is a .pth, so the checkout is on PYTHONPATH too)
        script = Path(sys.executable).parent / "policy-monitor"
        proc = subprocess.run(
            [sys.executable, "-S", str(script), *args],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": f"{farm}{os.pathsep}{ROOT}"},
        )  # fmt: skip
    assert (proc.returncode, proc.stdout) == (2, ""), proc
    (line,) = proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr
    assert line.startswith(f"error: the Python module {hidden} (package "), line
    assert f"is not installed for {sys.executable}" in line, line
    assert f"run `make install` in {ROOT}" in line, line
    assert f"`{sys.executable} -m pip install -e {ROOT}`" in line, line
    assert not data.exists()  # refused before anything was made


def test_every_dependency_is_checked_at_start_up() -> None:
    """pyproject's dependencies and the modules checked at start-up are the same list."""
    from importlib.metadata import packages_distributions

    from monitor.dependencies import REQUIRED

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~ \[]", d)[0].lower().replace("_", "-") for d in declared}
    assert set(REQUIRED.values()) == names
    installed = packages_distributions()
    for module, package in REQUIRED.items():
        found = {d.lower().replace("_", "-") for d in installed.get(module, [])}
        assert package in found, (module, package, found)


# -- 4. claim files, one per document ever fetched ------------------------------------------------
HOLD = """
import sys, time
from monitor.claims import Claims
claims = Claims(sys.argv[1], "daemon")
assert claims.take(sys.argv[2]) is None
print("held", flush=True)
time.sleep(120)
"""


def _claim_files(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "locks").glob("fetch-*.lock"))


def test_claim_files_go_once_released_and_a_held_one_stays(tmp_path: Path) -> None:
    # Before: data/locks/fetch-ID.lock stayed for every document ever fetched (2,000
    # documents, 2,000 files), those removed from the watchlist too.
    data = tmp_path / "data"
    with LocalServer() as server:
        server.route("/a", body=policy(title="a"))
        server.route("/b", body=policy(title="b"))
        wl = write_watchlist(tmp_path / "w.yaml", {"a": server.url("/a"), "b": server.url("/b")})
        args = ("check", "--watchlist", str(wl), "--data", str(data), "--delay", "0")
        assert run(*args).returncode == 0
        assert _claim_files(data) == []
        # what an older release left (its holders gone): removed by the next check
        for old in ("a", "gone"):
            (data / "locks" / f"fetch-{old}.lock").write_text('{"pid": 1}')
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(data), "b"],
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            checked = run(*args)
            # b is another process's: its file stays, it still holds it, the check left b
            assert _claim_files(data) == ["fetch-b.lock"], checked
            assert "b: skipped: being fetched by another process (pid " in checked.stdout
            from monitor.claims import Claims

            assert Claims(data, "check").take("b") is not None
        finally:
            holder.kill()
            holder.communicate(timeout=10)
        assert run(*args).returncode == 0
    assert _claim_files(data) == []


def test_claims_taken_and_released_at_once_never_have_two_holders(tmp_path: Path) -> None:
    """Each release removes its file: a taker that opened it before must not hold a lock
    on the removed file while another holds the new one (checked by the inode)."""
    import threading

    from monitor.claims import Claims

    holders, most, overlaps = [0], [0], []
    guard = threading.Lock()
    stop = threading.Event()

    def churn() -> None:
        claims = Claims(tmp_path, "check")  # one per thread: its own descriptors
        while not stop.is_set():
            if claims.take("doc") is None:
                with guard:
                    holders[0] += 1
                    most[0] = max(most[0], holders[0])
                    if holders[0] > 1:
                        overlaps.append(holders[0])
                time.sleep(0.001)  # long enough for a second holder to show
                with guard:
                    holders[0] -= 1
                claims.release("doc")

    threads = [threading.Thread(target=churn) for _ in range(6)]
    for thread in threads:
        thread.start()
    stop.wait(3)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert most[0] == 1 and overlaps == []
    assert _claim_files(tmp_path) == []
