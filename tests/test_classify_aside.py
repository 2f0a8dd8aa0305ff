"""The kept-aside rounds (tests/data/classify_aside.yaml, classify_aside2.yaml ...
classify_aside4.yaml) never get worse.

Each set was scored once, untuned (bench/CLASSIFY.md, "Kept-aside round", "Kept-aside
round 2" ... "Kept-aside round 4"); its misses stay misses until a wording family fixes
them. This floor catches a rule edit that loses what a set found or adds a false alarm on
it, per language."""

from pathlib import Path

import pytest
import yaml

from monitor.classify import classify

DATA = Path(__file__).parent / "data"

# (set, language): (training sentences in the set; found of them, at least; false alarms,
# at most)
FLOOR = {
    ("classify_aside.yaml", "en"): (78, 77, 0),
    ("classify_aside.yaml", "fr"): (79, 74, 0),
    # en pack 11 (en8a: task-named models, structure; en8b: evaluation, data passed on): 71 -> 81
    ("classify_aside2.yaml", "en"): (86, 81, 0),
    ("classify_aside2.yaml", "fr"): (86, 83, 0),  # fr pack 12 (fr8): 81 -> 83
    # scored untuned on main c335de3 and on rules v12 alike
    ("classify_aside3.yaml", "en"): (110, 108, 0),
    ("classify_aside3.yaml", "fr"): (90, 85, 1),
    # written 2026-12-04 evening, scored untuned on main 160939a (86/1, 71/0) and on the
    # merge (en pack 12: 87/1; the fr pack's gates split: 71/0)
    ("classify_aside4.yaml", "en"): (115, 87, 1),
    ("classify_aside4.yaml", "fr"): (90, 71, 0),
}


def counts(name: str, lang: str) -> tuple[int, int, int]:
    """Training sentences found, training sentences in all, false alarms."""
    written = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    cases = [c for c in written if c.get("lang", "en") == lang]
    found = positives = false = 0
    for case in cases:
        flagged = bool(classify("", case["text"]).flags)
        if case["expect"] == "training":
            positives += 1
            found += flagged
        else:
            false += flagged
    return found, positives, false


@pytest.mark.parametrize(("name", "lang"), sorted(FLOOR))
def test_aside_round_keeps_its_floor(name: str, lang: str) -> None:
    found, positives, false = counts(name, lang)
    written, least, most = FLOOR[name, lang]
    assert positives == written, f"{name} {lang}: {positives} training sentences, not {written}"
    assert found >= least, f"{lang}: {found} of {positives} found, the floor is {least}"
    assert false <= most, f"{lang}: {false} false alarms, the ceiling is {most}"
