"""Snapshots and version texts stored as deltas read back byte for byte (issue 15).

Real pages of ../shared/corpus (Open Terms Archive, ODC-BY 1.0) and edited copies go
through the real store on a SQLite file; every stored form must rebuild the exact bytes.
"""

from __future__ import annotations

import gzip
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.errors import MonitorError
from monitor.models import Watch
from monitor.store import Store, compress, delta, opened, sha256
from tests.cli_helpers import run_cli
from tests.shared import SHARED, need

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
WATCH = Watch(id="doc", company="Example", title="Privacy Policy", url="http://x.test/")


def corpus_pages(count: int) -> list[bytes]:
    folder = need(SHARED / "corpus" / "html" / "meta-llama-api-privacy")
    return [gzip.decompress(p.read_bytes()) for p in sorted(folder.glob("*.html.gz"))[:count]]


def mutations(page: bytes, seed: int) -> list[bytes]:
    """Edits a fetch can bring: a token, an inserted and a deleted block, a rewrite."""
    rng = random.Random(seed)
    cut = rng.randrange(len(page))
    return [
        page.replace(b"</head>", f"<meta name=t content={rng.random()}></head>".encode()),
        page[:cut] + b"<p>A new clause on training our AI models.</p>\n" + page[cut:],
        page[: cut // 2] + page[cut:],
        bytes(rng.randrange(256) for _ in range(5000)),
        b"",
        page + page,
    ]


@pytest.mark.parametrize("seed", range(3))
def test_delta_rebuilds_every_kind_of_edit_exactly(seed: int) -> None:
    pages = corpus_pages(4)
    for base in pages:
        for new in [*mutations(base, seed), *pages]:
            assert delta.apply(base, delta.make(base, new)) == new


def test_changing_token_costs_a_delta_not_a_copy(tmp_path: Path) -> None:
    store, digests = token_snapshots(tmp_path, 5)
    sizes = [r[0] for r in store.db.execute("select length(content) from snapshots order by rowid")]
    assert sizes[1:] and max(sizes[1:]) < sizes[0] / 20  # deltas, not compressed copies
    for i, digest in enumerate(digests):
        body, kind = store.snapshot(digest)
        assert sha256(body) == digest and f"token{i}".encode() in body and kind == "text/html"


def test_version_texts_are_paragraph_lists_and_read_back_exactly(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.sync_documents([WATCH], NOW)
    lines = [
        f"Paragraph {i}: we keep the data you give us for as long as needed." for i in range(300)
    ]
    texts = []
    for i in range(6):
        lines[10 * i] += " We may use it to train our AI models."
        texts.append("\n".join(lines))
        store.add_version("doc", texts[-1], f"k{i}", "0" * 64, NOW + timedelta(hours=i), "2")
    # Each edited line is stored once; a version is a few runs of paragraph ids.
    assert store.db.execute("select count(*) from paragraphs").fetchone()[0] == 300 + 5
    lists = [r[0] for r in store.db.execute("select paragraph_ids from versions order by number")]
    assert lists[0] == "[[1,300]]" and lists[1] == "[[1,10],301,[12,300]]"
    assert all(len(listed) < 100 for listed in lists)
    for number, text in enumerate(texts, start=1):
        version = store.version("doc", number)
        assert version is not None and version.text == text
    current = store.current_version("doc")
    assert current is not None and current.text == texts[-1]


def test_a_text_whose_paragraph_changed_is_a_damaged_database(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.sync_documents([WATCH], NOW)
    store.add_version("doc", "One.\nTwo.", "k", "0" * 64, NOW, "2")
    store.close()
    db = sqlite3.connect(tmp_path / "monitor.db")
    db.execute("update paragraphs set text = 'Three.' where text = 'Two.'")
    db.commit()
    db.close()
    with pytest.raises(MonitorError, match="damaged"), opened(tmp_path) as reopened:
        reopened.version("doc", 1)


def test_a_delta_that_does_not_rebuild_is_a_damaged_database(tmp_path: Path) -> None:
    page = corpus_pages(1)[0]
    store = Store(tmp_path)
    store.sync_documents([WATCH], NOW)
    first = store.save_snapshot(page, "text/html", NOW, "doc")
    store.record_fetch("doc", {"started_at": NOW, "snapshot_sha256": first})
    second = store.save_snapshot(page + b"<!-- 2 -->", "text/html", NOW, "doc")
    store.close()
    db = sqlite3.connect(tmp_path / "monitor.db")
    tampered = delta.make(page, page + b"<!-- 3 -->")
    db.execute("update snapshots set content = ? where sha256 = ?", [tampered, second])
    db.commit()
    db.close()
    with pytest.raises(MonitorError, match="damaged"), opened(tmp_path) as reopened:
        reopened.snapshot(second)


def test_prune_keeps_every_snapshot_a_version_needs(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    page = corpus_pages(1)[0]
    store = Store(tmp_path)
    store.sync_documents([WATCH], NOW)

    def fetched(body: bytes, at: datetime) -> str:
        digest = store.save_snapshot(body, "text/html", at, "doc")
        store.record_fetch("doc", {"started_at": at, "snapshot_sha256": digest})
        return digest

    wall = fetched(page.replace(b"</head>", b"<meta name=wall></head>"), NOW)  # no version
    read = fetched(page + b"<!-- token 1 -->", NOW)  # a delta based on the wall page's bytes
    store.add_version("doc", "text one " * 30, "k1", read, NOW, "2")
    noise = [fetched(page + f"<!-- token {i} -->".encode(), NOW) for i in range(2, 6)]
    later = fetched(page + b"<!-- later -->", datetime.now(UTC))
    # Skip deltas: serial n is built on serial n with its lowest set bit cleared.
    bases = dict(store.db.execute("select sha256, lower(hex(base)) from snapshots").fetchall())
    assert [bases[d] for d in (read, *noise, later)] == [
        wall, wall, noise[0], wall, noise[2], noise[2]
    ]  # fmt: skip
    store.close()
    result = run_cli(capsys, "prune", "--raw-older-than", "1", "--data", str(tmp_path))
    assert result.code == 0 and result.out.startswith("pruned 3 raw snapshot(s)"), result
    with opened(tmp_path) as kept:
        left = {r[0] for r in kept.db.execute("select sha256 from snapshots")}
        assert left == {wall, read, noise[2], later}  # the version's and the later one's bases
        for digest in left:
            assert sha256(kept.snapshot(digest)[0]) == digest
        assert len(kept.fetches("doc", limit=10)) == 7  # the attempts and their hashes stay


def test_prune_without_a_database_creates_none(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(capsys, "prune", "--raw-older-than", "30", "--data", str(tmp_path / "d"))
    assert result.code == 2 and "no database" in result.err and result.err.count("\n") == 1
    assert not (tmp_path / "d" / "monitor.db").exists()


def test_skip_deltas_read_back_through_few_bases(tmp_path: Path) -> None:
    store, digests = token_snapshots(tmp_path, 40)
    rows = store.db.execute(
        "select sha256, lower(hex(base)), serial, codec from snapshots"
    ).fetchall()
    serial = {d: s for d, _, s, _ in rows}
    base = {d: b for d, b, _, _ in rows}
    assert [serial[d] for d in digests] == list(range(40)) and {r[3] for r in rows} == {"zstd"}
    for n, digest in enumerate(digests):
        depth, at = 0, digest
        while base[at]:
            depth, at = depth + 1, base[at]
        assert depth == bin(n).count("1")  # at most log2(n) deltas to read any of them
        body, _ = store.snapshot(digest)
        assert sha256(body) == digest and f"token{n}>".encode() in body


def test_snapshots_stored_before_m011_read_back_and_start_a_chain(tmp_path: Path) -> None:
    """A store at schema step m010: a zlib whole snapshot and a pure-Python delta on it
    (as m009 wrote them). Opened by this version (m011 applied), they read back as they
    were, and the next fetch is a zstd delta on their base."""
    import zlib

    import sqlite_utils

    from monitor.store.schema import migrations

    page = corpus_pages(1)[0]
    old = [page + f"<!-- token {i} -->".encode() for i in range(3)]
    tmp_path.mkdir(exist_ok=True)
    db = sqlite_utils.Database(tmp_path / "monitor.db")
    migrations.apply(db, stop_before="m011_snapshot_chains")
    db.table("documents").insert({"id": "doc", "company": "E", "title": "P", "url": "u"})
    forms = [(zlib.compress(old[0], 6), None), (delta.make(old[0], old[1]), sha256(old[0]))]
    for body, (content, base) in zip(old, forms, strict=False):
        db.table("snapshots").insert(
            {"sha256": sha256(body), "content": content, "size": len(body), "base": base,
             "content_type": "text/html", "first_seen": "2026-01-01T00:00:00+00:00"}
        )  # fmt: skip
        db.table("fetches").insert({"document": "doc", "snapshot_sha256": sha256(body)})
    db.close()
    store = Store(tmp_path)
    new = store.save_snapshot(old[2], "text/html", NOW, "doc")
    row = store.db.execute(
        "select lower(hex(base)), serial, codec from snapshots where sha256 = ?", [new]
    )
    assert row.fetchone() == (sha256(old[0]), 2, "zstd")
    for body in old:
        assert store.snapshot(sha256(body))[0] == body


@pytest.mark.parametrize("megabytes", [0.1, 1.5, 3, 6, 12])
def test_a_one_word_edit_of_a_large_page_is_a_small_delta(megabytes: float) -> None:
    """The match tables follow the size searched: tables too small for the earlier page
    find little of it (12 MB of random words: 4.4 MB at level 4's own, 1.2 KB now)."""
    rng = random.Random(7)
    words = [f"w{rng.randrange(20000)}" for _ in range(int(megabytes * 1e6 / 6))]
    page = ("<p>" + " ".join(words) + "</p>").encode()
    edited = page.replace(b" w1 ", b" edited ", 1)
    stored = compress.pack(edited, page)
    assert len(stored) < 2000, (megabytes, len(stored))
    assert compress.unpack(stored, len(edited), page) == edited


def token_snapshots(tmp_path: Path, count: int) -> tuple[Store, list[str]]:
    """A store holding ``count`` fetches of one corpus page whose token changes each time."""
    page = corpus_pages(1)[0]
    store = Store(tmp_path)
    store.sync_documents([WATCH], NOW)
    digests = []
    for i in range(count):
        body = page.replace(b"</head>", f"<meta name=csrf content=token{i}></head>".encode())
        digests.append(store.save_snapshot(body, "text/html", NOW, "doc"))
        store.record_fetch("doc", {"started_at": NOW, "snapshot_sha256": digests[-1]})
    return store, digests
