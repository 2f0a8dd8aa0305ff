"""Hostile input against what the last session added: the paragraph store (m010), the
compiled-pattern cache, the sweep's batched recording and the importers. Each test is an
attack that once worked (see the commit that fixed it)."""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import phrase
from monitor.store import Store
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer
from tests.pdfmaker import assemble
from tests.test_attacks import DOC, entry, imported_change, manifest_folder
from tests.test_import import AI, BASE, HISTORY, PATH, changes, git, ota_repo, run

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEADLINE_CPU_S = 5.0

# A run list damaged in ways a flipped byte or a bad write can leave: each must be the
# one-line damaged-database error, never a traceback, a MemoryError or a hang.
DAMAGED_LISTS = [
    "[[1,",  # cut short
    "[1e400]",  # a number JSON reads as infinity
    "[[1,1e18]]",  # a run of 10^18 ids
    '{"a":1}',  # no list
    '["x"]',  # no id
    "[[5]]",  # a run of one number
    "[[true,false]]",  # booleans are no ids
    "[0]",  # below the first id
    "[[3,2]]",  # a run backwards
    "[" * 100_000,  # nested past Python's recursion limit
]


@pytest.mark.parametrize("damage", DAMAGED_LISTS, ids=lambda d: d[:12])
def test_a_damaged_paragraph_list_is_a_one_line_damaged_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """Attack: damage the latest version's ``paragraph_ids``. Once `first-seen` ended in a
    JSONDecodeError, ValueError, TypeError or IndexError traceback, and every reader
    (`history`, `evidence`, `site`, `first-seen`, the next import) in an OverflowError,
    a MemoryError or a RecursionError one; now each says the database is damaged."""
    imported_change(tmp_path, capsys)
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    db.execute("update versions set paragraph_ids = ? where number = 2", [damage])
    db.commit()
    db.close()
    later = tmp_path / "later"
    later.mkdir()
    (later / "2024-01-05T10-00-00Z.html").write_bytes(policy(token="c"))
    data = ["--data", str(tmp_path / "data")]
    for args in (["history", DOC, *data], ["first-seen", DOC, "AI models", *data],
                 ["evidence", "1", "--out", str(tmp_path / "ev"), *data],
                 ["site", "--out", str(tmp_path / "site"), *data]):  # fmt: skip
        done = run_cli(capsys, *args)
        assert done.code == 2 and "Traceback" not in done.err, (args, done.err)
        assert len(done.err.strip().splitlines()) == 1 and "is damaged" in done.err, done.err
    done = run(capsys, tmp_path, "import", "snapshots", str(later), "--document", DOC)
    assert "is damaged" in done.err and "Traceback" not in done.err, done.err


def pdf_mapping_to_a_surrogate(words: str) -> bytes:
    """A PDF whose font's ToUnicode map reads the glyph "X" as U+D800 (a lone surrogate)."""
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def 1 "
            "begincodespacerange <00> <FF> endcodespacerange 1 beginbfchar <58> <D800> endbfchar"
            " endcmap CMapName currentdict /CMap defineresource pop end end")  # fmt: skip
    text = f"BT /F1 11 Tf 50 780 Td ({words} X) Tj ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R"
        " /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        f"<< /Length {len(cmap)} >>\nstream\n{cmap}\nendstream",
    ]  # fmt: skip
    return assemble(objects)


WORDS = (
    "We may train our AI models on your posts and photos, and share what they learn with "
    "our partners and the companies that work for us, wherever they are."
)
SURROGATE_PAGES = {  # document: (content type, body); each decodes to a lone surrogate
    "utf7-text": ("text/plain; charset=utf-7", f"{WORDS} +2AA- end.".encode()),
    "utf7-html": ("text/html; charset=utf-7", f"<p>{WORDS} +2AA- end.</p>".encode()),
    "escape-meta": (
        "text/html",
        b'<meta charset="unicode_escape"><p>' + WORDS.encode() + b" \\ud800 end.</p>",
    ),  # fmt: skip
    "pdf": ("application/pdf", pdf_mapping_to_a_surrogate(WORDS)),
    "plain": ("text/plain", WORDS.encode()),
}


