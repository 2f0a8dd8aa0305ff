"""A first check's shortcuts give what the long way gave (issue 15, start-up): the rule packs
read back from their memo, the board's training-only matching, the XML character filter."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import yaml

from monitor.classify import RULES_DIR, packmemo, packs, regex_cache
from monitor.classify.packs import load_rules, match_sentence
from monitor.extract.html import extract_text
from monitor.publish import entry_html

DATA = Path(__file__).parent / "data"


def _sentences() -> list[str]:
    """Every example sentence of the packs and the held-out cases, and the board pages'."""
    cases = yaml.safe_load((DATA / "classify_heldout.yaml").read_text(encoding="utf-8"))
    texts = [str(case["text"]) for case in cases]
    for path in sorted(RULES_DIR.glob("*.yaml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            texts += rule["examples"]["positive"] + rule["examples"]["negative"]
    for page in sorted((DATA / "board_pages").glob("*.html")):
        text = extract_text(page.read_bytes(), "text/html")
        texts += [line for line in text.splitlines() if line.strip()]
    return texts


def test_the_boards_training_only_match_is_the_training_part_of_a_match() -> None:
    rules = load_rules()
    sentences = _sentences()
    assert len(sentences) > 1000
    kinds = set()
    for sentence in sentences:
        whole = match_sentence(sentence, rules)
        kinds.add(whole.rule.kind if whole else None)
        expected = whole if whole and whole.rule.kind == "training" else None
        assert match_sentence(sentence, rules, training_only=True) == expected, sentence
    assert kinds == {"training", "ai_related", None}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(regex_cache.ENV, str(tmp_path / "cache"))
    packs._parsed.cache_clear()
    yield tmp_path / "cache"
    packs._parsed.cache_clear()


def test_a_pack_read_from_its_memo_is_the_pack_parsed(cache: Path) -> None:
    parsed = load_rules()  # parsed from the YAML, and kept
    memos = sorted(cache.glob("*.rules*"))
    assert len(memos) == len(list(RULES_DIR.glob("*.yaml")))
    packs._parsed.cache_clear()
    again = load_rules()  # read back
    assert again is not parsed
    assert [packmemo.to_memo(r) for r in again] == [packmemo.to_memo(r) for r in parsed]
    assert [r.gates.keys() for r in again] == [r.gates.keys() for r in parsed]  # in order


@pytest.mark.parametrize("damage", ["bytes", "checksum", "shape"])
def test_a_damaged_memo_is_parsed_again(cache: Path, damage: str) -> None:
    expected = [packmemo.to_memo(r) for r in load_rules()]
    for memo in cache.glob("*.rules*"):
        data = memo.read_bytes()
        if damage == "bytes":
            memo.write_bytes(data[: len(data) // 2])
        elif damage == "checksum":  # one byte changed inside a pattern: the checksum fails
            memo.write_bytes(data[:-20] + bytes([data[-20] ^ 1]) + data[-19:])
        else:  # read back whole, but not a rule set
            regex_cache.store_memo(memo.name, ("en", "not a version", "x", (), (), (), ()))
    packs._parsed.cache_clear()
    assert [packmemo.to_memo(r) for r in load_rules()] == expected


def test_a_changed_pack_is_parsed_not_read_from_an_old_memo(cache: Path, tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    pack = (RULES_DIR / "en.yaml").read_text(encoding="utf-8")
    (folder / "en.yaml").write_text(pack, encoding="utf-8")
    assert load_rules(folder)[0].version == load_rules()[0].version
    (folder / "en.yaml").write_text(pack.replace("\nversion: ", "\nversion: 9"), encoding="utf-8")
    packs._parsed.cache_clear()
    assert load_rules(folder)[0].version == int(f"9{load_rules()[0].version}")


def test_an_edit_of_the_parsing_code_keeping_size_and_mtime_names_another_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The memo is named by the code's stat, not its bytes (start-up I/O): an edit that
    # keeps the size and puts the mtime back (`cp -p`, `rsync -a`, a wheel's fixed
    # timestamps) still changes the ctime, so a memo of the old code is never read.
    sources = []
    for source in packmemo._SOURCES:
        copy = tmp_path / source.name
        copy.write_bytes(source.read_bytes())
        sources.append(copy)
    monkeypatch.setattr(packmemo, "_SOURCES", tuple(sources))
    packmemo.code_identity.cache_clear()
    before = packmemo.code_identity()
    kept = sources[0].stat()
    time.sleep(0.02)  # past the file system's clock tick (a jiffy)
    sources[0].write_bytes(sources[0].read_bytes().replace(b"def ", b"def_", 1)[: kept.st_size])
    os.utime(sources[0], ns=(kept.st_atime_ns, kept.st_mtime_ns))
    assert sources[0].stat().st_size == kept.st_size
    assert sources[0].stat().st_mtime_ns == kept.st_mtime_ns
    packmemo.code_identity.cache_clear()
    try:
        assert packmemo.code_identity() != before
    finally:
        monkeypatch.undo()
        packmemo.code_identity.cache_clear()


def test_the_xml_filter_drops_exactly_the_characters_xml_does_not_allow() -> None:
    kept = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    every = "".join(chr(c) for c in range(0x110000))
    assert entry_html._NOT_XML.findall(every) == kept.findall(every)
    assert entry_html.clean_text("a\x00b\x9bc\ufffed\U0001f600") == "abcd\U0001f600"
