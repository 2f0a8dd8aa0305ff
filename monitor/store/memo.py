"""Version texts an importing store keeps in memory (issue 14: importing in seconds).

An import reads the document's current version back at every step (to compare the next
text with it) and the latest version's paragraphs at every new version (to give the new
text's lines the same ids). Both are texts this process stored or rebuilt a moment ago:
kept here, keyed by their sha256 (the ``text_sha256`` a version row carries, checked by
every rebuild), a text read back is the same string without rebuilding it from its
paragraphs. A version row's text is found by its sha256 only, so a rolled-back
transaction cannot make it wrong; the paragraph ids of a text are the ids of its stored
row, each line's id in order (``"\\n".join`` of the paragraphs is the text).

Only an import keeps texts (``Store.keep_texts``): a check reads one version and ends,
and a reader of a damaged database gets its error, never a text remembered from before.
"""

from __future__ import annotations

from collections import OrderedDict

# Distinct texts kept: a history flipping between a few variants, the current version and
# the latest one (a document or two at a time).
SIZE = 16


class Texts:
    """The last ``size`` version texts stored or read, by their ``text_sha256``."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._texts: OrderedDict[object, str] = OrderedDict()

    def get(self, digest: object) -> str | None:
        found = self._texts.get(digest)
        if found is not None:
            self._texts.move_to_end(digest)
        return found

    def put(self, digest: object, text: str) -> None:
        self._texts[digest] = text
        self._texts.move_to_end(digest)
        if len(self._texts) > self.size:
            self._texts.popitem(last=False)


def by_id(ids: list[int], text: str) -> dict[int, str] | None:
    """Each paragraph id of a version's list with its line of the version's ``text``
    (None when they do not pair up: then the paragraphs are read from the database)."""
    lines = text.split("\n")
    if len(lines) != len(ids):
        return None
    return dict(zip(ids, lines, strict=True))