def test_a_page_decoding_to_a_lone_surrogate_is_read_with_a_replacement_character(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_server: LocalServer
) -> None:
    """Attack: a page declaring charset=utf-7 (or unicode_escape) holding "+2AA-", or a
    PDF whose font maps a glyph to U+D800. Once the text held a lone surrogate and the
    whole sweep ended in a UnicodeEncodeError traceback (hashing it, or lxml parsing it):
    no document of the watchlist was recorded. Now it reads as U+FFFD, like any byte that
    is no character, and every document is recorded."""
    urls = {}
    for doc, (kind, body) in SURROGATE_PAGES.items():
        local_server.route(f"/{doc}", body=body, content_type=kind)
        urls[doc] = local_server.url(f"/{doc}")
    watchlist = write_watchlist(tmp_path / "w.yaml", urls)
    data = ["--data", str(tmp_path / "data")]
    done = run_cli(capsys, "check", "--watchlist", str(watchlist), "--delay", "0", *data)
    assert (done.code, done.err) == (0, ""), done
    store = Store(tmp_path / "data", read_only=True)
    for doc in SURROGATE_PAGES:
        assert f"{doc}: first version" in done.out, done.out
        version = store.version(doc, 1)
        assert version is not None and WORDS in version.text
        assert ("\ufffd" in version.text) is (doc != "plain"), version.text
    store.close()


REPEATED_LINE = "- Yes, where the law allows it."


def test_an_edit_of_a_page_of_repeated_lines_is_recorded_in_linear_time(tmp_path: Path) -> None:
    """Attack: a page of 30,000 identical lines (or a long page's blank lines), then one
    with another line between each two. A repeated line gets ids of its own (paragraphs.py)
    and each was looked for from the first id of that text on, skipping the used ones:
    quadratic (a 4.8 MB page took 210 s to record, holding the transaction and the lock;
    a rewrite of 20,000 paragraphs between blank lines 6 s). Now each id is skipped once
    (CPU, loose: a few seconds with the fix, over 15 s without on a busy machine)."""
    store = Store(tmp_path)
    store.db["documents"].insert({"id": DOC, "company": "C", "title": "T", "url": "u"})
    lines = [REPEATED_LINE] * 30_000
    store.add_version(DOC, "\n".join(lines), "k1", "s", T0, "3")
    edited = "\n".join(f"Other line.\n{line}" for line in lines)
    started = time.process_time()
    store.add_version(DOC, edited, "k2", "s", T0, "3")
    assert time.process_time() - started < DEADLINE_CPU_S
    version = store.version(DOC, 2)
    assert version is not None and version.text == edited
    count = store.db.execute("select count(*) from paragraphs").fetchone()[0]
    assert count == 30_000 * 2  # the 30,000 lines kept their ids; 30,000 new ones
    store.close()


def test_first_seen_of_a_phrase_whose_first_word_is_everywhere_takes_linear_time() -> None:
    """Attack: `first-seen DOC "we train models"` where nearly every line holds "we". Each
    such line was searched for again in each version (list.index): quadratic, 10 versions
    of 4,000 lines took 2 s, 20 of 10,000 25 s. Now one walk of each version; the
    phrase split over two lines is still found."""
    count = 10_000
    texts = {pid: f"We collect item {pid} and we keep it." for pid in range(1, count + 1)}
    texts |= {count + 1: "And so we", count + 2: "", count + 3: "train models."}
    lists = {number: list(range(1, count + 1)) for number in range(1, 20)}
    lists[20] = [*range(1, count + 1), count + 1, count + 2, count + 3]
    started = time.process_time()
    found = phrase.holding(lists, texts, phrase.phrase_pattern("we train models"))
    assert time.process_time() - started < DEADLINE_CPU_S / 2
    assert found == {20}


