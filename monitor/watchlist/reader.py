"""Reads a watchlist file as YAML, within limits.

A watchlist is small; a file that is not (a megabyte of text, collections nested hundreds
deep, or a "billion laughs" of aliases that a few lines expand into billions of values)
is refused with one line before anything walks it. Aliases themselves stay allowed:
``<<: *defaults`` is a fair way to share keys between entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError

# Far above any real watchlist, far below a hang.
MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 20  # nesting of YAML collections
MAX_NODES = 200_000  # YAML values counted with every alias expanded


def read_yaml(path: str | Path) -> Any:
    """The parsed file, or one ConfigError naming it (unreadable, too big, invalid YAML)."""
    where = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ConfigError(f"file larger than {MAX_FILE_BYTES:,} bytes", path=where)
        return _load_yaml(data.decode("utf-8"), where)
    except FileNotFoundError:
        raise ConfigError("file not found (pass --watchlist FILE)", path=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", path=where) from exc
    except yaml.reader.ReaderError as exc:
        problem = f"character U+{exc.character:04X} at position {exc.position} is not allowed"
        raise ConfigError(problem, path=where) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{line}{problem}", path=where) from exc


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing collections nested deeper than MAX_DEPTH."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", mark
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _load_yaml(text: str, where: str) -> Any:
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            # Aliases repeat a node without copying it; expanded, a small file can hold
            # billions of them, and printing or walking the value would never end.
            message = f"more than {MAX_NODES:,} YAML values once aliases (*name) are expanded"
            raise ConfigError(message, path=where)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many nodes ``node`` stands for with every alias expanded (memoised: fast)."""
    if id(node) in sizes:
        return sizes[id(node)]
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, sizes) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    sizes[id(node)] = min(size, MAX_NODES + 1)  # capped: the sums stay small numbers
    return sizes[id(node)]
