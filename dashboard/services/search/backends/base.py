# ruff: noqa: S608 - SQL here is built from fixed fragments; every user value is a bound parameter.
"""The backend interface: what a database's search does, and the registry `backend_for` reads.

A backend is a class per database (as redash's query runners): it compiles the words for its
text index (`compile_text`), picks and runs a strategy for a page of ids (`run`), and says how
the page's snippets are marked (`snippet_expr`, `snippet_params`). Strategies are methods;
the ones both databases share (the fenced walk, ranking a candidate set) live here, with
hooks where the databases differ. A new backend (or a variant of one, with its own index and
strategies) subclasses one of these and registers itself for its dialect; `search()` and the
page loader only ever call the methods below.
"""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa

from ....extensions import db
from ..compile import Query
from ..result import Page, Pair, full_or_all, more_than
from ..tuning import DEFAULT, Tuning

_REGISTRY: dict[str, type[Backend]] = {}


def register(cls: type[Backend]) -> type[Backend]:
    """Class decorator: `cls` serves searches on databases of its `dialect` (the last wins)."""
    _REGISTRY[cls.dialect] = cls
    return cls


def backend_for(dialect: str, tuning: Tuning = DEFAULT) -> Backend:
    """The backend for a SQLAlchemy dialect name ("postgresql", "sqlite")."""
    try:
        cls = _REGISTRY[dialect]
    except KeyError:
        raise LookupError(f"search has no backend for {dialect!r} databases") from None
    return cls(tuning)


