"""The search thresholds: one frozen dataclass, passed to `search(..., tuning=…)`.

The figures were measured on the 1M- and 10M-message benches (`python -m bench.search`); each
says when a strategy stops paying off. Word frequencies are not thresholds: they come from the
data (pg_stats on PostgreSQL, capped posting counts on SQLite). Tests force a strategy by
passing a `Tuning` with a threshold moved out of the way (`Tuning(rare_max=-1)`), never by
patching module state.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    """When each strategy is chosen (PG: PostgreSQL only, SQLite: SQLite only)."""

    count_cap: int = 1000  # "more than 1000 results" beyond this
    rare_max: int = 12_000  # PG: collect when the planner expects at most this many matches
    common_words: int = 50_000  # PG: words in more rows than this are walked, never sliced
    long_walk_budget: int = 15_000  # PG: … with this budget
    walk_min_selectivity: float = 0.004  # PG: walk when this share of the walked rows match
    walk_budget: int = 6_000  # rows a walk reads before it switches to collecting the rest
    thread_walk_budget: int = 2_000  # PG: rows each thread's walk reads (scope index only)
    driver_walk_budget: int = 2_000  # mentions:/has: index rows read newest first, then collect
    walk_narrow_min: int = 1_000  # PG: an author's or a thread's walk reads at least this many
    relevance_window: int = 300  # PG: relevance ranks at most this many of the newest matches
    sqlite_relevance_window: int = 300  # SQLite: … bm25() over this many of the newest matches
    fts_walk_budget: int = 1_000  # SQLite: FTS matches a walk reads before reading deeper
    fts_deep_budget: int = 30_000  # SQLite: … and the deeper read, before collecting the rest
    sqlite_filter_walk: int = 1_500  # SQLite: rows a walk without words reads, then collects
    scratch_max: int = 3_000  # SQLite: filters passing at most this many use a scratch table
    sqlite_fts_probe: int = 3_000  # SQLite: count FTS postings up to this to size a term
    sqlite_tagged_probe: int = 60  # … or up to this when author/thread tags narrow the match
    driver_batch: int = 200  # SQLite: mentions:/has: rows per scratch batch (then 4 times more)
    driver_max_rows: int = 4_200  # … reading at most this many (200+800+3200), then FTS5 drives
    scratch_drivers: bool = True  # SQLite: match mentions:/has: rows with words in batches
    tag_or_max: int = 200  # SQLite: filters naming at most this many threads go into FTS5
    use_scoped: bool = True  # SQLite: words in a large author or thread: its scope index
    scoped_max: int = 3_000  # SQLite: … collecting at most this many matches (more: walk)
    # PG with the RUM index (docs/search.md, "Cost model"): costs in µs, measured at 10M.
    use_rum: bool = True  # PG: use the RUM index when it exists
    use_scope: bool = True  # PG: use the scope index (words, author, thread) when it exists
    rum_max: int = 100_000  # PG: never a RUM scan for words estimated in more rows than this
    rum_entry_us: float = 1.0  # PG: a RUM scan reads every entry of the words: each costs this
    rum_row_us: float = 10.0  # PG: … and visits the heap for each row it tests (random)
    walk_row_us: float = 2.0  # PG: a walk visits rows in id order (mostly sequential heap)


DEFAULT = Tuning()
