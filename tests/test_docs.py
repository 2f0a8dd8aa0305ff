"""The README is tested: its example watchlist loads; every command, option, key is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml

from monitor.cli import cli
from monitor.watchlist import OPTIONAL_KEYS, REQUIRED_KEYS, parse_watchlist

README = (Path(__file__).parents[1] / "README.md").read_text()
COMMANDS = sorted(cli.commands)


def test_readme_example_watchlist_is_valid() -> None:
    block = re.search(r"```yaml\n(.*?)```", README, re.S)
    assert block is not None
    watches = parse_watchlist(yaml.safe_load(block.group(1)), "README")
    used = {key for w in watches for key, value in vars(w).items() if value}
    assert set(REQUIRED_KEYS + OPTIONAL_KEYS) <= used | {"interval"}


@pytest.mark.parametrize("key", REQUIRED_KEYS + OPTIONAL_KEYS)
def test_every_watchlist_key_is_documented(key: str) -> None:
    assert f"| `{key}` |" in README


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_and_option_is_documented(name: str) -> None:
    command = cli.commands[name]
    row = next((line for line in README.splitlines() if line.startswith(f"| `{name}")), None)
    assert row is not None, f"README has no row for `{name}`"
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "data_dir":  # documented once
            assert any(opt in row for opt in param.opts), f"{name} {param.opts} not in README"
    assert command.help, f"{name} has no help text"


def test_readme_names_the_two_commands() -> None:
    assert "make run" in README and "make test" in README and "make demo" in README
