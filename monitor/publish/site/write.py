"""Writes the site's pages into the feeds folder (only files whose bytes change).

    site.css, search.js                       the style sheet and the search box's script
    index.html                                companies, documents, AI-training changes, feeds
    documents/<id>.html                       a document's timeline
    documents/<id>/v<N>.html, v<N>.txt        each version's text
    documents/<id>/search-data.js             what the search box searches
    changes/<id>.html, .json, .diff           each change: its page (a permalink) and exports
    snapshots/<sha256>.<ext>                  each raw snapshot, as fetched

Pages of changes and versions and the snapshots never change once written: they are
rendered again only when ``fresh`` is False (a new release, other settings, another
folder); else one that exists is left alone, so a sweep costs what it adds.

A change's files are a pure function of a :class:`ChangeJob`: an import renders its
hundreds of change pages in its worker processes (``render``), this process writes them.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from monitor.diff import Lengths, remember, remembered
from monitor.models import Change, Version, Watch
from monitor.publish.feed import FeedSettings, change_page_href, index_url
from monitor.publish.index import FeedRow
from monitor.publish.site.change import Side, change_page
from monitor.publish.site.document import (
    DocumentData,
    search_data,
    search_key,
    timeline_page,
    version_page,
    version_text,
)
from monitor.publish.site.evidence import change_json, snapshot_href, unified_diff
from monitor.publish.site.index import index_html
from monitor.publish.specs import file_safe
from monitor.store import Store
from monitor.store.site_queries import snapshot_evidence

STATIC = ("site.css", "search.js")
T = TypeVar("T")


@dataclass(frozen=True)
class ChangeJob:
    """What a change's files are made of (``lengths``: the diff of its versions' texts,
    made in the process that asks, so a worker rendering the page does not make it again)."""

    change: Change
    before: Side | None
    after: Side | None
    index_href: str
    doc_path: str
    diff_chars: int
    lengths: Lengths | None = None


ChangeFiles = tuple[bytes, bytes | None, bytes]  # the .json, the .diff (if any), the page
Render = Callable[[list[ChangeJob]], Iterable[ChangeFiles]]


def render_here(jobs: list[ChangeJob]) -> Iterator[ChangeFiles]:
    """Each change's files, made in this process, in order."""
    return map(change_files, jobs)


Map = Callable[[Callable[[ChangeJob], ChangeFiles], list[ChangeJob]], Iterable[ChangeFiles]]


def render_with(map_jobs: Map) -> Render:
    """A :data:`Render` making the files through ``map_jobs`` (a pool of processes' map,
    in order), each job with the diff this process remembers for its two texts. It returns
    at once: a thread of this process waits for the pool (the calls in the order made),
    so this process writes the versions' pages while the workers make the changes'."""
    background = _Background()

    def render(jobs: list[ChangeJob]) -> Iterable[ChangeFiles]:
        given = [_with_lengths(job) for job in jobs]
        return _results(background.submit(lambda: map_jobs(change_files, given)))

    return render


def _results(done: Future[Iterable[ChangeFiles]]) -> Iterator[ChangeFiles]:
    yield from done.result()


class _Background:
    """A daemon thread running the work given, in order, while there is some (a daemon: an
    interrupted command does not wait for pages nobody will write)."""

    def __init__(self) -> None:
        self.work: deque[tuple[Callable[[], Any], Future[Any]]] = deque()
        self.lock = threading.Lock()
        self.running = False

    def submit(self, work: Callable[[], T]) -> Future[T]:
        done: Future[T] = Future()
        with self.lock:
            self.work.append((work, done))
            if not self.running:
                self.running = True
                threading.Thread(target=self._run, name="change-pages", daemon=True).start()
        return done

    def _run(self) -> None:
        while True:
            with self.lock:
                if not self.work:  # ends when idle: the next submit starts another
                    self.running = False
                    return
                work, done = self.work.popleft()
            try:
                done.set_result(work())
            except BaseException as exc:  # noqa: BLE001 - raised where the result is read
                done.set_exception(exc)


def _with_lengths(job: ChangeJob) -> ChangeJob:
    if job.before is None or job.after is None:
        return job
    lengths = remembered(job.before.version.text, job.after.version.text)
    return replace(job, lengths=lengths)


def write_site(
    store: Store, out_dir: Path, documents: list[Watch], settings: FeedSettings,
    rows: Sequence[FeedRow], *, fresh: bool, ops_href: str, render: Render = render_here,
) -> list[Path]:  # fmt: skip
    """Writes every page; returns the files that changed. ``fresh``: pages already written
    by this release with these settings may be skipped. ``render`` makes the changes'
    files (in order; an import's worker processes make them in parallel)."""
    written: list[Path] = []
    for name in STATIC:
        data = resources.files("monitor.publish.site").joinpath("static", name).read_bytes()
        written += replace_if_changed(out_dir / name, data)
    docs = [_document_data(store, watch) for watch in documents]
    # A document's change pages are asked for (``render``) before its versions' pages are
    # written, and written after them, one document later: workers make them meanwhile.
    waiting: _Pages | None = None
    for doc in docs:
        pages = _write_document(store, out_dir, doc, settings, fresh, render)
        written += pages.written + (_write_changes(out_dir, waiting) if waiting else [])
        waiting = pages
    written += _write_changes(out_dir, waiting) if waiting else []
    page = index_html(rows, settings, store.upgrades(), docs=docs, ops_href=ops_href)
    return written + replace_if_changed(out_dir / "index.html", page)


