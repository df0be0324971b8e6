"""What a search returns: hits, the result page, the cursor codec and a strategy's page of ids."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple

from .snippets import Snippet

if TYPE_CHECKING:
    from ...models import Message, Thread, User

# A result row as a strategy finds it: the message id and, on SQLite, its FTS rowid.
Pair = tuple[str, Any]


class BadCursor(ValueError):
    """The cursor is not one this service made."""


class Record(SimpleNamespace):
    """A read-only row of a model's columns, by attribute name (what the page shows)."""


@dataclass
class Hit:
    """One result: the message, its author and thread, and the snippet with its highlights.

    ORM objects when loaded with relations (the API), else read-only Records of their columns.
    """

    message: Message | Record
    author: User | Record
    thread: Thread | Record
    snippet: Snippet


@dataclass
class SearchResult:
    """A page of results and what the user should be told about the query."""

    query: str
    order: str
    items: list[Hit] = field(default_factory=list)
    next_cursor: str | None = None
    total: int = 0
    total_capped: bool = False
    warnings: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    strategy: str = ""
    searched: bool = False  # False when the query had nothing to search for
    # Relevance only: None when every match was ranked, else the size of the newest window
    # of matches that was ranked (see docs/search.md, "Relevance").
    ranked_window: int | None = None

    @property
    def ranking_label(self) -> str:
        """What a relevance order ranked: every match, or the newest window of them."""
        if self.order != "relevance":
            return ""
        if self.ranked_window is None:
            return "ranked among all matches"
        return f"ranked among the newest {self.ranked_window:,} matches"

    @property
    def total_label(self) -> str:
        if self.total_capped:
            return f"more than {self.total:,} results"
        return f"{self.total:,} result" + ("" if self.total == 1 else "s")


class Page(NamedTuple):
    """A strategy's answer: the page's pairs, the next cursor key, the total and its name.

    `window` (relevance only): None when every match was ranked, else how many of the newest
    matches were.
    """

    pairs: list[Pair]
    next_key: tuple[Any, ...] | None
    total: int
    capped: bool
    strategy: str
    window: int | None = None


class Collected(NamedTuple):
    """A collect's answer (no strategy name: the caller names what it was part of)."""

    pairs: list[Pair]
    next_key: tuple[Any, ...] | None
    total: int
    capped: bool


# Cursors -------------------------------------------------------------------------------------


def encode_cursor(order: str, key: tuple[Any, ...]) -> str:
    """The opaque cursor of the next page after `key` in `order`."""
    return json.dumps([order[0], *key], separators=(",", ":"))


def decode_cursor(cursor: str | None, order: str) -> tuple[Any, ...] | None:
    """The key a cursor of encode_cursor() holds; BadCursor for anything else."""
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
        if not isinstance(data, list) or not data or data[0] != order[0]:
            raise BadCursor("That cursor belongs to another search order.")
        if order == "newest" and len(data) == 2 and isinstance(data[1], str):
            return (data[1][:64],)
        if (
            order == "relevance"
            and len(data) == 3
            and isinstance(data[1], int | float)
            and isinstance(data[2], str)
        ):
            return (float(data[1]), data[2][:64])
    except (ValueError, TypeError, RecursionError):
        pass
    raise BadCursor("That cursor is not valid; start the search again.")


# Building a page -----------------------------------------------------------------------------


def sliced(pairs: list[Pair], limit: int, total: int, capped: bool, strategy: str) -> Page:
    """The first `limit` pairs, with the cursor when more were found."""
    nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
    return Page(pairs[:limit], nxt, total, capped, strategy)


def full_or_all(pairs: list[Pair], limit: int, strategy: str) -> Page:
    """A page from a read that stopped at limit + 1: "more than a page", or exactly these."""
    if len(pairs) > limit:
        return Page(pairs[:limit], (pairs[limit - 1][0],), limit, True, strategy)
    return Page(pairs, None, len(pairs), False, strategy)


def walked_then_collected(
    pairs: list[Pair], collected: Collected, limit: int, strategy: str, count_cap: int
) -> Page:
    """A page from the rows a walk found plus the rows collected after it: the first `limit`,
    the cursor when more remain, and the total (capped at count_cap) counting both parts."""
    walked = len(pairs)
    pairs = pairs + list(collected.pairs)
    total = walked + collected.total
    capped = collected.capped or total > count_cap
    return sliced(pairs, limit, min(total, count_cap), capped, strategy)


def more_than(n: int) -> int:
    """A round number below `n` (so "more than" it is true): 480 -> 400, 21 -> 20, 7 -> 6."""
    n -= 1
    if n < 10:
        return max(n, 0)
    magnitude = 10 ** (len(str(n)) - 1)
    return n // magnitude * magnitude
