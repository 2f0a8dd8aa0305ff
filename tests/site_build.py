"""A real store for the site's tests: the real `check` against pages served on 127.0.0.1
that change from sweep to sweep (an AI-training sentence added, a hostile text, the AI
sentence removed), then the real `site` command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.cli import main
from tests.cli_helpers import policy, write_watchlist
from tests.httpserver import LocalServer

DOC = "example-privacy"
AI_SENTENCE = "We may use your public posts and photos to train our AI models."
# Policy text that is markup once unescaped: it must show as text and never run.
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
STEPS = (
    "",
    f"<li>{AI_SENTENCE}</li>",
    f"<li>{AI_SENTENCE}</li><li>Contact: {HOSTILE.replace('<', '&lt;')}</li>",
    f"<li>Contact: {HOSTILE.replace('<', '&lt;')}</li>",
)


@dataclass(frozen=True)
class Built:
    data: Path
    site: Path  # data/feeds

    def page(self, name: str) -> str:
        return (self.site / name).resolve().as_uri()


def cli(*args: str) -> int:
    """Runs `policy-monitor ARGS` in this process; its exit status."""
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def page(step: int, token: str) -> bytes:
    """The policy at ``step`` (page chrome varies with ``token``), with a real <script>."""
    body = policy(extra=STEPS[step], token=token)
    return body.replace(b"</body>", b"<script>window.pwned = 3</script></body>")


def build_site(root: Path) -> Built:
    """Four sweeps of one document (v1 .. v4), then `site`."""
    with LocalServer() as server:
        built, _args = sweep_all(server, root)
    return built


def sweep_all(server: LocalServer, root: Path) -> tuple[Built, tuple[str, ...]]:
    """Checks each step's page once; the site and the `check` arguments."""
    data = root / "data"
    watchlist = write_watchlist(root / "w.yaml", {DOC: server.url("/privacy")})
    # Plain HTTP: the page's own <script> would otherwise have it rendered in Chromium.
    watchlist.write_text(watchlist.read_text() + "    fetcher: http\n")
    args = ("--watchlist", str(watchlist), "--data", str(data), "--delay", "0")
    for n in range(len(STEPS)):
        server.route("/privacy", body=page(n, f"t{n}"))
        assert cli("check", *args) == 0
    assert cli("site", "--data", str(data)) == 0
    return Built(data, data / "feeds"), args
