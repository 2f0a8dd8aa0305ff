"""An Open Terms Archive versions history: one markdown file's commits, read with git.

OTA records each new version of a document as a commit of ``Service/Terms type.md`` in a
versions repository; the commit's author date is when OTA fetched the page, its message says
what kind of record it is ("First record of ...", "Record new changes of ...", or "Apply
technical or declaration upgrade on ..." when OTA re-read old snapshots with new selectors:
not a change of the document). The repository is read by the ``git`` binary, never over the
network, each call within a deadline. A folder in the evaluation corpus layout
(``manifest.json`` listing ``versions`` with their commit and date) is read the same way.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from monitor.citation import clean_remote
from monitor.errors import ArchiveError, FetchError
from monitor.importer.steps import Body, Step, parse_time, read_inside

MARKDOWN = "text/markdown; charset=utf-8"
GIT_SECONDS = 60.0
MAX_VERSION_BYTES = 20_000_000
# Commit subjects of OTA records that re-read old snapshots (not a change of the page).
TECHNICAL = ("apply technical", "refilter", "apply declaration")
_SEP = "\x1f"
_OWNER_REPO = re.compile(r"[\w.-]+/[\w.-]+")
_FILE_MODES = ("100644", "100755")  # 120000: a symlink
# A repository's own config must not make git run a program (it may come from anyone):
# these override what .git/config sets (a signed commit ran its gpg.program).
_SAFE_CONFIG = ("log.showSignature=false", "gpg.program=false", "gpg.ssh.program=false",
                "gpg.x509.program=false", "core.fsmonitor=false", "core.hooksPath=/dev/null",
                "diff.external=", "core.pager=cat", "core.quotepath=off")  # fmt: skip


def ota_steps(repo: Path, path: str | None, seconds: float = GIT_SECONDS) -> list[Step]:
    """Every commit of ``path`` in the repository (bare or a clone), oldest first; a folder in
    the corpus layout (``manifest.json``, no git) needs no path."""
    manifest = repo / "manifest.json"
    if manifest.is_file() and not (repo / ".git").exists():
        return folder_steps(repo)
    if not path:
        raise ArchiveError(f"{repo} is a git repository: say which file with --path, "
                           f"e.g. --path \"Google/Privacy Policy.md\"")  # fmt: skip
    path = posixpath.normpath(path)  # "Google/./Privacy Policy.md", a trailing slash
    # No D in --diff-filter: a commit deleting the file (or renaming it away) is no version
    # of it; as a step it failed, and was then "already imported" under the file's new name.
    log = ["log", "--reverse", "--diff-filter=ACMRTB", f"--format=%H{_SEP}%aI{_SEP}%s", "--", path]
    out = _git(repo, log, seconds)
    remote, folder = repository_name(repo, seconds), _folder_name(repo)
    on_remote = _on_remote(repo, path, seconds) if remote != folder else set()
    steps = [_commit_step(repo, path, line, seconds) for line in out.splitlines() if line]
    # A commit the remote is not known to hold (made or rewritten in this clone, a remote
    # added by hand and never fetched) is cited by the folder: a link to it would 404.
    steps = [replace(s, source=remote if s.ref in on_remote else folder, path=path)
             for s in steps]  # fmt: skip
    if not steps:
        raise ArchiveError(f"{path!r} is in no commit of {repo}{_near(repo, path, seconds)}")
    # A folder (its commits are those of every file in it) is refused before any step is
    # recorded: each would be a failed step, "already imported" under the right --path.
    _entry(repo, steps[-1].ref, path, seconds)
    return steps


def repository_name(repo: Path, seconds: float = GIT_SECONDS) -> str:
    """How to cite the repository: its ``remote.origin.url`` (credentials dropped, the
    scp form spelled as https), else the clone's folder name (never the local path)."""
    try:
        remote = _git(repo, ["config", "--get", "remote.origin.url"], seconds).strip()
    except ArchiveError:  # no such setting: git exits 1
        remote = ""
    return clean_remote(remote) if remote else _folder_name(repo)


