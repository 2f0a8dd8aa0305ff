"""Compiled rule patterns kept on disk between processes (issue 15: start-up).

The rule packs expand into ~140 patterns of ~1.8 million characters; Python's regex
compiler (``re._parser`` and ``re._compiler``, pure Python) takes 3-4 s to compile them
all, and a check, an import or a board reading pays it again in every process. The slow
part is turning the source into SRE code, a list of integers that depends only on the
source, the flags and the Python version; the C engine builds a pattern from that list
in microseconds and validates it. So the list is kept, one file per pattern, named by a
hash of all four and the cache's ``FORMAT`` (a file of another format is never read), in
``monitor.cachedir.cache_folder("regex")`` (``$POLICY_MONITOR_CACHE``, default
``~/.cache/policy-monitor/regex``). The list is stored as machine words, deflated
(``array.tolist`` rebuilds it at twice marshal's speed); a pattern split into
alternatives (``plan_cached``) keeps each alternative's code apart, read only when that
alternative is first searched: a board reading loads 1.8 million words of code and
searches 0.8 million.

It is a memo and nothing else: the same pattern as ``re.compile`` gives (a test compares
the code), and any problem (no cache folder, a read-only disk, a damaged or foreign file,
another Python) falls back to ``re.compile`` silently.

The folder stays small as rules change: a hit marks its file used (its mtime, at most once
a day), and the first file a process writes removes the cache's files unused for
``STALE_DAYS`` and, past ``MAX_ENTRIES``, the least recently used; it removes only regular
files named as the cache names them (a reader that loses one compiles again).
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import array
import contextlib
import hashlib
import marshal
import os
import re
import stat
import sys
import tempfile
import time
import zlib
from pathlib import Path
from re import _compiler, _parser  # type: ignore[attr-defined]
from typing import Any

from monitor.cachedir import ENV as ENV  # the variable that moves the folder (tests set it)
from monitor.cachedir import cache_folder
from monitor.classify import keys, prefilter
from monitor.classify.prefilter import Needs, Starts

MAX_FILE_BYTES = 16_000_000  # the largest pattern's file is ~0.3 MB
MAX_CODE_BYTES = 32_000_000  # inflated (the largest: 2.3 MB); zlib inflates 1,000 to 1
FORMAT = 4  # of the files; 1: the key held no format; 2: the code as one marshal, deflated;
# 3: machine words; 4: a plan's entries hold the strings a match begins with
_KEY = f"format {FORMAT}|{sys.version}|{_sre.MAGIC}|{_sre.CODESIZE}".encode()
MAX_ENTRIES = 1_000  # the packs have ~140 patterns
STALE_DAYS = 30
_DAY = 86_400.0
# What _name (compiled patterns, prefilter plans) and _store (temporary files) make.
_OWN = re.compile(r"[0-9a-f]{64}\.(?:sre|plan[0-9]+|rules[0-9]+)|\.sre-[a-z0-9_]{8}\.tmp")
_pruned = False  # this process pruned the folder already
_WORD = next(code for code in "ILQ" if array.array(code).itemsize == _sre.CODESIZE)
MAX_ALTERNATIVES = 200  # a longer alternation is searched whole


def cache_dir() -> Path:
    return cache_folder("regex")


class Branch:
    """One alternative of a planned pattern: the literal words it needs and the strings
    its matches begin with (``prefilter``), and its pattern, built from its cached code on
    its first search."""

    __slots__ = ("needs", "keyed", "starts", "keyed_starts", "regex", "_source", "_flags",
                 "_entry", "groups", "start_ids", "top")  # fmt: skip

    def __init__(
        self, needs: Needs, starts: Starts, regex: re.Pattern[str] | None = None, *,
        source: str = "", flags: int = 0, entry: Any = None,
    ) -> None:  # fmt: skip
        self.needs, self.starts = needs, starts
        self.keyed = keys.keyed(needs)  # what lazy.py tests: the same, fewer tests
        self.keyed_starts = keys.keyed_starts(starts)  # what lazy.py looks for
        self.regex = regex
        self._source, self._flags, self._entry = source, flags, entry
        # the needs as a pack's vocabulary numbers them (vocab.py); until it does, a top
        # no sentence's strings reach: tested through ``keyed``
        self.groups: tuple[frozenset[int], ...] = ()
        self.start_ids: frozenset[int] = frozenset()
        self.top = sys.maxsize

    def pattern(self) -> re.Pattern[str]:
        if self.regex is None:
            parts = _decoded(self._entry)
            try:
                self.regex = _sre.compile(self._source, *parts) if parts else None
            except Exception:  # noqa: BLE001 - a memo: code that does not validate
                self.regex = None
            if self.regex is None:
                # A damaged file: the whole pattern stands in for this alternative. Its
                # leftmost match is the earliest alternative's there, so the plan's search
                # (monitor/classify/lazy.py) finds the same; and where this alternative's
                # words are missing the pattern cannot match through it.
                self.regex = compile_cached(self._source, self._flags)
                self.starts = self.keyed_starts = ()  # the whole pattern's begin anywhere
                self.top = sys.maxsize  # (so its start_ids are not used: tested the old way)
            self._entry = None
        return self.regex


def compile_cached(source: str, flags: int) -> re.Pattern[str]:
    """``re.compile(source, flags)``, its SRE code read from the cache when there."""
    try:
        path = cache_dir() / _name(source, flags)
        parts = _decoded(_load(path))
        if parts is None:
            parts = _parts(source, flags)
            _store(path, _encoded(parts))
            _prune_once(path.parent)
        pattern: re.Pattern[str] = _sre.compile(source, *parts)
        return pattern
    except Exception:  # noqa: BLE001 - a memo: on any problem, compile as usual
        return re.compile(source, flags)


def plan_cached(source: str, flags: int) -> list[Branch]:
    """``source`` as alternatives to search in turn, each with the literal words it needs
    and those its matches begin with (``prefilter``): one entry, the whole pattern, unless
    it is one alternation. Kept on disk like a compiled pattern (the analysis needs the
    parse, the slow part); each alternative's code is read when it is first searched."""
    try:
        path = cache_dir() / _name(source, flags, f"plan{prefilter.VERSION}")
        entries = _plan_entries(_load(path))
        if entries is not None:
            return [Branch(_ordered(needs), tuple(map(str, starts)), source=source,
                           flags=flags, entry=entry)
                    for entry, needs, starts in entries]  # fmt: skip
        plan = _plan(source, flags)
        _store(path, [(_encoded(parts), needs, starts) for parts, needs, starts in plan])
        return [Branch(_ordered(needs), tuple(map(str, starts)), _sre.compile(source, *parts))
                for parts, needs, starts in plan]  # fmt: skip
    except Exception:  # noqa: BLE001 - a memo: on any problem, the whole pattern, no needs
        return [Branch((), (), compile_cached(source, flags))]


