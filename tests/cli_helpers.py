"""Runs the real CLI in-process and serves policy pages from a local server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.cli import main

POLICY = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><nav><a href="/">Home</a></nav><main><h1>{title}</h1>
<p>We collect the content you create, such as posts and photos, and how you use our services.</p>
<h2>How we use information</h2><ul><li>To provide and personalise our services.</li>
<li>To keep our community safe and secure for everyone who uses it.</li>{extra}</ul>
<h2>Your choices</h2><p>You can access, correct or delete your information at any time.</p>
</main><footer>Request {token}</footer></body></html>"""


def policy(title: str = "Privacy Policy", extra: str = "", token: str = "t1") -> bytes:
    return POLICY.format(title=title, extra=extra, token=token).encode()


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Runs `policy-monitor ARGS` and returns its exit code and output."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def write_watchlist(path: Path, docs: dict[str, str], company: str = "Example") -> Path:
    lines = ["documents:"]
    for doc_id, url in docs.items():
        lines += [f"  - id: {doc_id}", f"    company: {company}", f"    title: {doc_id} policy",
                  f"    url: {url}"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path
