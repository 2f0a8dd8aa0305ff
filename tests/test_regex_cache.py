"""The on-disk memo of compiled rule patterns gives exactly what re.compile gives (a
Pattern compares equal only with the same source, flags and SRE code), and any problem
with its folder or files falls back to compiling."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest

from monitor.classify import regex_cache
from monitor.classify.packs import LazyRegex, load_rules


def rule_sources(count: int) -> list[str]:
    kept = load_rules()  # held, so its patterns stay reachable
    sources = sorted({o.source for o in gc.get_objects() if isinstance(o, LazyRegex)}, key=len)
    assert kept and len(sources) > count
    # the smallest, the largest and some between: every shape of the packs' patterns
    step = len(sources) // count
    return sources[::step][:count] + sources[-2:]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(regex_cache.ENV, str(folder))
    return folder


def test_a_cached_pattern_is_the_compiled_pattern(cache: Path) -> None:
    sources = rule_sources(8)
    first = [regex_cache.compile_cached(s, re.IGNORECASE) for s in sources]
    assert len(list(cache.glob("*.sre"))) == len(sources)
    again = [regex_cache.compile_cached(s, re.IGNORECASE) for s in sources]  # from the files
    for source, a, b in zip(sources, first, again, strict=True):
        assert a == b == re.compile(source, re.IGNORECASE)


@pytest.mark.parametrize("damage", [b"", b"not zlib", b"x\x9c\x03\x00\x00\x00\x00\x01"])
def test_a_damaged_file_is_compiled_again(cache: Path, damage: bytes) -> None:
    source = r"\b(?P<verb>train(?:s|ed|ing)?)\b .{0,40}\bmodels?\b"
    regex_cache.compile_cached(source, re.IGNORECASE)
    (path,) = cache.glob("*.sre")
    path.write_bytes(damage)
    assert regex_cache.compile_cached(source, re.IGNORECASE) == re.compile(source, re.IGNORECASE)


def test_a_file_with_one_byte_changed_is_compiled_again(cache: Path) -> None:
    """Each file carries a CRC-32 of its contents: a changed byte anywhere (a literal of
    the code, a word the prefilter needs) is never read as another pattern."""
    source = r"\b(?P<verb>train(?:s|ed|ing)?)\b .{0,40}\bmodels?\b"
    regex_cache.compile_cached(source, re.IGNORECASE)
    (path,) = cache.glob("*.sre")
    data = path.read_bytes()
    for at in range(0, len(data), 7):
        path.write_bytes(data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :])
        assert regex_cache._load(path) is None, at
    path.write_bytes(data)
    assert regex_cache._load(path) is not None


def test_an_unwritable_cache_still_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv(regex_cache.ENV, str(blocker / "regex"))
    source = r"\bAI\b"
    assert regex_cache.compile_cached(source, re.IGNORECASE) == re.compile(source, re.IGNORECASE)
    assert blocker.is_file()


ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize(
    "pack", sorted(ROOT.glob("monitor/rules/*.yaml")) + [ROOT / "monitor/board/facets.yaml"]
)
def test_libyaml_reads_every_pack_as_the_python_loader_does(pack: Path) -> None:
    import yaml

    text = pack.read_text(encoding="utf-8")
    assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text)


# three alternatives with no common start (the parser would factor it out)
SPLIT = r"train(?:s|ed|ing)? our models\b|\bopt[- ]out\b|AI (?P<what>features?)\b"


def test_a_plan_read_back_builds_each_alternative_when_first_searched(cache: Path) -> None:
    from monitor.classify.prefilter import lowered

    fresh = regex_cache.plan_cached(SPLIT, re.IGNORECASE)  # compiled, and written
    assert len(fresh) == 3 and all(branch.regex is not None for branch in fresh)
    again = regex_cache.plan_cached(SPLIT, re.IGNORECASE)  # from the file: nothing built
    assert [b.needs for b in again] == [b.needs for b in fresh]
    assert [b.regex for b in again] == [None, None, None]
    regex = LazyRegex(SPLIT)
    text = "You can opt out at any time."
    assert regex.find(text, lowered(text)).group(0) == "opt out"  # type: ignore[union-attr]
    assert regex.plan()[0].regex is None and regex.plan()[2].regex is None  # words missing
    for read, made in zip(again, fresh, strict=True):
        assert read.pattern() == made.regex  # the same source, flags and SRE code


@pytest.mark.parametrize(
    "code", [b"not zlib", b"x\x9c\x03\x00\x00\x00\x00\x01", b"x\x9cc\x00\x00\x00\x01\x00\x01"]
)
def test_an_alternative_whose_code_is_damaged_is_searched_as_the_whole_pattern(
    cache: Path, code: bytes
) -> None:
    from monitor.classify.prefilter import lowered

    regex_cache.plan_cached(SPLIT, re.IGNORECASE)
    (path,) = cache.glob("*.plan*")
    entries = regex_cache._load(path)
    for at, (entry, needs, begins) in enumerate(entries):  # each alternative damaged in turn
        damaged = list(entries)
        damaged[at] = ((entry[0], code, *entry[2:]), needs, begins)
        regex_cache._store(path, damaged)  # with its checksum: only the code is damaged
        regex = LazyRegex(SPLIT)
        for text in ("We train our models. Opt-out.", "AI features; opt out", "TRAINED", ""):
            found = regex.find(text, lowered(text))
            whole = regex.search(text)
            assert (found and found.span()) == (whole and whole.span()), (at, text)
            assert regex.found(text, lowered(text)) == (whole is not None)
