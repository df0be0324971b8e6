# ruff: noqa: S608 - SQL here is built from fixed fragments; every user value is a bound parameter.
"""PostgreSQL's walks past the budget: time slices, and one walk per thread of a scope.

Ids are UUIDv7, so an id range is a time range: a slice of time is read with bitmap scans
only, which lets PostgreSQL AND the GIN index with the primary key's range.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from ....extensions import db
from ..compile import Query
from ..result import Collected, Page, Pair, full_or_all, more_than
from ..tuning import Tuning


class PgWalks:
    """The walk strategies of the PostgreSQL backend (a mixin of PostgresBackend)."""

    tuning: Tuning
    deferred: str
    sent_with: Callable[[str], str]  # Backend's (annotations only: the MRO finds Backend's)

    # Provided by PostgresBackend.
    def collect(
        self, q: Query, after: tuple[Any, ...] | None, limit: int, cap: int | None = None
    ) -> Collected | None:
        raise NotImplementedError

    def scope_threads_sql(self, q: Query) -> str | None:
        raise NotImplementedError

    def scope_ready(self) -> bool:
        raise NotImplementedError

    def walk_budget(self, q: Query, budget: int, limit: int, selectivity: float | None) -> int:
        if limit > 100 and selectivity and not q.narrowed:
            # A relevance window (hundreds of rows): walk as far as the estimate says it
            # takes, with room, rather than slice for the rest (slices re-read a common
            # word's whole posting list each).
            return max(budget, min(200_000, int(2 * (limit + 1) / selectivity)))
        if q.narrowed and selectivity:
            # The fence is costed for `budget` rows: when that is most of an author's (or a
            # thread's) messages, PostgreSQL bitmap-reads them all and sorts, where the walk
            # needs a page. A budget of ten times the rows the estimate needs keeps it a walk.
            needed = int(10 * (limit + 1) / selectivity)
            return min(budget, max(self.tuning.walk_narrow_min, needed))
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
        walked = len(pairs)
        if q.plan.any_of and q.narrowed and self.scope_ready():
            # One author or one thread whose words are rarer there than the estimate said
            # (a thread about something else): the scope index intersects the two inside
            # GIN, so the rest costs the author's entries, not the word's posting list.
            rest = self.scoped(q, (floor,), limit + 1 - walked)
            return full_or_all(pairs + rest, limit, "walk+scope")
        # The rest is rare: read it in time slices below the walk's last row.
        rate = (walked + 1) / budget if selectivity is None else selectivity
        more = self.slices(
            q, (floor,), limit + 1 - walked, min(rate, self.tuning.walk_min_selectivity)
        )
        return full_or_all(pairs + more.pairs, limit, f"walk+{more.strategy}")

    def slices(
        self, q: Query, after: tuple[Any, ...] | None, limit: int, selectivity: float
    ) -> Page:
        """Matches too rare to walk to, too many to collect: newest-first slices of time.

        Each slice is an id range (ids are time-ordered) sized to hold a page of matches at
        the estimated rate; bitmap scans only, so PostgreSQL ANDs the GIN (and any other
        index) with the id range and reads only the candidates in the slice. Slices grow
        fourfold until the page is full or the oldest message is reached.
        """
        newest, oldest, n = _timeline()
        if n <= 0 or newest <= oldest:
            got = self.collect(q, after, limit)
            assert got is not None  # no cap, never None
            return Page(*got, "collect")
        per_ms = n / (newest - oldest)
        # Each slice re-reads the word's whole GIN posting list: make the first one generous.
        span = max(60_000.0, 6 * (limit + 1) / max(selectivity, 1e-7) / per_ms)
        hi_ms: float = _ms_of(after[0]) + 1 if after else newest + 1
        upper = f"m.id < {q.bind(after[0])}" if after else None
        pairs: list[Pair] = []
        count = 0
        with scans_off(self, "indexscan", "seqscan") as off:
            db.session.execute(sa.text(off))
            while len(pairs) <= limit:
                lo_ms = hi_ms - span
                bounds = [f"m.id >= {q.bind(_id_at_ms(int(lo_ms)))}"]
                if upper:
                    bounds.append(upper)
                sql = (
                    f"SELECT m.id FROM messages m WHERE {q.where(extra=bounds)} "
                    "ORDER BY m.id DESC LIMIT :lim"
                )
                ids = db.session.execute(
                    sa.text(sql), {**q.params, "lim": limit + 1 - len(pairs)}
                ).scalars()
                pairs += [(i, None) for i in ids]
                count += 1
                if lo_ms <= oldest:
                    break
                upper = f"m.id < {q.bind(_id_at_ms(int(lo_ms)))}"
                hi_ms = lo_ms
                span *= 4
        return full_or_all(pairs, limit, f"slices:{count}")

    def scoped(self, q: Query, after: tuple[Any, ...] | None, limit: int) -> list[Pair]:
        """The newest `limit` matches below `after` through bitmap scans only: with the scope
        index, GIN intersects the words with the author or thread (migration 0007)."""
        extra = [f"m.id < {q.bind(after[0])}"] if after else []
        sql = (
            f"SELECT m.id FROM messages m WHERE {q.where(extra=extra)} "
            "ORDER BY m.id DESC LIMIT :lim"
        )
        with scans_off(self, "indexscan") as off:
            ids = db.session.execute(sa.text(off + sql), {**q.params, "lim": limit}).scalars()
            return [(i, None) for i in ids]

    def thread_walk(self, q: Query, after: tuple[Any, ...] | None, limit: int) -> Page:
        """Walk each thread of the scope newest-first, then merge the pages.

        With words and the scope index, each thread's walk is fenced (`thread_walk_budget`
        rows): a large thread about something else would otherwise be read to its first
        message. A thread whose fenced walk found less than a page and that holds more rows
        is then read through the scope index (GIN intersects the thread with the words).
        """
        threads = self.scope_threads_sql(q)
        seek = list(q.seek)
        if after:
            seek.append(f"m.id < {q.bind(after[0])}")
        where = " AND ".join([q.where(), *seek])
        fence = bool(q.plan.any_of) and self.scope_ready()
        if fence:
            rows_sql = (
                "(SELECT m.* FROM messages m WHERE m.thread_id = p.thread_id"
                f"{''.join(' AND ' + s for s in seek)} ORDER BY m.id DESC LIMIT :budget) m"
            )
        else:
            rows_sql = "messages m"
        sql = (
            f"SELECT x.id, p.thread_id FROM ({threads}) p CROSS JOIN LATERAL (SELECT m.id "
            f"FROM {rows_sql} WHERE m.thread_id = p.thread_id AND {where} "
            "ORDER BY m.id DESC LIMIT :lim) x"
        )
        budget = self.tuning.thread_walk_budget
        params = {**q.params, "lim": limit + 1, "budget": budget}
        # Each thread is estimated at the average size, so PostgreSQL would bitmap-read every
        # message of each and sort; a busy user's threads are big. Without bitmaps it walks
        # (thread_id, id) backwards and stops at a page (1M bench: 18 -> 6 ms).
        with scans_off(self, "bitmapscan") as off:
            rows = db.session.execute(sa.text(off + sql), params).all()
        found = {r[0] for r in rows}
        how = "walk:threads"
        if fence:
            rest = self._thread_rest(q, where, seek, rows, limit, budget)
            if rest is not None:
                found |= rest
                how += "+scope"
        pairs: list[Pair] = [(i, None) for i in sorted(found, reverse=True)[: limit + 1]]
        if len(pairs) > limit:
            nxt = (pairs[limit - 1][0],)
            return Page(pairs[:limit], nxt, more_than(len(pairs)), True, how)
        return Page(pairs, None, len(pairs), False, how)

    def _thread_rest(
        self, q: Query, where: str, seek: list[str], rows: Sequence[Any], limit: int, budget: int
    ) -> set[str] | None:
        """The threads whose fenced walk found less than a page and stopped at the fence
        (more rows below it): their newest matches through the scope index (None: no such
        thread)."""
        hits = Counter(thread_id for _, thread_id in rows)
        full = [t for t, n in hits.items() if n > limit]
        threads = self.scope_threads_sql(q)
        below = "".join(" AND " + s for s in seek)
        # The row past the fence, from the (thread_id, id) index alone.
        todo = list(
            db.session.execute(
                sa.text(
                    f"SELECT p.thread_id FROM ({threads}) p "
                    "WHERE p.thread_id <> ALL(CAST(:full AS text[])) AND (SELECT m.id FROM "
                    f"messages m WHERE m.thread_id = p.thread_id{below} ORDER BY m.id DESC "
                    "OFFSET :budget LIMIT 1) IS NOT NULL"
                ),
                {**q.params, "full": full, "budget": budget},
            ).scalars()
        )
        if not todo:
            return None
        sql = (
            "SELECT x.id FROM unnest(CAST(:todo AS text[])) AS p(thread_id) CROSS JOIN LATERAL "
            f"(SELECT m.id FROM messages m WHERE m.thread_id = p.thread_id AND {where} "
            "ORDER BY m.id DESC LIMIT :lim) x"
        )
        with scans_off(self, "indexscan") as off:
            ids = db.session.execute(
                sa.text(off + sql), {**q.params, "todo": todo, "lim": limit + 1}
            ).scalars()
            return set(ids)


@contextmanager
def scans_off(backend: PgWalks, *kinds: str, defer: bool = False) -> Iterator[str]:
    """Turn these plan kinds off ("indexscan", "bitmapscan", "seqscan") for the statements
    inside: yields the SQL that turns them off (after the backend's deferred settings), to
    run with the first statement (one round trip), and turns them back on after, whatever
    happens. `defer`: the next statement, which must go through `backend.sent_with`, turns
    them back on (the strategy's last statement; search() sends what none took)."""
    back_on = "".join(f"SET LOCAL enable_{k} = on; " for k in kinds)
    try:
        yield backend.sent_with("".join(f"SET LOCAL enable_{k} = off; " for k in kinds))
    finally:
        if defer:
            backend.deferred += back_on
        else:
            db.session.execute(sa.text(back_on))


def _timeline() -> tuple[int, int, float]:
    """Newest and oldest message times (ms, from the ids) and the table's row estimate."""
    hi, lo, n = db.session.execute(
        sa.text(
            "SELECT max(id), min(id), (SELECT reltuples FROM pg_class "
            "WHERE oid = 'messages'::regclass) FROM messages"
        )
    ).one()
    if hi is None:
        return 0, 0, 0.0
    return _ms_of(hi), _ms_of(lo), float(n or 0)


def _ms_of(message_id: str) -> int:
    """The millisecond timestamp in a UUIDv7 id."""
    try:
        return int(message_id[:8] + message_id[9:13], 16)
    except ValueError:
        return 0


def _id_at_ms(ms: int) -> str:
    """The smallest UUIDv7 id of millisecond `ms`."""
    h = f"{(max(ms, 0) & 0xFFFF_FFFF_FFFF) << 80:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
