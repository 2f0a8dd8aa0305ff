"""Compare monitor.extract.html with off-the-shelf extractors on the real HTML histories.

For every history under ../shared/corpus/html (Open Terms Archive snapshots, ODC-BY 1.0) and
every extractor it reports:

* change precision / recall: a step is predicted as a change when its text differs from the
  previous snapshot's and from every text seen before (a return to a seen text is a revert);
  truth is OTA's `ota_new_version` with `ota_visible_text_changed`, minus steps marked
  `truth: "neutral"` and OTA reverts (both scored neither way, as ../shared/eval/replay.py does);
* OTA recall: share of the lines of OTA's reference extraction (this page's part, markdown
  stripped, normalised) found in the extracted text, averaged over the snapshots OTA wrote;
* size ratio: extracted characters / OTA characters (whitespace not counted);
* median and worst extraction time per page.

Every extractor's output goes through monitor.extract.html.normalize_text, so only what it keeps
or drops is compared, not its whitespace. Run: .venv/bin/python bench/extract_compare.py
[--only NAME ...] [--md FILE]; prints a markdown table.
"""

from __future__ import annotations

import argparse
import gzip
import html
import importlib.util
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.errors import ExtractError  # noqa: E402
from monitor.extract.html import decode, extract_text, normalize_text  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "html"
Extractor = Callable[[bytes], str]


def ours(raw: bytes) -> str:
    try:
        return extract_text(raw, "text/html")
    except ExtractError:
        return ""


def trafilatura_(raw: bytes) -> str:
    import trafilatura

    out = trafilatura.extract(decode(raw), include_tables=True, include_links=False)
    return normalize_text(out or "")


def readability_(raw: bytes) -> str:
    from bs4 import BeautifulSoup
    from readability import Document

    summary = Document(decode(raw)).summary(html_partial=True)
    return normalize_text(BeautifulSoup(summary, "lxml").get_text("\n"))


def inscriptis_(raw: bytes) -> str:
    from inscriptis import get_text

    return normalize_text(get_text(decode(raw)))


def justext_(raw: bytes) -> str:
    import justext

    paragraphs = justext.justext(raw, justext.get_stoplist("English"))
    return normalize_text("\n".join(p.text for p in paragraphs if not p.is_boilerplate))


EXTRACTORS: dict[str, Extractor] = {
    "ours": ours,
    "trafilatura": trafilatura_,
    "readability-lxml": readability_,
    "inscriptis": inscriptis_,
    "justext": justext_,
}

# The module each comparison extractor imports (ours needs none).
MODULES = {"trafilatura": "trafilatura", "readability-lxml": "readability",
           "inscriptis": "inscriptis", "justext": "justext"}  # fmt: skip

_IMAGE = re.compile(r"!\[[^\]]*\]\((?:[^()]|\([^)]*\))*\)")
# [text](target), where text may hold one level of brackets (Meta's "[Products[3]](...)")
_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_LEAD = re.compile(r"^\s*(?:>\s*)*(?:#{1,6}\s+|[*+-]\s+|\d+[.)]\s+)?")
_RULE = re.compile(r"^\s*(?:[=\-*_|: ]+)\s*$")
_TAG = re.compile(r"<[^>]+>")
_NOISE = re.compile(r"[\s|*_`#]+")


def strip_markdown(line: str) -> str:
    """OTA's markdown line to the words a reader sees (comparison form)."""
    if _RULE.match(line):
        return ""
    line = _LINK.sub(r"\1", _IMAGE.sub("", line))
    line = html.unescape(_TAG.sub("", _ESCAPE.sub(r"\1", _LEAD.sub("", line))))
    return _NOISE.sub("", normalize_text(line))


def comparable(text: str) -> str:
    lines = (line.removeprefix("- ") for line in text.split("\n"))
    return _NOISE.sub("", "".join(lines))


def ota_lines(folder: Path, snap: dict[str, object]) -> list[str]:
    ranges = snap.get("ota_other_source_lines") or []
    drop = {k for a, b in ranges for k in range(a, b + 1)}  # type: ignore[union-attr]
    lines = (folder / str(snap["ota_file"])).read_text().splitlines()
    kept = (strip_markdown(line) for k, line in enumerate(lines, 1) if k not in drop)
    return [line for line in kept if line]