def test_a_snapshots_manifest_listing_a_file_again_records_the_return(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: a folder keeping each distinct page once (files named by their hash) whose
    manifest lists A, B, then A again. The second A was skipped as "already imported" (a
    step was known by its file name): the return to A was lost and B stayed the current
    version. Now it is a step of its own, and a second import adds nothing."""
    a = policy(token="a")
    b = policy(extra="<li>We may train our AI models on your posts.</li>")
    folder = manifest_folder(
        tmp_path, [entry("a.html", a, 1), entry("b.html", b, 2), entry("a.html", a, 3)]
    )
    (folder / "a.html").write_bytes(a)
    (folder / "b.html").write_bytes(b)
    done = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert "3 step(s) imported, 2 change(s)" in done.out, done
    moves = [(c["from_version"], c["to_version"]) for c in changes(capsys, tmp_path)]
    assert moves == [(1, 2), (2, 1)]
    again = run(capsys, tmp_path, "import", "snapshots", str(folder), "--document", DOC)
    assert "0 step(s) imported" in again.out and "3 already imported" in again.out, again


CACHE_ENTRY = """
import os, re, sys
from pathlib import Path
from monitor.classify import regex_cache
source, kind = r"\\bAI\\b (?:models?|systems?)", sys.argv[1]
regex_cache.compile_cached(source, re.IGNORECASE)
(path,) = Path(os.environ[regex_cache.ENV]).glob("*.sre")
path.unlink()
if kind == "fifo":
    os.mkfifo(path)
else:
    path.symlink_to("/dev/zero")
same = regex_cache.compile_cached(source, re.IGNORECASE) == re.compile(source, re.IGNORECASE)
# VmHWM: this program's own peak (ru_maxrss starts at the forking pytest worker's RSS)
status = Path("/proc/self/status").read_text().splitlines()
print(same, int(next(ln for ln in status if ln.startswith("VmHWM")).split()[1]) // 1024)
"""


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_cache_entry_that_is_no_file_is_compiled_without_waiting(
    tmp_path: Path, kind: str
) -> None:
    """Attack: a compiled-pattern cache entry that is a FIFO, or a symlink to /dev/zero.
    Once every process (check, daemon, import) blocked for ever at start-up reading the
    FIFO, or read /dev/zero until memory ran out; now only a regular file under the cap is
    read, anything else is compiled as usual (and replaced by a good file)."""
    limit = 1 << 30  # 1 GB of address space: /dev/zero read whole would pass it

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-c", CACHE_ENTRY, kind], capture_output=True, text=True, timeout=60,
        env={**os.environ, "POLICY_MONITOR_CACHE": str(tmp_path / "cache")}, preexec_fn=cap,
        cwd=Path(__file__).parents[1],
    )  # fmt: skip
    same, megabytes = done.stdout.split()
    assert same == "True" and int(megabytes) < 300, (done.stdout, done.stderr)


def test_an_ota_file_renamed_with_an_edit_keeps_the_edit_under_its_new_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: an OTA commit renaming the document's file and editing it. Imported by its
    old --path, that commit was a failed step (the file is not in it); imported by its new
    --path, the same commit was then "already imported": the edit was never recorded. Now a
    commit taking the file away is no step of it, and the new name's history has the edit."""
    repo = ota_repo(tmp_path, HISTORY[:1])
    new_path = "Example/Privacy Notice.md"
    git(repo, "mv", PATH, new_path)
    (repo / new_path).write_text(BASE.format(extra=AI))
    git(repo, "commit", "-q", "-am", "Rename and record new changes of Example Privacy Policy",
        date="2024-03-01T00:00:00+00:00")  # fmt: skip
    old = run(capsys, tmp_path, "import", "ota", str(repo), "--document", DOC, "--path", PATH)
    assert "1 step(s) imported" in old.out and "failed" not in old.out, old
    new = run(capsys, tmp_path, "import", "ota", str(repo), "--document", DOC, "--path", new_path)
    assert "1 step(s) imported, 1 change(s), 1 AI-training" in new.out, new
    (change,) = changes(capsys, tmp_path)
    assert change["detected_at"] == "2024-03-01T00:00:00+00:00"


OUT_OF_RANGE = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"]


@pytest.mark.parametrize("layout", ["snapshots manifest", "ota manifest", "file name"])
@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_time_out_of_the_range_of_dates_in_utc_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str, moment: str
) -> None:
    """Attack: an archive time that is a date only in its own time zone (year 1 at +01:00 is
    year 0 in UTC). Once an OverflowError traceback from the conversion to UTC; now the
    one-line error of a time that is not one, and nothing is recorded."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    body = policy()
    path = []
    if layout == "file name":
        (folder / f"{moment}.html").write_bytes(body)
    elif layout == "snapshots manifest":
        (folder / "page.html").write_bytes(body)
        manifest_folder(tmp_path, [{**entry("page.html", body, 1), "fetched_at": moment}])
    else:
        (folder / "page.md").write_bytes(body)
        versions = [{"file": "page.md", "commit": "abc", "date": moment}]
        (folder / "manifest.json").write_text(json.dumps({"versions": versions}))
        path = ["--path", "x.md"]
    command = "ota" if layout == "ota manifest" else "snapshots"
    done = run(capsys, tmp_path, "import", command, str(folder), "--document", DOC, *path)
    assert done.code == 1 and "Traceback" not in done.err, done.err
    said = "its name is not a time" if layout == "file name" else "out of the range of dates"
    assert len(done.err.strip().splitlines()) == 1 and said in done.err, done.err
