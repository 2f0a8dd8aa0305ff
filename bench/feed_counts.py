"""Replays a real version history through `check` and compares every feed with `changes`.

For each history under ../shared/corpus/versions (Open Terms Archive data, ODC-BY 1.0):
serve each version in noisy page chrome on 127.0.0.1 (../shared/eval/replay.py's page),
run a real `check` per version, then count the entries of the all / AI-training /
company / document feeds and the matching `changes --json` rows (capped at 50).
Run: .venv/bin/python bench/feed_counts.py [SLUG ...]
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

import feedparser

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path[:0] = [str(ROOT), str(SHARED / "eval")]

import replay  # noqa: E402
from markdown_it import MarkdownIt  # noqa: E402

from monitor.cli import main as monitor  # noqa: E402
from monitor.publish.specs import company_slug  # noqa: E402


def run(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        monitor(list(args))
    return out.getvalue()


def entries(path: Path) -> int:
    return len(feedparser.parse(path.read_bytes()).entries)


def replay_history(folder: Path, tmp: Path) -> dict[str, tuple[int, int]]:
    man = json.loads((folder / "manifest.json").read_text())
    slug, company = man["slug"], man.get("company", "unknown")
    md = MarkdownIt("commonmark").enable("table")
    server = replay.Server()
    watchlist = tmp / "w.yaml"
    watchlist.write_text(f"documents:\n  - id: {slug}\n    company: {json.dumps(company)}\n"
                         f"    title: {json.dumps(man.get('title', slug))}\n"
                         f"    url: http://127.0.0.1:{server.port}/{slug}\n")  # fmt: skip
    for version in man["versions"]:
        body = md.render((folder / version["file"]).read_text())
        server.body = lambda body=body: replay.noisy_page(man.get("title", slug), body)
        run("check", "--watchlist", str(watchlist), "--data", str(tmp / "data"))
    server.close()
    rows = json.loads(run("changes", "--json", "--data", str(tmp / "data")))
    feeds = tmp / "data" / "feeds"
    return {
        "all": (entries(feeds / "all.rss"), min(len(rows), 50)),
        "ai-training": (entries(feeds / "ai-training.rss"),
                        min(sum(r["ai_training"] for r in rows), 50)),
        f"company/{company_slug(company)}": (
            entries(feeds / "company" / f"{company_slug(company)}.rss"), min(len(rows), 50)),
        f"document/{slug}": (entries(feeds / "document" / f"{slug}.rss"), min(len(rows), 50)),
    }  # fmt: skip


def main() -> None:
    wanted = sys.argv[1:] or ["google-privacy", "linkedin-privacy-pga", "amazon-alexa-terms"]
    print("| history | feed | entries | changes (max 50) | match |")
    print("|---|---|---|---|---|")
    for slug in wanted:
        with tempfile.TemporaryDirectory() as tmp:
            counts = replay_history(SHARED / "corpus" / "versions" / slug, Path(tmp))
        for feed, (got, want) in counts.items():
            print(f"| {slug} | {feed} | {got} | {want} | {'yes' if got == want else 'NO'} |")


if __name__ == "__main__":
    main()
