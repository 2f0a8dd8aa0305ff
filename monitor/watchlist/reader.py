"""Reads a watchlist file as YAML, within limits.

A watchlist is small; a file that is not (a megabyte of text, collections nested hundreds
deep, or a "billion laughs" of aliases that a few lines expand into billions of values)
is refused with one line before anything walks it. Aliases themselves stay allowed:
``<<: *defaults`` is a fair way to share keys between entries. Parsing the largest
file allowed takes about a second with libyaml (PyYAML's own parser: several).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError

# Far above any real watchlist, far below a hang.
MAX_FILE_BYTES = 512_000  # 2,000 entries take about 150 KB
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


# libyaml's parser when PyYAML was built with it: several times faster on a big file.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_IN_PROGRESS = -1


def _load_yaml(text: str, where: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, 1, where) > MAX_NODES:
            # Aliases repeat a node without copying it; expanded, a small file can hold
            # billions of them, and printing or walking the value would never end.
            message = f"more than {MAX_NODES:,} YAML values once aliases (*name) are expanded"
            raise ConfigError(message, path=where)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, sizes: dict[int, int], depth: int, where: str) -> int:
    """How many nodes ``node`` stands for with every alias expanded (memoised: fast).

    Also refuses nesting deeper than MAX_DEPTH and an alias inside its own anchor (a
    loop), before anything recursive walks the value.
    """
    if depth > MAX_DEPTH:
        raise ConfigError(f"line {node.start_mark.line + 1}: nested deeper than "
                          f"{MAX_DEPTH} levels", path=where)  # fmt: skip
    known = sizes.get(id(node))
    if known == _IN_PROGRESS:
        message = f"line {node.start_mark.line + 1}: an alias refers to its own anchor (a loop)"
        raise ConfigError(message, path=where)
    if known is not None:
        return known
    sizes[id(node)] = _IN_PROGRESS
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    size = 1 + sum(_expanded_size(child, sizes, depth + 1, where) for child in children)
    sizes[id(node)] = min(size, MAX_NODES + 1)  # capped: the sums stay small numbers
    return sizes[id(node)]