class Backend:
    """One database's search. Instances are cheap: one per search, holding its tuning."""

    dialect: ClassVar[str]
    # Whether walks test filters with their per-row forms (EXISTS lookups) rather than sets.
    per_row_forms: ClassVar[bool] = False
    # The SQL of the second column of a strategy's rows (SQLite: the FTS rowid).
    rowid_sql: ClassVar[str] = "NULL"
    # The same, for a message id `d.mid` from a filter's own index (driver_walk()).
    driver_rowid_sql: ClassVar[str] = "NULL"
    # Whether a walk's outer query needs its own ORDER BY (see walk()).
    order_walk: ClassVar[bool] = True

    def __init__(self, tuning: Tuning = DEFAULT):
        self.tuning = tuning
        # Settings for the rest of the transaction (PostgreSQL's SET LOCAL) that travel with
        # the next statement rather than in a round trip of their own (`sent_with`).
        self.deferred = ""

    def sent_with(self, sql: str) -> str:
        """`sql` preceded by the deferred settings: one round trip sends both."""
        deferred, self.deferred = self.deferred, ""
        return deferred + sql

    def finish(self) -> None:
        """Send the deferred settings no statement took, so that whatever the transaction
        runs next runs with the database's defaults (search() calls it after the page)."""
        if self.deferred:
            db.session.execute(sa.text(self.sent_with("")))

    # -- compiling -----------------------------------------------------------------------------

    def db_value(self, value: Any) -> Any:
        """A bound parameter's value as this database compares it."""
        return value

    def has_mentioned_column(self) -> bool:
        """Whether messages carry who they mention, indexed with the words (PostgreSQL)."""
        return False

    def compile_text(self, q: Query) -> None:
        """Fill q's text fields (text_conds and the backend's own query strings)."""
        raise NotImplementedError

    def only_stop_words(self, q: Query) -> bool:
        """True when the words left nothing to search for (the database drops stop words)."""
        return False

    # -- strategies ----------------------------------------------------------------------------

    def run(self, q: Query, order: str, after: tuple[Any, ...] | None, limit: int) -> Page:
        """The page's (id, rowid) pairs, the next cursor key, the total and the strategy."""
        raise NotImplementedError

    def walk(
        self,
        q: Query,
        after: tuple[Any, ...] | None,
        limit: int,
        budget: int | None = None,
        fallback: bool = True,
        selectivity: float | None = None,
    ) -> Page:
        """Walk newest-first reading at most `budget` rows, then find the rest below them."""
        budget = budget or self.tuning.walk_budget
        # Walk the narrowest index that yields id order: one thread, one author, or all.
        seek = q.walk_seek(after)
        budget = self.walk_budget(q, budget, limit, selectivity)
        inner_where = " AND ".join(seek) if seek else "1 = 1"
        where = q.where(per_row=self.per_row_forms)
        # The inner LIMIT fences the walk: the planner cannot push the text test into it (so
        # it cannot trade the walk for a GIN bitmap and a sort), and it bounds the rows read.
        sql = (
            f"SELECT m.id, {self.rowid_sql} AS rid FROM (SELECT m.* FROM messages m "
            f"WHERE {inner_where} ORDER BY m.id DESC LIMIT :budget) m "
            f"WHERE {where}{' ORDER BY m.id DESC' if self.order_walk else ''} LIMIT :lim"
        )
        # PostgreSQL: the outer ORDER BY costs nothing while the plan keeps the walk's order;
        # when a join (a filter's set) does not, without it LIMIT would keep any rows, not the
        # newest. SQLite's per-row forms keep the order (nested loops), and there the ORDER BY
        # would sort the whole budget instead of stopping at a page.
        params = {**q.params, "budget": budget, "lim": limit + 1}
        rows = db.session.execute(sa.text(self.sent_with(sql)), params).all()
        pairs: list[Pair] = sorted(((r[0], r[1]) for r in rows), reverse=True)
        if len(pairs) <= limit and fallback:
            floor = self.walk_floor(q, inner_where, budget)
            if floor is not None:
                # The budget ran out before a full page: the rest is rare.
                return self.walk_rest(q, pairs, floor, limit, budget, selectivity)
        # A full page from a walk: counting every match would read them all. Say what is
        # known for certain (Slack and Gmail also give estimates here).
        return full_or_all(pairs, limit, "walk")

    def driver_walk(self, q: Query, after: tuple[Any, ...] | None, limit: int) -> Page | None:
        """mentions: or has: without words: their index yields message ids newest first (ids
        are time-ordered). Read at most `driver_walk_budget` of them, look the messages up by
        primary key, keep the newest page that passes the filters. None when the fence ran out
        before a page (the caller collects instead). Shared by both databases."""
        _, source = q.drivers[0]
        below = [f"d.mid < {q.bind(after[0])}"] if after else []
        budget = self.tuning.driver_walk_budget
        # The fence: the budget-th id below the cursor, off the filter's index alone (None:
        # fewer rows than that, so the walk below reads them all).
        floor = _nth_newest(q, f"({source}) d", "d.mid", " AND ".join([*below, "true"]), budget)
        if floor is not None:
            below.append(f"d.mid >= {q.bind(floor)}")
        # Newest first off the index, one primary-key lookup per id until a page passes;
        # DISTINCT keeps the index order (a message can have two attachments). Per-row forms:
        # the sets of mentions:/has: are the whole table's.
        sql = (
            f"SELECT DISTINCT d.mid, {self.driver_rowid_sql} FROM ({source}) d "
            f"WHERE {' AND '.join([*below, 'true'])} "
            "AND EXISTS (SELECT 1 FROM messages m WHERE m.id = d.mid AND "
            f"{q.where(per_row=True)}) ORDER BY d.mid DESC LIMIT :lim"
        )
        rows = db.session.execute(
            sa.text(self.sent_with(sql)), {**q.params, "lim": limit + 1}
        ).all()
        pairs: list[Pair] = [(r[0], r[1]) for r in rows]
        if len(pairs) > limit:
            return full_or_all(pairs, limit, "walk:driver")
        if floor is None:  # every row of the filter's index was read: these are all
            return Page(pairs, None, len(pairs), False, "walk:driver")
        return None

    def walk_budget(self, q: Query, budget: int, limit: int, selectivity: float | None) -> int:
        """The rows a walk may read (a hook: PostgreSQL shortens narrow walks)."""
        return budget

    def walk_rest(
        self,
        q: Query,
        pairs: list[Pair],
        floor: str,
        limit: int,
        budget: int,
        selectivity: float | None,
    ) -> Page:
        """The page when a walk found fewer than a page within its budget, ending at `floor`."""
        raise NotImplementedError

    def walk_floor(self, q: Query, inner_where: str, budget: int) -> str | None:
        """The last id the walk read, or None when it read every row there was."""
        return _nth_newest(q, "messages m", "m.id", inner_where, budget)

    # -- relevance -----------------------------------------------------------------------------

    def relevance_window(self) -> int:
        """How many of the newest matches relevance ranks at most (a hook: bm25() costs more)."""
        return self.tuning.relevance_window

    def relevance(self, q: Query, after: tuple[Any, ...] | None, limit: int) -> Page:
        """Best first among every match when they are few, else among the newest window.

        The candidates are the first `window` matches of the newest-first order, found by the
        same strategies as a newest-first page (so they are complete: a strategy that runs out
        of budget collects the rest). No next page there means they are every match: all are
        ranked and the total is exact. Otherwise the newest `window` are ranked and the page
        says so (`Page.window`). Ranking by score over the whole table would read every match
        of a common word.
        """
        window = self.relevance_window()
        newest = self.run(q, "newest", None, window)
        if not newest.pairs:
            return Page([], None, 0, False, f"relevance:all+{newest.strategy}")
        exact = newest.next_key is None
        how = f"relevance:{'all' if exact else 'window'}+{newest.strategy}"
        sql = self.rank_sql(q, newest.pairs)
        page = self.ranked(q, sql, after, limit, exact=exact, how=how)
        return page._replace(window=None if exact else window)

    def rank_sql(self, q: Query, pairs: list[Pair]) -> str:
        """`WITH c AS (… id, rid, score …)` over these matches (binding what it needs)."""
        raise NotImplementedError

    def ranked(
        self,
        q: Query,
        candidates_sql: str,
        after: tuple[Any, ...] | None,
        limit: int,
        *,
        exact: bool,
        how: str,
    ) -> Page:
        """Best first from `WITH c AS (… id, rid, score …)`; the cursor is (score, id).

        `exact`: the candidates are every match (the total is their count), else a window of
        the newest ones (the total is "more than").
        """
        sql = candidates_sql + (
            " SELECT (SELECT count(*) FROM c) AS n, p.id, p.rid, p.score FROM (SELECT 1) one "
            "LEFT JOIN (SELECT id, rid, score FROM c WHERE (:ascore IS NULL OR score < :ascore "
            "OR (score = :ascore AND id < :aid)) ORDER BY score DESC, id DESC LIMIT :lim) p "
            "ON 1 = 1"
        )
        params = {
            **q.params,
            "ascore": after[0] if after else None,
            "aid": after[1] if after else None,
            "lim": limit + 1,
        }
        rows = db.session.execute(sa.text(self.sent_with(sql)), params).all()
        total = int(rows[0][0]) if rows else 0
        got = [(r[1], r[2], float(r[3])) for r in rows if r[1] is not None]
        nxt = (got[limit - 1][2], got[limit - 1][0]) if len(got) > limit else None
        cap = self.tuning.count_cap
        if exact:
            total, capped = min(total, cap), total > cap
        else:
            total, capped = more_than(total + 1), True
        return Page([(i, r) for i, r, _ in got[:limit]], nxt, total, capped, how)

    # -- the page ------------------------------------------------------------------------------

    def snippet_expr(self) -> Any:
        """The page query's snippet column, with bind parameters (see snippet_params)."""
        raise NotImplementedError

    def snippet_params(self, q: Query) -> dict[str, Any]:
        """The values of snippet_expr()'s parameters for this search."""
        raise NotImplementedError

    def marked_text(self, raw: str) -> str:
        """The database's marked snippet as plain text with the sentinels (a hook)."""
        return raw

    def page_rows(
        self, stmt: Any, layout: Any, ids: list[str], snippet: dict[str, Any] | None
    ) -> Any:
        """Run the page statement for these ids, with snippet_params() when it has snippets
        (a hook: PostgreSQL prepares it)."""
        return db.session.connection().execute(stmt, {"ids": ids, **(snippet or {})})


def _nth_newest(q: Query, source: str, col: str, where: str, n: int) -> Any:
    """The n-th newest `col` of `source` under `where` (a walk's fence), or None if fewer."""
    return db.session.execute(
        sa.text(
            f"SELECT {col} FROM {source} WHERE {where} ORDER BY {col} DESC LIMIT 1 OFFSET :skip"
        ),
        {**q.params, "skip": n - 1},
    ).scalar()
