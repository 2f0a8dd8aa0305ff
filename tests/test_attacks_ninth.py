"""Attacks of branch attack9 (bench/HOSTILE.md, "attack9"): a locale redirect, Latin
look-alikes, typed phrases against look-alikes, and the new attacks of that round. Each
is a real server on 127.0.0.1 (or a real file) read with the real CLI."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import write_watchlist
from tests.httpserver import LocalServer
from tests.test_attacks_flag import Site, page, site  # noqa: F401 (the fixture)

ENGLISH = page("<p>We keep your account details for as long as your account is open.</p>")
FRENCH = page("<p>Nous conservons vos données tant que votre compte est ouvert.</p>")
MOVED = page("<p>We keep your account details for ninety days after you close it.</p>")


def _check(site: Site) -> str:  # noqa: F811
    done = site.cli("check", "--watchlist", site.watchlist)
    return done.out + done.err


def test_a_redirect_to_another_language_is_no_change_of_the_policy(
    site: Site,  # noqa: F811
    local_server: LocalServer,
) -> None:
    """Attack: the policy's address (no locale in it) starts redirecting to the French
    page (`/p` -> `/fr/p`: geolocation, a CDN's new rule). Once: "changed: v1 -> v2", the
    French translation recorded as a new version of the English policy. Now one line
    names the new address and says it is another language; nothing is recorded. A move
    within the site (no locale) is still a change, and a locale redirect reading the same
    words (`/p` -> `/en/p`) is unchanged."""
    site.check(ENGLISH)
    local_server.route("/fr/p", body=FRENCH)
    local_server.route("/p", status=302, headers={"Location": local_server.url("/fr/p")})
    out = _check(site)
    assert f"redirected to locale fr ({local_server.url('/fr/p')})" in out, out
    assert len(out.strip().splitlines()) == 1, out
    assert site.changes() == []
    # the same words at /en/p: a locale marker the versions did not have, nothing new
    local_server.route("/en/p", body=ENGLISH)
    local_server.route("/p", status=302, headers={"Location": local_server.url("/en/p")})
    assert "unchanged" in _check(site)
    # a real move within the site stays a change
    local_server.route("/legal/p", body=MOVED)
    local_server.route("/p", status=301, headers={"Location": local_server.url("/legal/p")})
    assert "changed: v1 -> v2" in _check(site)
    assert len(site.changes()) == 1


def test_a_watch_url_naming_the_locale_is_followed(
    site: Site,  # noqa: F811
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    """The way out the line gives: the operator puts /fr/p in the watchlist; the French
    page is then read (a change: the operator asked for it)."""
    site.check(ENGLISH)
    local_server.route("/fr/p", body=FRENCH)
    write_watchlist(tmp_path / "watchlist.yaml", {"doc": local_server.url("/fr/p")})
    out = _check(site)
    assert "changed: v1 -> v2" in out, out
