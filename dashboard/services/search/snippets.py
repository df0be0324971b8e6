"""Snippets as plain text plus highlight offsets: never HTML.

The database marks the matched words (PostgreSQL's ts_headline, FTS5's snippet()) with two
random sentinels made for each search, so a message's own text cannot forge a highlight. This
module turns that text into a `Snippet`: the text without the sentinels and the (start, end)
offsets of each highlight. The `<mark>` markup is made by whoever shows it (the `highlight`
template filter, the API's `snippet` field), which escapes the text around the marks.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

SNIPPET_CHARS = 240  # a message longer than this is shown as fragments (or cut, unhighlighted)


class Snippet(NamedTuple):
    """The text to show and the [start, end) character offsets of its highlighted words.

    A tuple, not a dataclass: one is made per hit, and a tuple is the cheapest to build.
    """

    text: str
    marks: tuple[tuple[int, int], ...] = ()

    def segments(self) -> Iterator[tuple[str, bool]]:
        """The text in order as (piece, highlighted) pairs."""
        at = 0
        for start, end in self.marks:
            if start > at:
                yield self.text[at:start], False
            yield self.text[start:end], True
            at = end
        if at < len(self.text):
            yield self.text[at:], False


@dataclass(frozen=True)
class Sentinels:
    """The start and stop markers of one search (private-use characters and a nonce)."""

    start: str
    stop: str

    @classmethod
    def fresh(cls) -> Sentinels:
        nonce = secrets.token_hex(6)
        return cls(f"\ue000{nonce}\ue000", f"\ue001{nonce}\ue001")


def plain(content: str) -> Snippet:
    """A message without highlights: whole when short, else its beginning and an ellipsis."""
    text = content if len(content) <= SNIPPET_CHARS else content[:SNIPPET_CHARS] + "…"
    return Snippet(text)


def from_marked(raw: str | None, content: str, sentinels: Sentinels) -> Snippet:
    """The Snippet of the database's marked text (or of the content when nothing was marked)."""
    start, stop = sentinels.start, sentinels.stop
    if raw is None or start not in raw:
        return plain(content)
    # str methods only (C loops): the sentinels are new for each search, so a regex would be
    # compiled per search, and a loop over characters costs more than the query's rows.
    first, *marked = raw.split(start)
    pieces = [first.replace(stop, "")]  # a stray stop sentinel is dropped
    marks: list[tuple[int, int]] = []
    at = len(pieces[0])
    for chunk in marked:
        inside, _, rest = chunk.partition(stop)  # an unclosed mark runs to the next one
        rest = rest.replace(stop, "")
        marks.append((at, at + len(inside)))
        at += len(inside) + len(rest)
        pieces += (inside, rest)
    return Snippet("".join(pieces), tuple(marks))