def index_href(settings: FeedSettings, depth: int) -> str:
    """The index page from a page ``depth`` folders down: public with a base URL."""
    return index_url(settings) if settings.base_url else "../" * depth + "index.html"


def _document_data(store: Store, watch: Watch) -> DocumentData:
    versions = tuple(store.versions(watch.id))
    evidence = {}
    for v in versions:
        found = snapshot_evidence(store, watch.id, v.snapshot_sha256)
        if found is not None:
            evidence[v.snapshot_sha256] = found
    return DocumentData(
        watch=watch, path=file_safe(watch.id), status=store.status(watch.id), versions=versions,
        changes=tuple(store.changes(document=watch.id)), upgrades=tuple(store.upgrades(watch.id)),
        evidence=evidence,
    )  # fmt: skip


@dataclass(frozen=True)
class _Pages:
    """A document's files written, and those still to write: its change pages (being made)
    then its search data (last: its first line says every other file is there)."""

    written: list[Path]
    jobs: list[ChangeJob]
    files: Iterable[ChangeFiles]
    search: tuple[Path, bytes] | None


def _write_document(
    store: Store, out_dir: Path, doc: DocumentData, settings: FeedSettings, fresh: bool,
    render: Render,
) -> _Pages:  # fmt: skip
    folder = out_dir / "documents" / doc.path
    timeline = timeline_page(doc, index_href=index_href(settings, 1))
    written = replace_if_changed(out_dir / "documents" / f"{doc.path}.html", timeline)
    data_path = folder / "search-data.js"
    if fresh and _first_line(data_path) == search_key(doc):
        return _Pages(written, [], [], None)  # no version or change since: all written
    texts = [full for v in doc.versions
             if (full := store.version(doc.watch.id, v.number)) is not None]  # fmt: skip
    by_number = {v.number: v for v in texts}
    jobs = [_change_job(doc, change, by_number, settings) for change in doc.changes
            if not (fresh and (out_dir / change_page_href(change.id)).exists())]  # fmt: skip
    files = render(jobs)
    for full in texts:  # (a version listed a moment ago and gone: a concurrent rewrite)
        written += _write_version(folder, doc, full, index_href(settings, 2), fresh)
        written += _write_snapshot(store, out_dir, doc, full.snapshot_sha256)
    return _Pages(written, jobs, files, (data_path, search_data(doc, texts)))


def _write_changes(out_dir: Path, pages: _Pages) -> list[Path]:
    written: list[Path] = []
    for job, files in zip(pages.jobs, pages.files, strict=True):
        written += _write_change(out_dir / change_page_href(job.change.id), files)
    if pages.search is not None:
        written += replace_if_changed(*pages.search)
    return written


def _first_line(path: Path) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as file:
        return file.readline(200).decode("utf-8", "replace").rstrip("\n")


def _write_version(
    folder: Path, doc: DocumentData, version: Version, index: str, fresh: bool
) -> list[Path]:
    """A version's text and page, once: a version never changes."""
    page = folder / f"v{version.number}.html"
    if fresh and page.exists():
        return []
    written = replace_if_changed(page.with_suffix(".txt"), version_text(version))
    return written + replace_if_changed(page, version_page(doc, version, index_href=index))


def _change_job(
    doc: DocumentData, change: Change, by_number: dict[int, Version], settings: FeedSettings
) -> ChangeJob:
    before, after = (
        Side(v, doc.evidence.get(v.snapshot_sha256)) if v is not None else None
        for v in (by_number.get(change.from_version or 0), by_number.get(change.to_version))
    )
    return ChangeJob(change, before, after, index_href(settings, 1), doc.path,
                     settings.page_diff_chars)  # fmt: skip


def change_files(job: ChangeJob) -> ChangeFiles:
    """A change's JSON, unified diff (None without its new version) and page."""
    change, before, after = job.change, job.before, job.after
    if job.lengths is not None and before is not None and after is not None:
        remember(before.version.text, after.version.text, job.lengths)
    evidence = {label: (side.version, side.evidence)
                for label, side in (("from", before), ("to", after)) if side}  # fmt: skip
    data = change_json(change, evidence)
    diff = None
    if after is not None:
        diff = unified_diff(change, before.version if before else None, after.version)
    page = change_page(change, (before, after), index_href=job.index_href,
                       doc_path=job.doc_path, diff_chars=job.diff_chars)  # fmt: skip
    return data, diff, page


def _write_change(page_path: Path, files: ChangeFiles) -> list[Path]:
    data, diff, page = files
    written = replace_if_changed(page_path.with_suffix(".json"), data)
    if diff is not None:
        written += replace_if_changed(page_path.with_suffix(".diff"), diff)
    return written + replace_if_changed(page_path, page)


def _write_snapshot(store: Store, out_dir: Path, doc: DocumentData, digest: str) -> list[Path]:
    """The raw bytes, once: the file's name is their hash."""
    evidence = doc.evidence.get(digest)
    if evidence is None:
        return []
    path = out_dir / snapshot_href(digest, evidence.content_type)
    if path.exists() and path.stat().st_size == evidence.size:
        return []
    body, _type = store.snapshot(digest)
    return replace_if_changed(path, body)


def replace_if_changed(path: Path, data: bytes) -> list[Path]:
    """Writes ``data`` atomically unless the file holds it already (its mtime then stays,
    so readers' conditional GETs keep working)."""
    if path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return [path]