def truths(folder: Path, man: dict) -> list[str]:  # type: ignore[type-arg]
    """Per snapshot: change, none or neutral (OTA revert, or a person's neutral verdict)."""
    out, prev, earlier = [], None, set()
    for i, snap in enumerate(man["snapshots"]):
        text = "\n".join(ota_lines(folder, snap)) if snap.get("ota_file") else None
        truth = "none"
        if i and snap.get("ota_new_version") and snap.get("ota_visible_text_changed"):
            truth = "neutral" if text is not None and text != prev and text in earlier else "change"
        if snap.get("truth") == "neutral":
            truth = "neutral"
        out.append(truth)
        if text is not None:
            if prev is not None and text != prev:
                earlier.add(prev)
            prev = text
    return out


def score(folder: Path, fn: Extractor) -> dict[str, object]:
    man = json.loads((folder / "manifest.json").read_text())
    truth = truths(folder, man)
    tp = fp = fn_ = 0
    prev: str | None = None
    seen: set[str] = set()
    recalls, ratios, times, fps, fns = [], [], [], [], []
    for i, snap in enumerate(man["snapshots"]):
        raw = gzip.decompress((folder / snap["file"]).read_bytes())
        t0 = time.perf_counter()
        text = fn(raw)
        times.append(time.perf_counter() - t0)
        predicted = prev is not None and text != prev and text not in seen
        if i and truth[i] != "neutral":
            tp += predicted and truth[i] == "change"
            if predicted and truth[i] == "none":
                fp += 1
                fps.append(snap["n"])
            if not predicted and truth[i] == "change":
                fn_ += 1
                fns.append(snap["n"])
        seen.add(text)
        prev = text
        if snap.get("ota_file"):
            mine, ref = comparable(text), ota_lines(folder, snap)
            recalls.append(sum(line in mine for line in ref) / len(ref))
            ratios.append(len(mine) / sum(map(len, ref)))
    return {
        "slug": man["slug"], "steps": len(truth), "tp": tp, "fp": fp, "fn": fn_,
        "fp_at": fps, "fn_at": fns, "recall_ota": statistics.mean(recalls),
        "size_ratio": statistics.mean(ratios), "t_median": statistics.median(times),
        "t_max": max(times),
    }  # fmt: skip


def prf(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def row(name: str, slug: str, r: dict) -> str:  # type: ignore[type-arg]
    p, rc = prf(r["tp"], r["fp"], r["fn"])
    where = ", ".join(
        [f"fp@{n}" for n in r.get("fp_at", [])[:6]] + [f"fn@{n}" for n in r.get("fn_at", [])[:6]]
    )
    return (
        f"| {name} | {slug} | {p:.3f} | {rc:.3f} | {r['tp']}/{r['fp']}/{r['fn']} "
        f"| {r['recall_ota']:.3f} | {r['size_ratio']:.2f} | {r['t_median']:.3f} "
        f"| {r['t_max']:.3f} | {where} |"
    )


def total(results: list[dict]) -> dict:  # type: ignore[type-arg]
    s = {k: sum(r[k] for r in results) for k in ("tp", "fp", "fn")}
    return {
        **s,
        "recall_ota": statistics.mean(r["recall_ota"] for r in results),
        "size_ratio": statistics.mean(r["size_ratio"] for r in results),
        "t_median": statistics.median(r["t_median"] for r in results),
        "t_max": max(r["t_max"] for r in results),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", choices=list(EXTRACTORS), help="extractors to run")
    ap.add_argument("--slug", nargs="*", help="histories to run (default: all)")
    ap.add_argument("--md", type=Path, help="also write the table to this file")
    a = ap.parse_args()
    if not CORPUS.is_dir():
        raise SystemExit(f"{CORPUS}: corpus not found")
    folders = sorted(d for d in CORPUS.iterdir() if (d / "manifest.json").exists())
    folders = [d for d in folders if not a.slug or d.name in a.slug]
    head = (
        "| extractor | history | change P | change R | tp/fp/fn | OTA line recall "
        "| size ratio | median s | max s | misses |"
    )
    lines = [head, "|---" * 10 + "|"]
    for name in a.only or EXTRACTORS:
        module = MODULES.get(name)
        if module and importlib.util.find_spec(module) is None:
            # Not dependencies of ours (make bench does not install them): said, not hidden.
            print(f"({name} not compared: not installed; pip install {name} to compare it)")
            continue
        results = [score(d, EXTRACTORS[name]) for d in folders]
        lines += [row(name, r["slug"], r) for r in results]  # type: ignore[arg-type]
        lines.append(row(f"**{name}**", "**all (micro P/R)**", total(results)))
        print("\n".join(lines[-len(results) - 1 :]), file=sys.stderr, flush=True)
    table = "\n".join(lines)
    print(table)
    if a.md:
        a.md.write_text(table + "\n")


if __name__ == "__main__":
    main()