def _folder_name(repo: Path) -> str:
    name = repo.resolve().name
    return name.removesuffix(".git") or name


def _on_remote(repo: Path, path: str, seconds: float) -> set[str]:
    """The commits of ``path`` that origin holds, as far as the clone knows without the
    network: those reachable from its remote-tracking branches (a bare clone's own
    branches are origin's, as cloned)."""
    bare = _git(repo, ["rev-parse", "--is-bare-repository"], seconds).strip() == "true"
    refs = "--branches" if bare else "--remotes=origin"
    return set(_git(repo, ["rev-list", refs, "--", path], seconds).split())


def _commit_step(repo: Path, path: str, line: str, seconds: float) -> Step:
    commit, date, subject = (line.split(_SEP, 2) + ["", ""])[:3]
    skip = "technical re-extraction by OTA" if subject.lower().startswith(TECHNICAL) else ""
    load = partial(_show, repo, commit, path, seconds)
    return Step(ref=commit, at=parse_time(date), load=load, skip=skip)


def _show(repo: Path, commit: str, path: str, seconds: float) -> Body:
    """The file at ``commit``; its mode and size are asked first, so no blob over the cap
    (and no symlink: its target would read as the policy's text) is read."""
    mode, kind, blob, size = _entry(repo, commit, path, seconds)
    if kind != "blob":  # the commit deleted or renamed the file, or holds a submodule there
        raise ArchiveError(f"{path!r} is not a file in commit {commit[:12]}")
    if mode not in _FILE_MODES:
        raise ArchiveError(f"{path!r} is a symlink in commit {commit[:12]}: no version")
    if size.isdigit() and int(size) > MAX_VERSION_BYTES:
        cap = MAX_VERSION_BYTES // 1_000_000
        raise ArchiveError(f"{path!r} in commit {commit[:12]} is over {cap} MB: not read")
    try:
        if not size.isdigit():  # "BAD": git cannot read the object
            raise ArchiveError(f"its size is {size!r}")
        return Body(_git_bytes(repo, ["cat-file", "blob", blob], seconds), MARKDOWN)
    except ArchiveError as exc:  # not recorded: once the clone is mended, the step is read
        raise FetchError(f"git cannot read {path!r} in commit {commit[:12]} ({exc}): a "
                         f"damaged or partial clone? (git -C {repo} fsck)", url=str(repo),
                         transient=True) from None  # fmt: skip


def _entry(repo: Path, commit: str, path: str, seconds: float) -> list[str]:
    """Mode, kind, object and size of ``path`` in ``commit`` ("" when it is not there);
    ArchiveError when ``path`` is a folder there (ls-tree would list what it holds, and
    its first file was once read as the document)."""
    args = ["ls-tree", "-l", "-z", "--full-tree", commit, "--", path]
    try:
        listed = _git_bytes(repo, args, seconds).decode("utf-8", "replace").split("\0")
    except ArchiveError as exc:
        raise ArchiveError(f"{path!r} is not in commit {commit[:12]} ({exc})") from None
    entries = [entry.partition("\t") for entry in listed if entry]
    if not entries:
        return ["", "", "", ""]
    fields, _, name = entries[0]
    if len(entries) > 1 or name != path or fields.split()[1:2] == ["tree"]:
        files = _inside(repo, commit, path, seconds)
        raise ArchiveError(f"{path!r} is a folder in commit {commit[:12]}, not a file: give "
                           f"the document's file with --path{files}")  # fmt: skip
    return (fields.split() + ["", "", "", ""])[:4]


def _inside(repo: Path, commit: str, path: str, seconds: float) -> str:
    """A few files of the folder ``path``, to suggest the right --path."""
    args = ["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--", path]
    names = _git_bytes(repo, args, seconds).decode("utf-8", "replace").split("\0")
    shown = [repr(name) for name in names if name][:3]
    return f", e.g. {', '.join(shown)}" if shown else ""


