# ruff: noqa: S608 - SQL here is built from fixed fragments; every user value is a bound parameter.
"""SQLite's walks down the FTS5 index, and the scratch FTS5 table for narrow filters.

FTS5's rowid is a time-ordered key (see ../sqlite_fts.py), so `ORDER BY rowid DESC` over a
MATCH yields the newest matches without a sort. Testing one message against FTS5 costs
~0.1 ms; tokenizing it into a temporary FTS5 table costs ~15 µs. So when the filters pass few
rows, those rows are copied into `temp.search_scratch` and the words matched there.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from ....extensions import db
from .. import sqlite_fts
from ..compile import Query
from ..result import Collected, Page, Pair, full_or_all, walked_then_collected
from ..tuning import Tuning

# Contentless (content=''): only the index is kept, and 'delete-all' empties it at once, where a
# DELETE updates the index row by row (5,000 rows: 1 ms against 46 ms; inserts 25% faster).
_SCRATCH = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_scratch USING fts5("
    f"content, content='', tokenize='{sqlite_fts.TOKENIZER}')"
)
_CLEAR = "INSERT INTO temp.search_scratch(search_scratch) VALUES('delete-all')"
_SCRATCH_MATCH = (
    "SELECT rowid FROM temp.search_scratch WHERE search_scratch MATCH :q ORDER BY rowid DESC"
)


class FtsWalks:
    """The FTS-ordered strategies of the SQLite backend (a mixin of SqliteBackend)."""

    tuning: Tuning

    def fts_walk(self, q: Query, after: tuple[Any, ...] | None, limit: int) -> Page:
        """Take FTS5 matches newest first (its rowid is time-ordered), test the rest.

        The inner LIMIT bounds how many matches are read; past it, read deeper, or match the
        words among the filters' rows when those are few.
        """
        t = self.tuning
        bounds = list(q.rowid_bounds)
        extra = []
        if after:
            # Ids sharing a key sort by id inside it: include the key's ties, then test the id.
            bounds.append(f"rowid <= {q.bind(sqlite_fts.key(after[0]) + 7)}")
            extra.append(f"m.id < {q.bind(after[0])}")
        rng = "".join(f" AND {b}" for b in bounds)
        where = q.where(extra=extra, text=False, per_row=True)
        sql = (
            "SELECT m.id, m.search_rowid FROM (SELECT rowid FROM messages_fts "
            f"WHERE messages_fts MATCH :fq{rng} ORDER BY rowid DESC LIMIT :budget) f "
            f"CROSS JOIN messages m ON m.search_rowid = f.rowid WHERE {where} LIMIT :lim"
        )
        params = {**q.params, "budget": t.fts_walk_budget, "lim": limit + 1}
        pairs: list[Pair] = sorted(
            ((r[0], r[1]) for r in db.session.execute(sa.text(sql), params)), reverse=True
        )
        if len(pairs) > limit:
            return full_or_all(pairs, limit, "fts-walk")
        floor = self._fts_floor(q, rng, None, t.fts_walk_budget)
        if floor is None:
            return full_or_all(pairs, limit, "fts-walk")  # read every match there was
        # Many matches, few pass the filters. When the filters themselves pass few rows,
        # match the words among those (a scratch FTS5 table); else read on, deeper: reading
        # FTS rowids is cheap (a few µs each, joined), testing one message against FTS5 is
        # not (~0.1 ms).
        walked = len(pairs)
        rest_extra = [*extra, f"m.search_rowid < {q.bind(floor)}"]
        if self._count_upto(q, rest_extra, t.scratch_max) <= t.scratch_max:
            collected = self._collect_scratch(q, rest_extra, limit + 1 - walked)
            return walked_then_collected(pairs, collected, limit, "fts-walk+scratch", t.count_cap)
        deep = (
            "SELECT m.id, m.search_rowid FROM (SELECT rowid FROM messages_fts "
            f"WHERE messages_fts MATCH :fq{rng} AND rowid < :floor ORDER BY rowid DESC "
            f"LIMIT :budget) f CROSS JOIN messages m ON m.search_rowid = f.rowid WHERE {where} "
            "LIMIT :lim"
        )
        more_rows = db.session.execute(
            sa.text(deep),
            {**params, "floor": floor, "budget": t.fts_deep_budget, "lim": limit + 1 - walked},
        ).all()
        pairs += sorted(((r[0], r[1]) for r in more_rows), reverse=True)
        if len(pairs) > limit:
            return full_or_all(pairs, limit, "fts-walk:deep")
        floor2 = self._fts_floor(q, rng, floor, t.fts_deep_budget)
        if floor2 is None:
            return full_or_all(pairs, limit, "fts-walk:deep")
        # Still short: the words are common and the filters narrow. Take the filters' rows
        # (through their own index) when they are few, else test against the match set.
        walked = len(pairs)
        rest_extra = [*extra, f"m.search_rowid < {q.bind(floor2)}"]
        few = self._count_upto(q, rest_extra, t.scratch_max) <= t.scratch_max
        collect = self._collect_scratch if few else self._collect_in_set
        collected = collect(q, rest_extra, limit + 1 - walked)
        return walked_then_collected(pairs, collected, limit, "fts-walk+collect", t.count_cap)

    def _fts_floor(self, q: Query, rng: str, below: int | None, budget: int) -> int | None:
        """The rowid of the budget-th newest match (under `below`), or None if fewer."""
        under = " AND rowid < :floor" if below is not None else ""
        return db.session.execute(
            sa.text(
                f"SELECT rowid FROM messages_fts WHERE messages_fts MATCH :fq{rng}{under} "
                "ORDER BY rowid DESC LIMIT 1 OFFSET :skip"
            ),
            {**q.params, "floor": below, "skip": budget - 1},
        ).scalar()

    def driver_scratch(self, q: Query, after: tuple[Any, ...] | None, limit: int) -> Page:
        """mentions:/has: with words: read the filter's rows newest first off its index in
        growing batches, match the words among each batch in a scratch FTS5 table (one
        tokenizing pass, ~15 µs a row, where an FTS5 lookup per row costs ~0.1 ms)."""
        t = self.tuning
        _, source = q.drivers[0]
        scratch_table()
        below = after[0] if after else None
        batch = t.driver_batch
        where = q.where(
            extra=["m.id IN (SELECT value FROM json_each(:batch_ids))"], text=False, per_row=True
        )
        keys: list[int] = []
        exhausted = False
        read = 0
        while len(keys) <= limit:
            if read >= t.driver_max_rows:
                break  # the words are rare among the filter's rows: FTS5 drives the rest
            bound = " AND d.mid < :below" if below is not None else ""
            ids = list(
                db.session.execute(
                    sa.text(
                        f"SELECT d.mid FROM ({source}) d WHERE d.mid IS NOT NULL{bound} "
                        "ORDER BY d.mid DESC LIMIT :k"
                    ),
                    {**q.params, "below": below, "k": batch},
                ).scalars()
            )
            if ids:
                fill_scratch(where, {**q.params, "batch_ids": json.dumps(ids)})
                keys += db.session.execute(sa.text(_SCRATCH_MATCH), {"q": q.fq_words}).scalars()
                clear_scratch()
            read += len(ids)
            if len(ids) < batch:
                exhausted = True
                break
            below = ids[-1]
            batch *= 4
        pairs = _pairs_of_keys(q, keys, limit + 1)
        how = "driver-scratch"
        if len(pairs) <= limit and not exhausted:
            # Every driver row from `below` up is read: walk FTS5 under it for the rest.
            more = self.fts_walk(q, (below,), limit - len(pairs) or 1)
            pairs += more.pairs
            if len(pairs) > limit or (more.next_key and len(pairs) == limit):
                return Page(pairs[:limit], (pairs[limit - 1][0],), limit, True, how + "+fts-walk")
            total = len(pairs) - len(more.pairs) + more.total
            return Page(pairs, None, min(total, t.count_cap), more.capped, how + "+fts-walk")
        if len(pairs) > limit:
            if exhausted:
                total, capped = min(len(keys), t.count_cap), len(keys) > t.count_cap
            else:
                total, capped = limit, True
            return Page(pairs[:limit], (pairs[limit - 1][0],), total, capped, how)
        return Page(pairs, None, len(pairs), False, how)

    def _count_upto(self, q: Query, extra: list[str], cap: int) -> int:
        """How many rows pass the filters (not the words), counting at most cap + 1."""
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM messages m "
            f"WHERE {q.where(extra=extra, text=False)} LIMIT :cap)"
        )
        return int(db.session.execute(sa.text(sql), {**q.params, "cap": cap + 1}).scalar() or 0)

    def _collect_scratch(self, q: Query, extra: list[str], limit: int) -> Collected:
        """Copy the few rows passing the filters into the scratch FTS5 table (same tokenizer)
        and match the words there: one tokenizing pass beats a lookup per row."""
        scratch_table()
        fill_scratch(q.where(extra=extra, text=False), q.params)
        keys = list(db.session.execute(sa.text(_SCRATCH_MATCH), {"q": q.fq_words}).scalars())
        clear_scratch()
        count_cap = self.tuning.count_cap
        pairs = _pairs_of_keys(q, keys, limit)
        return Collected(pairs, None, min(len(keys), count_cap), len(keys) > count_cap)

    def _collect_in_set(self, q: Query, extra: list[str], limit: int) -> Collected:
        """Rows passing the filters whose key is in the FTS match set (built once)."""
        where = q.where(extra=extra, text=False)
        sql = (
            "WITH c AS MATERIALIZED (SELECT m.id, m.search_rowid AS rid FROM messages m "
            f"WHERE {where} AND m.search_rowid IN "
            "(SELECT rowid FROM messages_fts WHERE messages_fts MATCH :fq)) "
            "SELECT (SELECT count(*) FROM c) AS n, p.id, p.rid FROM (SELECT 1) one "
            "LEFT JOIN (SELECT id, rid FROM c ORDER BY id DESC LIMIT :lim) p ON 1"
        )
        rows = db.session.execute(sa.text(sql), {**q.params, "lim": limit}).all()
        total = int(rows[0][0]) if rows else 0
        pairs: list[Pair] = [(r[1], r[2]) for r in rows if r[1] is not None]
        count_cap = self.tuning.count_cap
        return Collected(pairs, None, min(total, count_cap), total > count_cap)


def scratch_table() -> None:
    """The session's empty scratch FTS5 table (made once per connection)."""
    db.session.execute(sa.text(_SCRATCH))
    clear_scratch()


def fill_scratch(where: str, params: dict[str, Any]) -> None:
    """Copy the messages passing `where` into the scratch table (keyed by their FTS rowid)."""
    db.session.execute(
        sa.text(
            "INSERT INTO temp.search_scratch(rowid, content) SELECT m.search_rowid, m.content "
            f"FROM messages m WHERE {where}"
        ),
        params,
    )


def clear_scratch() -> None:
    """Empty the scratch table."""
    db.session.execute(sa.text(_CLEAR))


def _pairs_of_keys(q: Query, keys: list[int], n: int) -> list[Pair]:
    """The newest `n` (id, rowid) pairs of these FTS keys, in id order."""
    if not keys:
        return []
    top = sorted(keys, reverse=True)[: n + 20]  # ties in a key sort by id: a few extra
    binds = ", ".join(q.bind(k) for k in top)
    rows = db.session.execute(
        sa.text(
            f"SELECT id, search_rowid FROM messages WHERE search_rowid IN ({binds}) "
            "ORDER BY id DESC"
        ),
        q.params,
    ).all()
    return [(r[0], r[1]) for r in rows][:n]
