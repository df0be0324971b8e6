# ruff: noqa: S608 - SQL here is built from fixed fragments; every user value is a bound parameter.
"""Operators → SQL conditions over `messages m`: one `by_<operator>` method per operator.

`compile_query` binds a parsed Plan to a viewer: the scope (an end user's threads), each
operator of SPEC §6 as a condition (and, where a walk wants it, a per-row form of the same
test), the id bounds that dates imply (ids are time-ordered UUIDv7), and what the strategies
use to pick an index: one author, a set of threads, mentions:/has: drivers, FTS5 tags. The
words are compiled by the backend (`Backend.compile_text`), which knows its text index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ...extensions import db
from ...models import Participant, Thread, User, id_floor
from . import sqlite_fts
from .parser import WORD, Filter, Plan
from .snippets import Sentinels
from .tuning import Tuning

if TYPE_CHECKING:
    from .backends.base import Backend

_USER_BY_NAME = sa.select(User.id).where(sa.func.lower(User.username) == sa.bindparam("name"))
_THREAD_BY_ID = sa.select(Thread.id).where(Thread.id == sa.bindparam("v"))
THREADS_MAX = 50  # in: searches at most this many threads of one name or title
_THREADS_BY_NAME = sa.select(Thread.id).where(Thread.name == sa.bindparam("v")).limit(THREADS_MAX)
_EPOCH = datetime(1970, 1, 1)
DEFAULT_COND = "m.hidden_at IS NULL AND m.deleted_at IS NULL"


class Query:
    """A plan bound to a viewer: SQL conditions, their parameters, and what they narrow.

    The strategies read it; only the compiler and the backend's compile_text fill it.
    """

    def __init__(
        self,
        viewer: User,
        staff: bool,
        plan: Plan,
        warnings: list[str],
        *,
        tuning: Tuning,
        db_value: Any = None,
        mentioned_column: Any = None,
    ):
        self.viewer = viewer
        self.staff = staff
        self.plan = plan
        self.warnings = warnings
        self.tuning = tuning
        self.conds: list[str] = []
        self.params: dict[str, Any] = {}
        self.thread_ids: list[str] | None = None  # a set the results must fall in (in:)
        self.author_id: str | None = None
        self.seek: list[str] = []  # id bounds from the dates (ids are time-ordered)
        self.rowid_bounds: list[str] = []  # the same bounds on SQLite's FTS rowid
        self.date_conds: list[str] = []  # created_at tests that the id bounds mirror
        self.scope_cond: str | None = None  # an end user's "threads I am in"
        self.default_cond = DEFAULT_COND
        # FTS5 terms on search_tags saying what the filters say (SQLite, see sqlite_fts.py).
        self.fts_tags: list[str] = []
        self.tag_groups: list[list[str]] = []  # the same tags, as token lists (each ORed)
        # Index-ordered sources of candidate message ids for mentions:/has: (message ids are
        # time-ordered, so their indexes yield the newest first): (kind, SQL).
        self.drivers: list[tuple[str, str]] = []
        # PostgreSQL: whether messages.mentioned (migration 0009) holds who each message
        # mentions; asked only by a mentions: filter (a catalog lookup, cached).
        self.mentioned_column = mentioned_column or (lambda: False)
        # A walk tests a few rows, so "EXISTS (one index lookup)" beats "IN (a set built from
        # a whole table)" on SQLite; a collect wants the set. Walks use these forms.
        self.row_forms: dict[str, str] = {}
        # The words, as the backend compiled them: per-row tests, and its own query strings
        # (PostgreSQL: websearch `tq`/`tn`; SQLite: FTS5 `fq`/`fn`, `fq_words` without tags).
        self.text_conds: list[str] = []
        self.tq: str | None = None
        self.tn: str | None = None
        self.fq: str | None = None
        self.fn: str | None = None
        self.fq_words: str | None = None
        self.sentinels = Sentinels.fresh()
        self._db_value = db_value or (lambda value: value)
        self._n = 0

    def bind(self, value: Any) -> str:
        """A new bound parameter holding `value`, as `:name` for the SQL."""
        self._n += 1
        name = f"p{self._n}"
        self.params[name] = self._db_value(value)
        return f":{name}"

    def tag(self, prefix: str, values: list[str]) -> None:
        """Require one of these author/thread tags too (a few values only; the SQL test
        stays, so the tags only narrow what FTS5 returns). Used by SQLite only."""
        if not values or len(values) > self.tuning.tag_or_max:
            return
        tokens = [sqlite_fts.tag(prefix, v) for v in values]
        self.tag_groups.append(tokens)
        terms = [f'search_tags : "{token}"' for token in tokens]
        self.fts_tags.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")

    @property
    def narrowed(self) -> bool:
        """One author or one thread: walked on its own index, where every row is a candidate."""
        return self.author_id is not None or (
            self.thread_ids is not None and len(self.thread_ids) == 1
        )

    @property
    def has_phrase(self) -> bool:
        return any(t.is_phrase for g in self.plan.any_of for t in g)

    def where(
        self, extra: list[str] | None = None, text: bool = True, per_row: bool = False
    ) -> str:
        """The conditions ANDed: filters (per-row forms for a walk), id bounds, words, extra."""
        own = [self.row_forms.get(c, c) for c in self.conds] if per_row else self.conds
        conds = list(own) + list(self.seek) + (self.text_conds if text else []) + (extra or [])
        return " AND ".join(conds) if conds else "1 = 1"

    def walk_seek(self, after: tuple[Any, ...] | None) -> list[str]:
        """The walked index's range: the dates' id bounds, the cursor, one thread or author."""
        seek = list(self.seek)
        if after:
            seek.append(f"m.id < {self.bind(after[0])}")
        if self.thread_ids is not None and len(self.thread_ids) == 1:
            seek.append(f"m.thread_id = {self.bind(self.thread_ids[0])}")
        elif self.author_id is not None:
            seek.append(f"m.user_id = {self.bind(self.author_id)}")
        return seek


@dataclass(frozen=True)
class Cond:
    """One operator's test: as a set (`sql`) and, when it differs, as a per-row lookup."""

    sql: str
    row: str | None = None