def folder_steps(folder: Path) -> list[Step]:
    """The corpus layout: ``manifest.json`` with ``versions`` [{file, commit, date}]."""
    try:
        raw = read_inside(folder, "manifest.json", MAX_VERSION_BYTES)
        manifest: dict[str, Any] = json.loads(raw)
        entries = manifest["versions"]
        source, path = _manifest_source(str(manifest.get("source") or ""), folder)
        steps = [Step(ref=str(v.get("commit") or v["file"]), at=parse_time(v["date"]),
                      load=partial(_read_file, folder, str(v["file"])), source=source,
                      path=path or str(v["file"]))
                 for v in entries]  # fmt: skip
    except (ArchiveError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ArchiveError(f"{folder}/manifest.json is not a versions manifest ({exc})") from None
    return sorted(steps, key=lambda s: s.at)


def _manifest_source(text: str, folder: Path) -> tuple[str, str]:
    """The repository and file a corpus manifest names ("Open Terms Archive,
    OpenTermsArchive/contrib-versions: Google/Privacy Policy.md"; Open Terms Archive's
    repositories are on GitHub), else the folder's name."""
    archive, _, named = text.rpartition(",")
    repo, _, path = named.strip().partition(": ")
    if not (repo and path and _OWNER_REPO.fullmatch(repo)):
        return folder.resolve().name, ""
    on_github = archive.strip().lower() == "open terms archive"
    return (f"https://github.com/{repo}" if on_github else repo), path


def _read_file(folder: Path, name: str) -> Body:
    return Body(read_inside(folder, name, MAX_VERSION_BYTES), MARKDOWN)


def _near(repo: Path, path: str, seconds: float) -> str:
    """Files of the repository's HEAD with the same name, to suggest the right --path."""
    try:
        names = _git(repo, ["ls-tree", "-r", "--name-only", "HEAD"], seconds).splitlines()
    except ArchiveError:
        return ""
    wanted = Path(path).name.lower()
    near = [n for n in names if Path(n).name.lower() == wanted][:3]
    return f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""


def _git(repo: Path, args: list[str], seconds: float) -> str:
    return _git_bytes(repo, args, seconds).decode("utf-8", "replace")


def _git_bytes(repo: Path, args: list[str], seconds: float) -> bytes:
    """Runs git on the repository within ``seconds``; ArchiveError with git's first line."""
    overrides = [part for setting in _SAFE_CONFIG for part in ("-c", setting)]
    # --literal-pathspecs: a --path is a file's name, never a pattern ("Google/*", ":/").
    command = ["git", "--literal-pathspecs", "-C", str(repo), *overrides, *args]
    # The ceiling: a folder that is no repository is an error, not read as the repository
    # around it (a folder inside a clone, a home directory kept in git).
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C",
           "GIT_NO_LAZY_FETCH": "1",  # a partial clone's missing blob: no network
           "GIT_CEILING_DIRECTORIES": str(repo.resolve().parent),
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=seconds, env=env, check=False)
    except FileNotFoundError:
        raise ArchiveError("git is not installed (apt-get install git)") from None
    except subprocess.TimeoutExpired:
        raise ArchiveError(f"git took over {seconds:g} s on {repo}") from None
    if done.returncode != 0:
        first = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"])[0]
        first = first.removeprefix("fatal: ")
        if first.startswith("not a git repository"):  # git's own words blame the parents
            first = (f"not a git repository: {repo} is no clone (give the folder holding "
                     ".git, or a bare clone)")  # fmt: skip
        raise ArchiveError(f"git: {first}")
    if len(done.stdout) > MAX_VERSION_BYTES * 10:
        raise ArchiveError(f"git answered over {MAX_VERSION_BYTES * 10} bytes for {repo}")
    return done.stdout