def _ordered(needs: Any) -> Needs:
    """The groups with the fewest strings first: the cheapest to find missing."""
    return tuple(sorted((tuple(map(str, group)) for group in needs), key=len))


def _plan(source: str, flags: int) -> list[Any]:
    parsed = _parser.parse(source, flags)
    alternatives = prefilter.branches(parsed)
    if alternatives is None or len(alternatives) > MAX_ALTERNATIVES:
        return [(_parts(source, flags, parsed), prefilter.needs(parsed), prefilter.starts(parsed))]
    plan = []
    for item in alternatives:
        item.state = parsed.state
        plan.append((_parts(source, flags, item), prefilter.needs(item), prefilter.starts(item)))
    return plan


def _name(source: str, flags: int, kind: str = "sre") -> str:
    digest = hashlib.sha256(_KEY + f"|{flags}|".encode() + source.encode("utf-8", "surrogatepass"))
    return f"{digest.hexdigest()}.{kind}"


def _parts(source: str, flags: int, parsed: Any = None) -> tuple[Any, ...]:
    """What ``re._compiler.compile`` hands to ``_sre.compile`` after the pattern itself
    (for ``parsed``, a part of the parsed source, when given)."""
    parsed = _parser.parse(source, flags) if parsed is None else parsed
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    # Plain ints (the code holds named int constants, the flags an IntFlag): marshal-able.
    return (int(flags | parsed.state.flags), [int(op) for op in code], parsed.state.groups - 1,
            groupindex, tuple(indexgroup))  # fmt: skip


def _encoded(parts: tuple[Any, ...]) -> tuple[Any, ...]:
    """``_parts`` as stored: the code as machine words, deflated."""
    flags, code, groups, groupindex, indexgroup = parts
    words = zlib.compress(array.array(_WORD, code).tobytes(), 6)
    return (flags, words, groups, groupindex, indexgroup)


