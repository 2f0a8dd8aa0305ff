"""Compiled templates kept between processes (publish/site/templates.py): the same pages,
and a cache folder that is odd, damaged or not this user's alone is never trusted or
waited on (the site is then compiled as before)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import cachedir

RENDER = """
import dataclasses, sys
from monitor.publish.settings import DEFAULT_SETTINGS
from monitor.publish.site.index import index_html
settings = dataclasses.replace(DEFAULT_SETTINGS, description="D & <b>")
sys.stdout.write(index_html([], settings).decode())
"""


def render_in_child(cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, cachedir.ENV: str(cache)}
    return subprocess.run([sys.executable, "-c", RENDER], capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip


@pytest.fixture
def reference(tmp_path: Path) -> str:
    """The page compiled from source (a cache folder nobody may use: group-writable)."""
    folder = tmp_path / "shared"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates").chmod(0o777)
    run = render_in_child(folder)
    assert run.returncode == 0, run.stderr
    assert list((folder / "templates").iterdir()) == []  # not trusted: nothing written
    return run.stdout


def test_cached_templates_render_the_same_page(tmp_path: Path, reference: str) -> None:
    cache = tmp_path / "cache"
    first, second = render_in_child(cache), render_in_child(cache)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    stored = sorted((cache / "templates").glob("*.jinja"))
    assert stored, "the compiled templates were not kept"
    assert oct((cache / "templates").stat().st_mode & 0o777) == oct(0o700)
    assert first.stdout == second.stdout == reference
    assert "D &amp; &lt;b&gt;" in reference


def test_damaged_or_odd_cache_files_are_compiled_again(tmp_path: Path, reference: str) -> None:
    cache = tmp_path / "cache"
    assert render_in_child(cache).returncode == 0
    stored = sorted((cache / "templates").glob("*.jinja"))
    for k, path in enumerate(stored):
        path.unlink()
        if k % 2:
            os.mkfifo(path)  # a FIFO: reading it would block the check for ever
        else:
            path.write_bytes(b"j2" + os.urandom(64))  # garbage after Jinja's magic
    run = render_in_child(cache)
    assert run.returncode == 0, run.stderr
    assert run.stdout == reference
