# ruff: noqa: S608 - SQL here is built from fixed fragments; every user value is a bound parameter.
"""SQLite: FTS5 over messages (see ../sqlite_fts.py); strategies chosen from posting counts.

- **collect**: FTS5 yields few matches (counted up to a small cap): take them all, test the
  filters with one index lookup each, sort.
- **FTS walk**: FTS5's rowid is a time-ordered key, so the newest matches of any words come
  off the index in order; filters are tested on the joined rows (sqlite_walks.py). `from:`,
  `in:` and an end user's threads are FTS5 tokens too (search_tags), so they narrow the match
  inside the index. A narrow filter with common words matches in a scratch FTS5 table.
- **driver scratch**: `mentions:`/`has:` with words: the filter's newest rows come off its
  index (message ids are time-ordered) in growing batches, matched in a scratch table.
- **driver walk**: `mentions:`/`has:` without words: the filter's index newest first, fenced
  (shared with PostgreSQL, base.py).
- **walk**: no words: messages newest first on the narrowest index, then collected.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from ....extensions import db
from ....models import Participant
from .. import sqlite_scopes
from ..compile import Query
from ..parser import Term
from ..result import Collected, Page, Pair
from . import sqlite_walks
from .base import Backend, register
from .sqlite_walks import FtsWalks

_MY_THREADS = (
    sa.select(Participant.thread_id)
    .where(Participant.user_id == sa.bindparam("u"))
    .limit(sa.bindparam("n"))
)
# Excluded words, when they are not folded into :fq (with a NOT).
_NOT_EXCLUDED = (
    " AND NOT EXISTS (SELECT 1 FROM messages_fts g WHERE g.messages_fts MATCH :fn"
    " AND g.rowid = m.search_rowid)"
)


@register
class SqliteBackend(FtsWalks, Backend):
    """Search on SQLite (FTS5 `messages_fts`, external content, time-ordered rowids)."""

    dialect = "sqlite"
    per_row_forms = True
    order_walk = False  # the per-row forms keep the walk's order
    rowid_sql = "m.search_rowid"
    driver_rowid_sql = "(SELECT x.search_rowid FROM messages x WHERE x.id = d.mid)"

    # -- compiling -----------------------------------------------------------------------------

    def db_value(self, value: Any) -> Any:
        if hasattr(value, "strftime"):
            # SQLAlchemy's SQLite DateTime storage format, so times compare as strings.
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def compile_text(self, q: Query) -> None:
        plan = q.plan
        words = fts(plan.any_of) if plan.any_of else None
        neg = " OR ".join(_fts_term(t) for t in plan.exclude) if plan.exclude else None
        pos = words
        if words and not q.staff:
            ids = db.session.connection().execute(
                _MY_THREADS, {"u": q.viewer.id, "n": self.tuning.tag_or_max + 1}
            )
            q.tag("t", list(ids.scalars()))
        if words and q.fts_tags:
            # The filters' tags narrow the match inside FTS5 (doclists intersected).
            pos = f"({words}) AND " + " AND ".join(q.fts_tags)
        # Without the tags (for a scratch table holding only the text).
        q.fq_words = f"({words}) NOT ({neg})" if words and neg else words
        if pos and neg:
            q.fq, q.fn = f"({pos}) NOT ({neg})", None
        else:
            q.fq, q.fn = pos, neg
        if q.fq:
            q.params["fq"] = q.fq
            q.text_conds.append(
                "EXISTS (SELECT 1 FROM messages_fts f WHERE f.messages_fts MATCH :fq "
                "AND f.rowid = m.search_rowid)"
            )
        if q.fn:
            q.params["fn"] = q.fn
            q.text_conds.append(
                "NOT EXISTS (SELECT 1 FROM messages_fts f WHERE f.messages_fts MATCH :fn "
                "AND f.rowid = m.search_rowid)"
            )

    # -- choosing ------------------------------------------------------------------------------

    def run(self, q: Query, order: str, after: tuple[Any, ...] | None, limit: int) -> Page:
        t = self.tuning
        if not q.fq:
            # No words: one author or one thread is walked newest-first on its own index,
            # where every row is a candidate; an end user's few threads are collected.
            if q.narrowed:
                return self.walk(q, after, limit)
            if q.drivers:
                # mentions:/has: alone: their own index is newest first (ids are time-ordered),
                # one primary-key lookup per row (10M: 86 -> 2 ms for a user's 7,000 mentions).
                walked = self.driver_walk(q, after, limit)
                if walked is not None:
                    return walked
            # Otherwise walk a little (common filters fill a page at once); past that budget
            # the matches are rare and the filters' own indexes collect the rest.
            return self.walk(q, after, limit, budget=t.sqlite_filter_walk)
        if order == "relevance":
            return self.relevance(q, after, limit)
        # With words: FTS5 drives, either all of a few matches (collect) or the newest
        # matches in its time-ordered rowid order (walk).
        if q.tag_groups and t.use_scoped:
            # A large author or thread: its own index finds the few matches inside it.
            scoped = self.scoped_collect(q, after, limit)
            if scoped is not None:
                return scoped
        if q.has_phrase:
            # FTS5 checks phrase positions lazily in rowid order: never count them all.
            return self.fts_walk(q, after, limit)
        # With author/thread tags, FTS5's matches mostly pass the filters: walk sooner.
        probe = t.sqlite_tagged_probe if q.fts_tags else t.sqlite_fts_probe
        size = self.text_size(q, probe)
        if size > probe:
            if t.scratch_drivers and q.drivers and q.fq_words:
                # mentions:/has: with common words: the filter's newest rows, matched in a
                # scratch table.
                return self.driver_scratch(q, after, limit)
            return self.fts_walk(q, after, limit)
        return Page(*self.collect(q, after, limit, "text"), "collect:text")

    def text_size(self, q: Query, probe: int) -> int:
        """FTS5 postings of the positive words (with tags), counted up to probe + 1."""
        return int(
            db.session.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT 1 FROM messages_fts WHERE messages_fts "
                    "MATCH :fq LIMIT :cap)"
                ),
                {"fq": q.fq, "cap": probe + 1},
            ).scalar()
            or 0
        )

    def scoped_ids(self, q: Query) -> list[str] | None:
        """The messages matching the words in one tag group (from:, in:, an end user's
        threads) with a ready scope among its tags: the scope index's rowid range for each
        ready scope, FTS5 with the other tags. None when no group has a ready scope, or when
        the matches are more than scoped_max (common there: a walk fills a page at once)."""
        conn = db.session.connection()
        if not sqlite_scopes.exists(conn):
            return None
        ready = sqlite_scopes.ready(conn, sorted({tag for g in q.tag_groups for tag in g}))
        groups = [g for g in q.tag_groups if any(tag in ready for tag in g)]
        if not groups:
            return None
        group = min(groups, key=lambda g: sum(tag not in ready for tag in g))
        fts_table, rows, span = sqlite_scopes.FTS, sqlite_scopes.ROWS, sqlite_scopes.SPAN
        parts = [
            f"SELECT r.message_id AS mid FROM {fts_table} s CROSS JOIN {rows} r "
            f"ON r.srid = s.rowid WHERE {fts_table} MATCH :w "
            f"AND s.rowid >= {ready[tag] * span} AND s.rowid < {(ready[tag] + 1) * span}"
            for tag in group
            if tag in ready
        ]
        cap = self.tuning.scoped_max
        params: dict[str, Any] = {"w": q.fq_words, "cap": cap + 1}
        small = [tag for tag in group if tag not in ready]
        if small:
            params["ws"] = (
                f"({q.fq_words}) AND ("
                + " OR ".join(f'search_tags : "{tag}"' for tag in small)
                + ")"
            )
            parts.append(
                "SELECT m.id AS mid FROM messages_fts f CROSS JOIN messages m "
                "ON m.search_rowid = f.rowid WHERE messages_fts MATCH :ws"
            )
        sql = "SELECT mid FROM (" + " UNION ALL ".join(parts) + ") LIMIT :cap"
        ids = list(db.session.execute(sa.text(sql), params).scalars())
        return None if len(ids) > cap else ids

    def scoped_collect(self, q: Query, after: tuple[Any, ...] | None, limit: int) -> Page | None:
        """Every match inside a large scope (few), filtered and counted: see scoped_ids."""
        ids = self.scoped_ids(q)
        if ids is None:
            return None
        q.params["scoped_ids"] = json.dumps(ids)
        return Page(*self.collect(q, after, limit, "scoped"), "collect:scoped")

    # -- strategies ----------------------------------------------------------------------------

    def collect(
        self, q: Query, after: tuple[Any, ...] | None, limit: int, driver: str | None
    ) -> Collected:
        """Materialize every match (few), count them, return the newest page below `after`."""
        if driver == "text":
            # FTS5 yields few rows here: test mentions:/has:/is:archived with one index lookup
            # each rather than building their whole sets.
            where = q.where(text=False, per_row=True)
            candidates = (
                "SELECT m.id, m.search_rowid AS rid FROM messages_fts f "
                "CROSS JOIN messages m ON m.search_rowid = f.rowid "
                f"WHERE f.messages_fts MATCH :fq AND {where}" + (_NOT_EXCLUDED if q.fn else "")
            )
        elif driver == "scoped":
            # The words' matches are these ids (scoped_ids): the filters test each.
            where = q.where(
                extra=["m.id IN (SELECT value FROM json_each(:scoped_ids))"],
                text=False,
                per_row=True,
            )
            candidates = f"SELECT m.id, m.search_rowid AS rid FROM messages m WHERE {where}"
        else:
            candidates = f"SELECT m.id, m.search_rowid AS rid FROM messages m WHERE {q.where()}"
        sql = (
            f"WITH c AS MATERIALIZED ({candidates}) "
            "SELECT (SELECT count(*) FROM c) AS n, p.id, p.rid FROM (SELECT 1) one "
            "LEFT JOIN (SELECT id, rid FROM c WHERE (:after IS NULL OR id < :after) "
            "ORDER BY id DESC LIMIT :lim) p ON 1"
        )
        params = {**q.params, "after": after[0] if after else None, "lim": limit + 1}
        rows = db.session.execute(sa.text(sql), params).all()
        total = int(rows[0][0]) if rows else 0
        pairs: list[Pair] = [(r[1], r[2]) for r in rows if r[1] is not None]
        nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
        count_cap = self.tuning.count_cap
        return Collected(pairs[:limit], nxt, min(total, count_cap), total > count_cap)

    def walk_rest(
        self,
        q: Query,
        pairs: list[Pair],
        floor: str,
        limit: int,
        budget: int,
        selectivity: float | None,
    ) -> Page:
        # The walk found all its matches (fewer than a page); the collect below its last row
        # counts every match there (its cursor bounds only its page): the walked ones are in
        # its count already.
        driver = "text" if q.plan.any_of else None
        more = self.collect(q, (floor,), limit + 1 - len(pairs), driver)
        pairs = pairs + more.pairs
        nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
        return Page(pairs[:limit], nxt, more.total, more.capped, "walk+collect")

    def relevance_window(self) -> int:
        return self.tuning.sqlite_relevance_window

    def rank_sql(self, q: Query, pairs: list[Pair]) -> str:
        # bm25() over the candidates alone: they are copied into the scratch FTS5 table (same
        # tokenizer, ~15 µs a row) and ranked there, so the words' weights come from the rows
        # ranked. FTS5's bm25() on messages_fts would first count every row holding each word
        # (a common word's whole doclist: 150 ms at 10M, whatever the window). bm25() is lower
        # for better matches: negated, higher is better.
        sqlite_walks.scratch_table()
        q.params["rank_ids"] = json.dumps([i for i, _ in pairs])
        q.params["rank_fq"] = q.fq_words
        sqlite_walks.fill_scratch("m.id IN (SELECT value FROM json_each(:rank_ids))", q.params)
        return (
            "WITH c AS MATERIALIZED (SELECT m.id, m.search_rowid AS rid, "
            "-bm25(search_scratch) AS score FROM temp.search_scratch s "
            "CROSS JOIN messages m ON m.search_rowid = s.rowid "
            "WHERE search_scratch MATCH :rank_fq)"
        )

    def ranked(self, q: Query, candidates_sql: str, *args: Any, **kwargs: Any) -> Page:
        try:
            return super().ranked(q, candidates_sql, *args, **kwargs)
        finally:
            sqlite_walks.clear_scratch()

    # -- the page ------------------------------------------------------------------------------

    def snippet_expr(self) -> Any:
        table = sa.table("messages_fts", sa.column("rowid"))
        name: Any = sa.literal_column("messages_fts")
        start: Any = sa.bindparam("hl_start")
        stop: Any = sa.bindparam("hl_stop")
        return (
            sa.select(sa.func.snippet(name, 0, start, stop, "…", 24))
            .select_from(table)
            .where(
                name.op("MATCH")(sa.bindparam("hl_q")),
                table.c.rowid == sa.literal_column("messages.search_rowid"),
            )
            .scalar_subquery()
        )

    def snippet_params(self, q: Query) -> dict[str, Any]:
        start, stop = q.sentinels.start, q.sentinels.stop
        return {"hl_start": start, "hl_stop": stop, "hl_q": fts(q.plan.any_of)}


def _fts_term(term: Term) -> str:
    """One FTS5 phrase on the text column: words are letters and digits only, so quoting makes
    it literal; the column filter keeps it off the filters' tags."""
    return 'content : "' + " ".join(term.words).replace('"', '""') + '"'


def fts(groups: list[list[Term]]) -> str:
    """An FTS5 query: the groups ORed, each an AND of its terms."""
    return " OR ".join("(" + " AND ".join(_fts_term(t) for t in g) + ")" for g in groups)