def _decoded(entry: Any) -> tuple[Any, ...] | None:
    """``_encoded``'s parts back, or None for anything else (damaged, foreign, too big)."""
    if not isinstance(entry, tuple) or len(entry) != 5 or not isinstance(entry[1], bytes):
        return None
    try:
        inflater = zlib.decompressobj()
        words = inflater.decompress(entry[1], MAX_CODE_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            return None  # past the bound (a crafted file of zeros), or cut short
        code = array.array(_WORD, words).tolist()
    except (ValueError, zlib.error):
        return None
    return (entry[0], code, *entry[2:])


def _plan_entries(loaded: Any) -> list[tuple[Any, Needs, Starts]] | None:
    """A plan file's (entry, needs, starts) triples, when it holds a list of them."""
    if not isinstance(loaded, list) or not loaded:
        return None
    for item in loaded:
        if not isinstance(item, tuple) or len(item) != 3:
            return None
        if not isinstance(item[1], tuple) or not isinstance(item[2], tuple):
            return None
    return loaded


def load_memo(name: str) -> Any:
    """What :func:`store_memo` kept under ``name`` (a file name this module's pruning
    knows), or None when it is missing or does not read back whole."""
    try:
        return _load(cache_dir() / name)
    except Exception:  # noqa: BLE001 - a memo: on any problem, none
        return None


def store_memo(name: str, value: Any) -> None:
    """Keeps ``value`` (plain data marshal writes) under ``name``; best effort."""
    try:
        path = cache_dir() / name
        _store(path, value)
        _prune_once(path.parent)
    except Exception:  # noqa: BLE001 - a memo: not kept, computed again next time
        return


def memo_name(kind: str, *parts: bytes) -> str:
    """A file name for a memo of ``kind`` made from ``parts`` (and this Python, this format)."""
    digest = hashlib.sha256(_KEY + f"|{kind}|".encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return f"{digest.hexdigest()}.{kind}"


def _load(path: Path) -> Any:
    """A file's value; None unless its checksum (the first 4 bytes, CRC-32 of the rest)
    holds: a damaged file is compiled again, never read as another pattern or plan."""
    try:
        data = _read(path)
    except OSError:
        return None
    if data is None or len(data) < 4:
        return None
    if int.from_bytes(data[:4], "big") != zlib.crc32(memoryview(data)[4:]):
        return None
    try:
        return marshal.loads(memoryview(data)[4:])
    except (ValueError, EOFError, TypeError):
        return None


def _read(path: Path) -> bytes | None:
    """The file's bytes; None for anything but a regular file under the cap (a FIFO left
    there would block every process's start-up for ever, /dev/zero fill its memory)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        data = file.read(MAX_FILE_BYTES + 1)
        if time.time() - info.st_mtime > _DAY:  # used: kept by the pruning (best effort)
            with contextlib.suppress(OSError):
                os.utime(fd)
        return data


def _store(path: Path, parts: Any) -> None:
    """Written to a temporary file and renamed: a reader never sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sre-", suffix=".tmp")
        try:
            data = marshal.dumps(parts)
            with os.fdopen(fd, "wb") as out:
                out.write(zlib.crc32(data).to_bytes(4, "big") + data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except (OSError, ValueError):
        return


def _prune_once(folder: Path) -> None:
    global _pruned
    if not _pruned:
        _pruned = True
        with contextlib.suppress(OSError):
            _prune(folder)


def _prune(folder: Path) -> None:
    """Removes the cache's files unused for STALE_DAYS (a temporary file: for a day),
    then the least recently used past MAX_ENTRIES; never a link or another file."""
    now = time.time()
    entries: list[tuple[float, str]] = []
    with os.scandir(folder) as listing:
        for entry in listing:
            if _OWN.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                entries.append((entry.stat(follow_symlinks=False).st_mtime, entry.path))
    entries.sort(reverse=True)  # the most recently used first
    for at, (mtime, path) in enumerate(entries):
        temporary = path.endswith(".tmp")
        too_old = now - mtime > (_DAY if temporary else STALE_DAYS * _DAY)
        if too_old or at >= MAX_ENTRIES:
            with contextlib.suppress(OSError):
                os.unlink(path)
