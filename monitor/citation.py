"""How to cite an imported version: the archive's repository and file, a permalink when
the repository is on GitHub, and Open Terms Archive's attribution (its data is ODC-BY 1.0).

Pure: what an :class:`~monitor.models.Origin` records, turned into names and links. A
journalist must be able to find the exact bytes again without this tool (journalist8):
"imported from ota 1ee400faca21" names no repository a reader knows.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote, urlsplit, urlunsplit

from monitor.models import Origin

ARCHIVE_NAMES = {"ota": "Open Terms Archive", "snapshots": "saved snapshots",
                 "wayback": "the Wayback Machine"}  # fmt: skip
# Open Terms Archive publishes its data under the Open Database License's attribution
# sibling: whoever shows it must name the archive and the licence.
OTA_LICENCE = "ODC-BY 1.0"
OTA_LICENCE_URL = "https://opendatacommons.org/licenses/by/1-0/"
OTA_HOME = "https://opentermsarchive.org"
ATTRIBUTION = (
    f"Imported history from Open Terms Archive ({OTA_HOME}), "
    f"licensed under {OTA_LICENCE} ({OTA_LICENCE_URL})."
)
_SCP = re.compile(r"^[\w.-]+@([\w.-]+):(.+)$")  # git@github.com:OWNER/REPO.git
_GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


def clean_remote(url: str) -> str:
    """A clone's remote as a citable https address: credentials dropped (a token in
    ``https://user:TOKEN@host/...`` must never be stored or published), the scp form
    ``git@host:owner/repo.git`` and ``ssh://`` spelled as https (their port is ssh's);
    a GitHub URL loses its ``.git``. A local path (another clone on this machine) is
    cited by its folder's name: the site must not publish the operator's paths."""
    url = url.strip()
    scp = _SCP.match(url)
    if scp and "://" not in url:
        url = f"https://{scp.group(1)}/{scp.group(2)}"
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ssh", "git") and parts.hostname:
        web = parts.scheme in ("http", "https")
        port = f":{parts.port}" if parts.port and web else ""
        url = urlunsplit((parts.scheme if web else "https", parts.hostname + port, parts.path,
                          "", ""))  # fmt: skip
    elif "://" not in url or parts.scheme == "file":
        return PurePosixPath(parts.path if parts.scheme == "file" else url).name
    found = _GITHUB.match(url)
    return f"https://github.com/{found.group(1)}/{found.group(2)}" if found else url


def _github(origin: Origin) -> str:
    """The repository's GitHub address, when the origin is an OTA commit there."""
    if origin.archive != "ota" or not _SHA.match(origin.ref):
        return ""
    return origin.source if _GITHUB.match(origin.source) else ""


def commit_url(origin: Origin | None) -> str:
    """The commit's page on GitHub, or ""."""
    repo = _github(origin) if origin else ""
    return f"{repo}/commit/{origin.ref}" if repo and origin else ""


def file_url(origin: Origin | None) -> str:
    """The exact file the version was read from: the GitHub permalink of the file at its
    commit, or the Wayback capture's URL; "" when there is none to link."""
    if origin is None:
        return ""
    repo = _github(origin)
    if repo and origin.path:
        return f"{repo}/blob/{origin.ref}/{quote(origin.path)}"
    if origin.archive == "wayback" and origin.path.startswith(("https://", "http://")):
        return origin.path
    return ""


def where(origin: Origin) -> str:
    """``https://github.com/OWNER/REPO: Service/Doc.md`` (source and path), or ""."""
    return ": ".join(part for part in (origin.source, origin.path) if part)


def cite(origin: Origin) -> str:
    """One line naming the archive, the repository or folder, the file and the id."""
    name = ARCHIVE_NAMES.get(origin.archive, origin.archive)
    parts = [name]
    if origin.archive == "wayback":
        parts.append(f"capture {origin.path or origin.ref}")
    else:
        if origin.source:
            parts.append(origin.source)
        if origin.path:
            parts.append(f"file {origin.path!r}")
        if origin.archive == "ota":
            parts.append(f"commit {origin.ref}")
        elif origin.ref != origin.path:
            parts.append(origin.ref)
    return ", ".join(parts)


def is_ota(origin: Origin | None) -> bool:
    return origin is not None and origin.archive == "ota"
