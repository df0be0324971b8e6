"""Message search (SPEC §6): the public `search()`, its result types and `PAGE_MAX`.

A search runs in stages, one module each:

- `parser.py`: the query string → a backend-independent Plan (never an error).
- `compile.py`: the Plan bound to a viewer → SQL conditions, one `by_<operator>` each.
- `backends/`: one backend per database (`backend_for(dialect)`) compiles the words for its
  text index and picks a strategy (collect, walk, slices …) from cheap size estimates.
- `page.py`: the page's rows in one query; `snippets.py`: highlights as text plus offsets
  (the `<mark>` markup is made by the views and the API, never here).
- `result.py`: Hit, SearchResult, the cursor codec; `tuning.py`: the thresholds.

`schema.py` and `sqlite_fts.py` hold the index structures (used by the migrations),
`maintenance.py` the reindex command. Views, the API and the CLI import this package; it
imports models and extensions only, never views, the API or `flask.request`.
"""

from __future__ import annotations

import time

from ...extensions import db
from ...models import User
from . import parser
from .backends import backend_for
from .compile import compile_query
from .page import load_hits
from .parser import Plan, parse
from .result import BadCursor, Hit, Record, SearchResult, decode_cursor, encode_cursor
from .snippets import Snippet
from .tuning import DEFAULT, Tuning

PAGE_MAX = 100

__all__ = [
    "PAGE_MAX",
    "BadCursor",
    "Hit",
    "Plan",
    "Record",
    "SearchResult",
    "Snippet",
    "Tuning",
    "parse",
    "search",
]


def search(
    viewer: User,
    query: str | None,
    *,
    cursor: str | None = None,
    limit: int = 20,
    order: str = "newest",
    all_threads: bool = False,
    with_relations: bool = False,
    tuning: Tuning = DEFAULT,
) -> SearchResult:
    """Search the messages `viewer` may see: every thread with `all_threads` (staff), else theirs.

    Never raises for any query string; a bad cursor raises BadCursor. `with_relations` also
    loads each message's mentions and attachments (for the API's Message objects).
    """
    started = time.perf_counter()
    order = order if order in ("newest", "relevance") else "newest"
    limit = max(1, min(int(limit), PAGE_MAX))
    staff = bool(all_threads and viewer.is_staff)
    plan = parser.parse(query)
    result = SearchResult(query=query or "", order=order, warnings=list(plan.warnings))
    after = decode_cursor(cursor, order)
    if plan.is_empty:
        result.warnings.append("Type words to look for, or an operator such as from:me.")
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result
    # Searched, even when an operator named nothing that exists: no results, and a warning.
    result.searched = True
    backend = backend_for(db.engine.dialect.name, tuning)
    q = compile_query(viewer, staff, plan, result.warnings, backend)
    if q is not None:
        order_used = order if plan.any_of else "newest"
        page = backend.run(q, order_used, after, limit)
        result.items = load_hits(page.pairs, q, backend, with_relations=with_relations)
        backend.finish()  # settings the strategy deferred and no page query took
        result.next_cursor = encode_cursor(order_used, page.next_key) if page.next_key else None
        result.total, result.total_capped = page.total, page.capped
        result.strategy = page.strategy
        result.ranked_window = page.window
        if not page.pairs and backend.only_stop_words(q):
            result.warnings.append(
                "The words are too common to search for (like “the” or “and”); add others."
            )
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    return result