HIDDEN = Cond("HIDDEN")  # is:hidden replaces the default "not hidden, not deleted" test


def compile_query(
    viewer: User, staff: bool, plan: Plan, warnings: list[str], backend: Backend
) -> Query | None:
    """The plan as SQL for `backend`; None when a filter can match nothing (with a warning)."""
    q = Query(
        viewer,
        staff,
        plan,
        warnings,
        tuning=backend.tuning,
        db_value=backend.db_value,
        mentioned_column=backend.has_mentioned_column,
    )
    if not Compiler(q).resolve():
        return None
    if plan.has_text:
        backend.compile_text(q)
    return q


class Compiler:
    """Each operator of the plan becomes a condition on the query (zulip's NarrowBuilder)."""

    def __init__(self, q: Query):
        self.q = q

    def resolve(self) -> bool:
        """Add the scope and every filter's condition; False when one matches nothing."""
        q = self.q
        ok = True
        hidden_wanted = False
        if not q.staff:
            q.scope_cond = (
                "m.thread_id IN (SELECT thread_id FROM participants WHERE user_id = "
                f"{q.bind(q.viewer.id)})"
            )
            q.conds.append(q.scope_cond)
        for f in q.plan.filters:
            cond = getattr(self, f"by_{f.name}")(f)
            if cond is None:
                if f.negated:
                    continue  # "not from an unknown user" excludes nothing
                ok = False
                continue
            if cond is HIDDEN:
                hidden_wanted = not f.negated
                continue
            # Negated: NOT EXISTS, never NOT IN. PostgreSQL cannot turn NOT IN into an
            # anti-join, and a set larger than work_mem (200k attachments at 10M) is then
            # scanned once per row tested (a walk of 2,000 rows took 560 ms).
            sql = f"NOT ({cond.row or cond.sql})" if f.negated else cond.sql
            q.conds.append(sql)
            if cond.row is not None and not f.negated:
                q.row_forms[sql] = cond.row
            if f.name in ("before", "after", "on") and not f.negated:
                q.date_conds.append(sql)
        q.conds.append("m.hidden_at IS NOT NULL" if hidden_wanted else q.default_cond)
        return ok

    # -- operators -----------------------------------------------------------------------------

    def by_from(self, f: Filter) -> Cond | None:
        user_id = self._user(f)
        if user_id is None:
            return None
        if not f.negated:
            self.q.tag("u", [user_id])
            self.q.author_id = user_id
        return Cond(f"m.user_id = {self.q.bind(user_id)}")

    def by_mentions(self, f: Filter) -> Cond | None:
        user_id = self._user(f)
        if user_id is None:
            return None
        uid = self.q.bind(user_id)
        if not f.negated:
            source = f"SELECT mn.message_id AS mid FROM mentions mn WHERE mn.user_id = {uid}"
            self.q.drivers.append(("mentions", source))
        row = (
            f"EXISTS (SELECT 1 FROM mentions mn WHERE mn.message_id = m.id AND mn.user_id = {uid})"
        )
        if not f.negated and self.q.mentioned_column():
            # As a set, the message's own list: with words, one scan of the (words, mentioned)
            # index. Per row the mentions key stays: tested on `mentioned`, the driver walk's
            # lookups would be planned as a join of all of the user's messages.
            return Cond(f"m.mentioned @> ARRAY[CAST({uid} AS text)]", row=row)
        return Cond(
            f"m.id IN (SELECT mn.message_id FROM mentions mn WHERE mn.user_id = {uid})", row=row
        )

    def by_in(self, f: Filter) -> Cond | None:
        q = self.q
        ids = self._threads(f.value)
        if not ids:
            whose = "No thread" if q.staff else "No thread of yours"
            q.warnings.append(f"{whose} has the id, name or title “{f.value[:40]}”.")
            return None
        if not f.negated:
            q.tag("t", ids)
            q.thread_ids = ids if q.thread_ids is None else [t for t in q.thread_ids if t in ids]
        return Cond(f"m.thread_id IN ({', '.join(q.bind(t) for t in ids)})")

    def by_has(self, f: Filter) -> Cond:
        kind = "" if f.value == "attachment" else f" AND a.type = {self.q.bind(f.value)}"
        rows = f"FROM attachments a WHERE a.message_id IS NOT NULL{kind}"
        if not f.negated:
            # No DISTINCT: it would keep SQLite from reading the index in order.
            self.q.drivers.append(("has", f"SELECT a.message_id AS mid {rows}"))
        return Cond(
            f"m.id IN (SELECT a.message_id {rows})",
            row=f"EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id{kind})",
        )

    def by_is(self, f: Filter) -> Cond:
        if f.value == "reply":
            return Cond("m.parent_id IS NOT NULL")
        if f.value == "archived":
            return Cond(
                "m.thread_id IN (SELECT id FROM threads WHERE is_archived)",
                # A scalar subquery: one primary-key lookup per row tested, which PostgreSQL
                # cannot turn into a hash of every archived thread (10 ms at 25,000 threads).
                row="(SELECT t.is_archived FROM threads t WHERE t.id = m.thread_id)",
            )
        if not self.q.staff:
            self.q.warnings.append("is:hidden is for staff only; it was ignored.")
            return Cond("1 = 1" if not f.negated else "1 = 0")
        return HIDDEN

    # Dates are days in UTC. Ids are UUIDv7, time-ordered: a date bounds the id too, so that
    # walks start at the right place and ranges use the primary key. A minute of slack covers
    # ids made a moment before or after created_at; created_at stays the exact test.

    def by_before(self, f: Filter) -> Cond:
        start = _day_start(f.day)
        if not f.negated:
            self._ids_below(start)
        return Cond(f"m.created_at < {self.q.bind(start)}")

    def by_after(self, f: Filter) -> Cond:
        begin = _shift(_day_start(f.day), days=1)
        if not f.negated:
            self._ids_from(begin)
        return Cond(f"m.created_at >= {self.q.bind(begin)}")

    def by_on(self, f: Filter) -> Cond:
        start = _day_start(f.day)
        end = _shift(start, days=1)
        if not f.negated:
            self._ids_below(end)
            self._ids_from(start)
        return Cond(f"m.created_at >= {self.q.bind(start)} AND m.created_at < {self.q.bind(end)}")

    # -- helpers -------------------------------------------------------------------------------

    def _ids_below(self, end: datetime) -> None:
        bound = _id_bound(_shift(end, minutes=1))
        self.q.seek.append(f"m.id < {self.q.bind(bound)}")
        self.q.rowid_bounds.append(f"rowid < {self.q.bind(sqlite_fts.key(bound))}")

    def _ids_from(self, begin: datetime) -> None:
        bound = _id_bound(_shift(begin, minutes=-1))
        self.q.seek.append(f"m.id >= {self.q.bind(bound)}")
        self.q.rowid_bounds.append(f"rowid >= {self.q.bind(sqlite_fts.key(bound))}")

    def _user(self, f: Filter) -> str | None:
        """The id of the user named (or of the viewer for `me`); None with a warning."""
        if f.value.lower() == "me":
            return self.q.viewer.id
        name = f.value.lstrip("@").lower()
        found = db.session.connection().execute(_USER_BY_NAME, {"name": name}).scalar()
        if found is None:
            shown = f"{'-' if f.negated else ''}{f.name}:{f.value}"
            self.q.warnings.append(f"No user is named “{f.value[:40]}” ({shown[:50]}).")
        return found

    def _threads(self, value: str) -> list[str]:
        """Threads the viewer may search with this id, else this name, else these title words.

        The id and the name use an index (the primary key, ix_threads_name); the title words
        are a scan of the titles, made only when neither matched (`in:billing` for a thread
        titled "Billing help"). At most THREADS_MAX threads, the most recently active first.
        """
        conn = db.session.connection()
        found = list(conn.execute(_THREAD_BY_ID, {"v": value}).scalars())
        if not found:
            found = list(conn.execute(_THREADS_BY_NAME, {"v": value}).scalars())
        if found and not self.q.staff:
            mine = set(
                db.session.scalars(
                    sa.select(Participant.thread_id).where(
                        Participant.user_id == self.q.viewer.id, Participant.thread_id.in_(found)
                    )
                )
            )
            found = [t for t in found if t in mine]
        if not found:
            found = self._threads_by_title(value)
        return list(dict.fromkeys(found))

    def _threads_by_title(self, value: str) -> list[str]:
        """Threads whose title has every word of `value` (as the search splits words)."""
        words = {w.lower() for w in WORD.findall(value)}
        if not words:
            return []
        stmt = sa.select(Thread.id, Thread.title)
        for w in sorted(words):  # letters and digits only: nothing to escape for LIKE
            stmt = stmt.where(Thread.title.ilike(f"%{w}%"))
        if not self.q.staff:
            stmt = stmt.join(Participant, Participant.thread_id == Thread.id).where(
                Participant.user_id == self.q.viewer.id
            )
        rows = db.session.execute(
            stmt.order_by(Thread.last_activity_at.desc(), Thread.id.desc()).limit(THREADS_MAX * 4)
        ).all()
        # LIKE found the words inside others too (`bill` in "Billing"): keep whole words.
        ids = [tid for tid, title in rows if words <= {w.lower() for w in WORD.findall(title)}]
        if len(ids) > THREADS_MAX:
            self.q.warnings.append(
                f"“in:{value[:40]}” matches more than {THREADS_MAX} thread titles; "
                f"only the {THREADS_MAX} most recently active were searched."
            )
        return ids[:THREADS_MAX]


def _shift(at: datetime, **delta: float) -> datetime:
    """`at` moved by `delta`, kept within the times Python allows."""
    try:
        return at + timedelta(**delta)
    except OverflowError:
        return datetime.max if delta.get("days", 0) + delta.get("minutes", 0) > 0 else datetime.min


def _id_bound(at: datetime) -> str:
    """id_floor() of a time, clamped to the times a UUIDv7 id holds (1970 on)."""
    return id_floor(max(at, _EPOCH))


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, dtime.min)
