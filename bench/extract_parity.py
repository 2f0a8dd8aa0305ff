"""The extractor against an older one of this repository, page by page: every difference
in extracted text (or in the error raised).

Pages: every raw snapshot of ../shared/corpus/html and every version of
../shared/corpus/versions as ../shared/eval/replay.py serves it (markdown rendered into a
page with fresh chrome: the bytes are made once and given to both extractors), the same
versions as markdown (``import ota``), the cases of tests/data/extract_cases.yaml (with
their selectors) and the pages of tests/data/board_pages. The old extractor is the
``monitor`` package of a git revision (``git archive``) run in its own process.

Run: .venv/bin/python bench/extract_parity.py [--old bfd91a2] [--show 3]
Prints one line per differing page (a unified diff of the first ones) and a summary.
"""

from __future__ import annotations

import argparse
import difflib
import json
import pickle
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import yaml
from common import ROOT, histories

CORPUS = ROOT.parent / "shared" / "corpus"
Page = tuple[str, bytes, str, tuple[str, ...], tuple[str, ...]]  # name, body, type, sel, rem
# Runs in the child (old or new monitor on sys.path): extracts every page, prints JSON.
CHILD = """
import json, pickle, sys
from monitor.errors import MonitorError
from monitor.extract.html import EXTRACTOR_VERSION, extract_text
out = {"version": EXTRACTOR_VERSION, "texts": {}}
for name, body, ctype, select, remove in pickle.load(open(sys.argv[1], "rb")):
    try:
        out["texts"][name] = extract_text(body, ctype, select=select, remove=remove)
    except MonitorError as exc:
        out["texts"][name] = f"<error {type(exc).__name__}: {exc}>"
print(json.dumps(out))
"""


def pages() -> list[Page]:
    found: list[Page] = []
    for kind in ("html", "versions"):
        for slug, makers in histories(kind):
            found += [
                (f"{kind}/{slug}/{i}", m(), "text/html", (), ()) for i, m in enumerate(makers)
            ]
    for folder in sorted((CORPUS / "versions").iterdir()):
        for md in sorted(folder.glob("*.md")):
            found.append((f"markdown/{folder.name}/{md.name}", md.read_bytes(),
                          "text/markdown; charset=utf-8", (), ()))  # fmt: skip
    tests = ROOT / "tests"
    policy = _policy_sentence(tests / "test_extract.py")
    cases = yaml.safe_load((tests / "data" / "extract_cases.yaml").read_text(encoding="utf-8"))
    for case in cases["cases"]:
        body = case["html"].replace("{P}", policy).encode(case.get("encoding", "utf-8"))
        found.append((f"case/{case['id']}", body, case.get("content_type", "text/html"),
                      tuple(case.get("select", ())), tuple(case.get("remove", ()))))  # fmt: skip
    for group in cases.get("same_text", []):
        for i, html in enumerate(group.get("pages", [])):
            found.append((f"same/{group.get('id', '?')}/{i}",
                          html.replace("{P}", policy).encode(), "text/html", (), ()))  # fmt: skip
    for path in sorted((tests / "data" / "board_pages").glob("*.html")):
        found.append((f"board/{path.name}", path.read_bytes(), "text/html", (), ()))
    return found


def _policy_sentence(test_file: Path) -> str:
    source = test_file.read_text()
    start = source.index("POLICY = (")
    return "".join(eval(source[start + 9 : source.index(")\n", start) + 1]))  # noqa: S307


def extract_with(package_root: Path, pickled: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(pickled)], capture_output=True,
                          text=True, check=True, cwd=package_root)  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result


def old_tree(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", revision, "monitor"], cwd=ROOT,
                             capture_output=True, check=True).stdout  # fmt: skip
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="bfd91a2", help="git revision of the old extractor")
    parser.add_argument("--show", type=int, default=3, help="unified diffs to print")
    args = parser.parse_args()
    found = pages()
    with tempfile.TemporaryDirectory() as tmp:
        pickled = Path(tmp) / "pages.pickle"
        pickled.write_bytes(pickle.dumps(found))
        old = extract_with(old_tree(args.old, Path(tmp) / "old"), pickled)
        new = extract_with(ROOT, pickled)
    old_texts, new_texts = old["texts"], new["texts"]
    assert isinstance(old_texts, dict) and isinstance(new_texts, dict)
    differ = [name for name, *_ in found if old_texts[name] != new_texts[name]]
    for name in differ[: args.show]:
        lines = difflib.unified_diff(old_texts[name].splitlines(), new_texts[name].splitlines(),
                                     "old", "new", lineterm="", n=1)  # fmt: skip
        print(f"--- {name}\n" + "\n".join(list(lines)[:40]))
    for name in differ:
        print(f"DIFFERS {name}")
    kinds: dict[str, list[int]] = {}
    for name, *_ in found:
        kind = name.split("/", 1)[0]
        kinds.setdefault(kind, [0, 0])[0] += 1
        kinds[kind][1] += name in differ
    summary = ", ".join(f"{k} {n - d}/{n} identical" for k, (n, d) in kinds.items())
    print(f"FIGURE extractor {old['version']} ({args.old}) vs {new['version']}: {summary}; "
          f"{len(differ)} of {len(found)} pages differ")  # fmt: skip


if __name__ == "__main__":
    main()
