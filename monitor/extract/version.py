"""The extractor's version and the default limits of what it parses, in a module of their
own: the check's observation, its options and the extractor share these values, and a
check that gets a 304 reads them without loading the parser (lxml)."""

from __future__ import annotations

# The extractor's version: a new one re-reads history (a technical upgrade, never a
# change). Its history is told in monitor/extract/html.py, which reads pages as this.
EXTRACTOR_VERSION = "7"
# The parse limits' defaults (`--max-page-mb`, `--max-elements`): monitor/extract/limits.py.
MAX_PARSE_BYTES = 5_000_000
MAX_ELEMENTS = 50_000
