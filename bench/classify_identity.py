"""Dump everything the classifier says on a fixed set of inputs, to compare two versions of
the matching code byte for byte (a speed change must not change one flag, rule or phrase).

Written: one JSON line per input, with the full result (each flag's side, category, rule
id, exact phrase and sentence, the same for the AI-related flags, and the direction and
severity computed from them) for

- every sentence of ``tests/data/classify_heldout.yaml`` and of the kept-aside
  ``tests/data/classify_aside.yaml`` (``classify("", text)``), and the same sentence
  upper-cased, lower-cased, accent-stripped and with an aside added;
- every transition of the histories under ``shared/corpus/versions`` (the texts
  ``bench/classify_eval.py`` builds), and every distinct sentence of every version
  (``match_sentence``);
- every sentence of ``shared/corpus/sentences`` (results only: no label is read, nothing
  is scored);
- every distinct sentence of every snapshot under ``shared/corpus/html`` (extracted) and
  the whole last snapshot as a new policy (what bench/classify_speed.py times);
- the packs' own examples, and two run-on paragraphs with no full stop.

Run: ``.venv/bin/python bench/classify_identity.py OUT.jsonl [--compare REF.jsonl]``;
prints the count and sha256, and with ``--compare`` the first differing lines (exit 1).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.classify_eval import CORPUS, HELDOUT, markdown_to_text  # noqa: E402
from monitor.classify import (  # noqa: E402
    RULES_DIR,
    classify,
    load_rules,
    match_sentence,
    split_sentences,  # noqa: E402
)
from monitor.extract.html import extract_text  # noqa: E402
from monitor.models import Classification, Flag, flags_severity  # noqa: E402

ASIDE = ROOT / "tests" / "data" / "classify_aside.yaml"
SENTENCES = ROOT.parent / "shared" / "corpus" / "sentences" / "sentences.jsonl"
HTML = ROOT.parent / "shared" / "corpus" / "html"


def flag(f: Flag) -> list[str]:
    return [f.side, f.category, f.rule, f.phrase, f.sentence]


def result(c: Classification) -> dict[str, object]:
    return {
        "flags": [flag(f) for f in c.flags],
        "ai_related": [flag(f) for f in c.ai_related],
        "direction": c.direction,
        "severity": flags_severity(c.flags, c.ai_related),
    }


def one(sentence: str) -> list[str] | None:
    found = match_sentence(sentence, load_rules())
    return [found.rule.id, found.rule.category, found.rule.kind, found.phrase] if found else None


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def variants(text: str) -> list[str]:
    words = text.split()
    middle = len(words) // 2
    aside = " ".join([*words[:middle], "(see below, e.g. our AI)", *words[middle:]])
    return [text.upper(), text.lower(), strip_accents(text), aside]


def heldout() -> Iterator[tuple[str, object]]:
    for name, path in (("heldout", HELDOUT), ("aside", ASIDE)):
        for n, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
            yield f"{name} {n}", result(classify("", case["text"]))
            for k, variant in enumerate(variants(case["text"])):
                yield f"{name} {n} variant {k}", result(classify("", variant))


def examples() -> Iterator[tuple[str, object]]:
    for path in sorted(RULES_DIR.glob("*.yaml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            for which in ("positive", "negative"):
                for n, text in enumerate(rule["examples"][which]):
                    yield f"example {rule['id']} {which} {n}", result(classify("", text))
                    yield f"example {rule['id']} {which} {n} old", result(classify(text, ""))


def versions() -> Iterator[tuple[str, object]]:
    seen: set[str] = set()
    for folder in sorted(p for p in CORPUS.iterdir() if (p / "labels.json").is_file()):
        files = sorted(folder.glob("[0-9][0-9][0-9][0-9].md"))
        texts = [markdown_to_text(f.read_text(encoding="utf-8")) for f in files]
        for k in range(1, len(texts)):
            yield f"transition {folder.name} {k}", result(classify(texts[k - 1], texts[k]))
        for k, text in enumerate(texts):
            for sentence in split_sentences(text):
                if sentence not in seen:
                    seen.add(sentence)
                    yield f"version {folder.name} {k} {sentence[:60]}", one(sentence)


def shared_sentences() -> Iterator[tuple[str, object]]:
    for line in SENTENCES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            yield f"sentence {row['id']}", result(classify("", row["sentence"]))


def html() -> Iterator[tuple[str, object]]:
    seen: set[str] = set()
    for folder in sorted(p for p in HTML.iterdir() if p.is_dir()):
        pages = sorted(folder.glob("*.html.gz"))
        for page in pages:
            text = extract_text(gzip.decompress(page.read_bytes()))
            for sentence in split_sentences(text):
                if sentence not in seen:
                    seen.add(sentence)
                    yield f"html {folder.name} {page.name} {sentence[:60]}", one(sentence)
            if page == pages[-1]:
                yield f"html {folder.name} whole", result(classify("", text))


def run_on() -> Iterator[tuple[str, object]]:
    words = "we train improve our systems tools the engines data your content to develop with"
    rng = random.Random(0)
    text = " ".join(rng.choice(words.split()) for _ in range(20_000))
    yield "run-on", result(classify("", text))
    yield "run-on ai", result(classify("", text.replace("tools", "AI models")))


def lines() -> Iterator[str]:
    for part in (heldout, examples, versions, shared_sentences, html, run_on):
        for key, value in part():
            yield json.dumps([key, value], ensure_ascii=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    dump = list(lines())
    data = ("\n".join(dump) + "\n").encode()
    args.out.write_bytes(data)
    print(f"{len(dump)} results, sha256 {hashlib.sha256(data).hexdigest()}")
    if args.compare is None:
        return 0
    reference = args.compare.read_text(encoding="utf-8").splitlines()
    differ = [(a, b) for a, b in zip(reference, dump, strict=False) if a != b]
    if not differ and len(reference) == len(dump):
        print(f"identical to {args.compare}")
        return 0
    print(f"DIFFERENT from {args.compare}: {len(differ)} lines, {len(reference)} vs {len(dump)}")
    for a, b in differ[:5]:
        print(f"- {a[:400]}\n+ {b[:400]}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
