# ruff: noqa: S608 - SQL here is built from fixed fragments; every user value is a bound parameter.
"""Message search (SPEC §6): scope, plan, pick a strategy, run it on PostgreSQL or SQLite.

Results are newest first (by message id: UUIDv7, time-ordered) or by relevance. A page is
found by one of a few strategies, chosen per query from cheap size estimates:

- **collect**: the matches are few (a rare word, a narrow filter): materialize them all with
  no LIMIT (so the planner uses the GIN/FTS or btree index it should, never the "walk the
  created_at index for a rare word" trap) and sort that small set. The count is exact.
- **walk**: a page of matches lies within a few thousand rows: walk messages newest first on
  the narrowest index that yields id order (primary key, (thread_id, id), (user_id, id)),
  fenced by a LIMIT so the planner cannot swap it for "GIN bitmap of a common word, then
  sort", testing each row. A budget bounds the rows read; past it the rest is rare, so it is
  collected (or sliced) below the last id read. The count says "more than 20".
- PostgreSQL, **per-thread walk**: an end user's threads each walked, pages merged (LATERAL).
- PostgreSQL, **time slices**: between the two, id ranges (ids are time-ordered) sized from
  the estimated rate, read with bitmap scans only, so the GIN is ANDed with the id range.
- SQLite, **FTS walk**: FTS5's rowid is a time-ordered key (see sqlite_fts.py), so the newest
  matches of any words come off the index in order; filters are tested on the joined rows.
  `from:`, `in:` and an end user's threads are FTS5 tokens too (search_tags), so they narrow
  the match inside the index. A narrow filter with common words matches in a scratch FTS5
  table over the filter's rows.
- SQLite, **driver scratch**: `mentions:`/`has:` with words: the filter's newest rows come off
  its index (message ids are time-ordered) in growing batches, matched in a scratch table.

PostgreSQL sizes come from the planner (one EXPLAIN, no rows read); SQLite counts FTS5
postings (or filtered rows) up to a small cap. Snippets are made only for the rows shown.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Message, Participant, Thread, User, id_floor
from . import parser, sqlite_fts
from .parser import Filter, Plan, Term

PAGE_MAX = 100
COUNT_CAP = 1000  # "more than 1000 results" beyond this
RARE_MAX = 12_000  # PG: collect when the planner expects at most this many matches
COMMON_WORDS = 50_000  # PG: words in more rows than this are walked, never sliced
LONG_WALK_BUDGET = 15_000  # PG: … with this budget
WALK_MIN_SELECTIVITY = 0.004  # PG: walk when at least this share of the walked rows match
COLLECT_MAX = 10_000  # collect at most this (PG estimates unknown words at 0.5%)
WALK_BUDGET = 6_000  # rows a walk reads before it switches to collecting the rest
WALK_NARROW_MIN = 1_000  # PG: an author's or a thread's walk reads at least this many
RELEVANCE_WINDOW = 1_000  # relevance ranks at most this many of the newest matches
SQLITE_RELEVANCE_WINDOW = 300  # SQLite: … bm25() over this many of the newest matches
RELEVANCE_SCAN = 2_000  # … found among this many newest messages, when the words are common
FTS_WALK_BUDGET = 1_000  # SQLite: FTS matches a walk reads before reading deeper
FTS_DEEP_BUDGET = 30_000  # SQLite: … and the deeper read, before collecting the rest
SQLITE_FILTER_WALK = 1_500  # SQLite: rows a walk without words reads before collecting
SCRATCH_MAX = 3_000  # SQLite: filters passing at most this many rows use a scratch FTS table
SQLITE_FTS_PROBE = 3_000  # SQLite: count FTS postings up to this to size a term
SQLITE_TAGGED_PROBE = 300  # … or up to this when author/thread tags narrow the match
DRIVER_BATCH = 200  # SQLite: mentions:/has: rows matched per scratch batch (then 4 times more)
DRIVER_MAX_ROWS = 4_200  # … reading at most this many (200 + 800 + 3200) before FTS5 drives
SCRATCH_DRIVERS = True  # SQLite: match mentions:/has: rows with words in scratch batches
SNIPPET_CHARS = 240
TAG_OR_MAX = 200  # SQLite: filters naming at most this many threads (users…) go into FTS5


class BadCursor(ValueError):
    """The cursor is not one this service made."""


class Record(SimpleNamespace):
    """A read-only row of a model's columns, by attribute name (what the page shows)."""


@dataclass
class Hit:
    """One result: the message, its author and thread, and the highlighted snippet.

    ORM objects when loaded with relations (the API), else read-only Records of their columns.
    """

    message: Message | Record
    author: User | Record
    thread: Thread | Record
    snippet: Markup


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

    @property
    def total_label(self) -> str:
        if self.total_capped:
            return f"more than {self.total:,} results"
        return f"{self.total:,} result" + ("" if self.total == 1 else "s")


def search(
    viewer: User,
    query: str | None,
    *,
    cursor: str | None = None,
    limit: int = 20,
    order: str = "newest",
    all_threads: bool = False,
    with_relations: bool = False,
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
    after = _decode_cursor(cursor, order)
    dialect = db.engine.dialect.name
    q = _Query(dialect, viewer, staff, plan, result.warnings)
    if plan.is_empty:
        result.warnings.append("Type words to look for, or an operator such as from:me.")
    elif q.resolve():
        result.searched = True
        order_used = order if plan.any_of else "newest"
        ids, next_key, total, capped, strategy = q.run(order_used, after, limit)
        result.items = _load_hits(ids, q, with_relations=with_relations)
        result.next_cursor = _encode_cursor(order_used, next_key) if next_key else None
        result.total, result.total_capped, result.strategy = total, capped, strategy
        if not ids and q.only_stop_words():
            result.warnings.append(
                "The words are too common to search for (like “the” or “and”); add others."
            )
    else:
        result.searched = True  # an operator named nothing that exists: no results, say why
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    return result


# Cursors -------------------------------------------------------------------------------------


def _encode_cursor(order: str, key: tuple[Any, ...]) -> str:
    return json.dumps([order[0], *key], separators=(",", ":"))


def _decode_cursor(cursor: str | None, order: str) -> tuple[Any, ...] | None:
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


# The query -----------------------------------------------------------------------------------


_MY_THREADS = (
    sa.select(Participant.thread_id)
    .where(Participant.user_id == sa.bindparam("u"))
    .limit(sa.bindparam("n"))
)
_USER_BY_NAME = sa.select(User.id).where(sa.func.lower(User.username) == sa.bindparam("name"))


_THREAD_BY_ID = sa.select(Thread.id).where(Thread.id == sa.bindparam("v"))
_THREADS_BY_NAME = sa.select(Thread.id).where(Thread.name == sa.bindparam("v")).limit(50)


def _shift(at: datetime, **delta: float) -> datetime:
    """`at` moved by `delta`, kept within the times Python allows."""
    try:
        return at + timedelta(**delta)
    except OverflowError:
        return datetime.max if delta.get("days", 0) + delta.get("minutes", 0) > 0 else datetime.min


def _id_bound(at: datetime) -> str:
    """id_floor() of a time, clamped to the times a UUIDv7 id holds (1970 on)."""
    return id_floor(max(at, _EPOCH))


_EPOCH = datetime(1970, 1, 1)


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, dtime.min)


class _Query:
    """A plan bound to a viewer and a database: SQL conditions, drivers, and the two strategies."""

    def __init__(self, dialect: str, viewer: User, staff: bool, plan: Plan, warnings: list[str]):
        self.pg = dialect == "postgresql"
        self.viewer = viewer
        self.staff = staff
        self.plan = plan
        self.warnings = warnings
        self.conds: list[str] = []
        self.params: dict[str, Any] = {}
        self.thread_ids: list[str] | None = None  # a set the results must fall in (in:, scope)
        self.author_id: str | None = None
        self.seek: list[str] = []  # id bounds from the dates (ids are time-ordered)
        self.rowid_bounds: list[str] = []  # the same bounds on SQLite's FTS rowid
        self.date_conds: list[str] = []  # created_at tests that the id bounds mirror
        self.scope_cond: str | None = None  # an end user's "threads I am in"
        self.filters_n = 0
        # SQLite: FTS5 terms on search_tags saying what the filters say (see sqlite_fts.py).
        self.fts_tags: list[str] = []
        # SQLite: index-ordered sources of candidate message ids for mentions:/has: (message
        # ids are time-ordered, so their indexes yield the newest first): (kind, SQL).
        self.drivers: list[tuple[str, str]] = []
        # SQLite: a walk tests a few rows, so "EXISTS (one index lookup)" beats "IN (a set
        # built from a whole table)"; a collect wants the set. Walks use these forms.
        self.row_forms: dict[str, str] = {}
        self._row_form: str | None = None
        self.default_cond = "m.hidden_at IS NULL AND m.deleted_at IS NULL"
        self.nonce = secrets.token_hex(6)
        self._n = 0

    # -- binding -------------------------------------------------------------------------------

    def _bind(self, value: Any) -> str:
        self._n += 1
        name = f"p{self._n}"
        if isinstance(value, datetime) and not self.pg:
            # SQLAlchemy's SQLite DateTime storage format, so times compare as strings.
            value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        self.params[name] = value
        return f":{name}"

    def _user(self, value: str) -> str | None:
        """The id of the user named (or of the viewer for `me`), or None."""
        if value.lower() == "me":
            return self.viewer.id
        name = value.lstrip("@").lower()
        return db.session.connection().execute(_USER_BY_NAME, {"name": name}).scalar()

    def _threads(self, value: str) -> list[str]:
        # Both tests use an index (the primary key, ix_threads_name): no scan of all threads.
        conn = db.session.connection()
        found = list(conn.execute(_THREAD_BY_ID, {"v": value}).scalars())
        if not found:
            found = list(conn.execute(_THREADS_BY_NAME, {"v": value}).scalars())
        if found and not self.staff:
            mine = set(
                db.session.scalars(
                    sa.select(Participant.thread_id).where(
                        Participant.user_id == self.viewer.id, Participant.thread_id.in_(found)
                    )
                )
            )
            found = [t for t in found if t in mine]
        return list(dict.fromkeys(found))

    def resolve(self) -> bool:
        """Turn the filters into SQL; False when a filter can match nothing (with a warning)."""
        ok = True
        hidden_wanted = False
        if not self.staff:
            self.scope_cond = (
                "m.thread_id IN (SELECT thread_id FROM participants WHERE user_id = "
                f"{self._bind(self.viewer.id)})"
            )
            self.conds.append(self.scope_cond)
        for f in self.plan.filters:
            sql = self._filter_sql(f)
            if sql is None:
                if f.negated:
                    continue  # "not from an unknown user" excludes nothing
                ok = False
                continue
            if sql == "HIDDEN":
                hidden_wanted = not f.negated
                continue
            cond = f"NOT ({sql})" if f.negated else sql
            self.conds.append(cond)
            if self._row_form is not None:
                row = self._row_form
                self.row_forms[cond] = f"NOT ({row})" if f.negated else row
                self._row_form = None
            if f.name in ("before", "after", "on") and not f.negated:
                self.date_conds.append(cond)
        if hidden_wanted:
            self.conds.append("m.hidden_at IS NOT NULL")
        else:
            self.conds.append(self.default_cond)
        if ok and self.plan.has_text:
            self._text_sql()
        return ok

    def _filter_sql(self, f: Filter) -> str | None:
        shown = f"{'-' if f.negated else ''}{f.name}:{f.value}"
        if f.name in ("from", "mentions"):
            user_id = self._user(f.value)
            if user_id is None:
                self.warnings.append(f"No user is named “{f.value[:40]}” ({shown[:50]}).")
                return None
            if not f.negated and f.name == "from":
                self._tag("u", [user_id])
            if f.name == "from":
                if not f.negated:
                    self.author_id = user_id
                return f"m.user_id = {self._bind(user_id)}"
            uid = self._bind(user_id)
            if not f.negated:
                self.drivers.append(
                    (
                        "mentions",
                        f"SELECT mn.message_id AS mid FROM mentions mn WHERE mn.user_id = {uid}",
                    )
                )
            self._row_form = (
                "EXISTS (SELECT 1 FROM mentions mn WHERE mn.message_id = m.id "
                f"AND mn.user_id = {uid})"
            )
            return f"m.id IN (SELECT mn.message_id FROM mentions mn WHERE mn.user_id = {uid})"
        if f.name == "in":
            ids = self._threads(f.value)
            if not ids:
                self.warnings.append(f"No thread of yours has the name or id “{f.value[:40]}”.")
                return None
            if not f.negated:
                self._tag("t", ids)
                self.thread_ids = (
                    ids if self.thread_ids is None else [t for t in self.thread_ids if t in ids]
                )
            return f"m.thread_id IN ({', '.join(self._bind(t) for t in ids)})"
        if f.name == "has":
            kind = "" if f.value == "attachment" else f" AND a.type = {self._bind(f.value)}"
            if not f.negated:
                self.drivers.append(
                    (
                        "has",
                        # No DISTINCT: it would keep SQLite from reading the index in order.
                        "SELECT a.message_id AS mid FROM attachments a "
                        f"WHERE a.message_id IS NOT NULL{kind}",
                    )
                )
            self._row_form = f"EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id{kind})"
            return (
                "m.id IN (SELECT a.message_id FROM attachments a "
                f"WHERE a.message_id IS NOT NULL{kind})"
            )
        if f.name == "is":
            if f.value == "reply":
                return "m.parent_id IS NOT NULL"
            if f.value == "archived":
                self._row_form = (
                    "EXISTS (SELECT 1 FROM threads t WHERE t.id = m.thread_id AND t.is_archived)"
                )
                return "m.thread_id IN (SELECT id FROM threads WHERE is_archived)"
            if not self.staff:
                self.warnings.append("is:hidden is for staff only; it was ignored.")
                return "1 = 1" if not f.negated else "1 = 0"
            return "HIDDEN"
        start = _day_start(f.day)
        if not f.negated:
            # Ids are UUIDv7, time-ordered: bound the id too, so that walks start at the right
            # place and ranges use the primary key. A minute of slack covers ids made a moment
            # before or after created_at; created_at stays the exact test.
            if f.name in ("before", "on"):
                end = start if f.name == "before" else _shift(start, days=1)
                self.seek.append(f"m.id < {self._bind(_id_bound(_shift(end, minutes=1)))}")
                key = sqlite_fts.key(_id_bound(_shift(end, minutes=1)))
                self.rowid_bounds.append(f"rowid < {self._bind(key)}")
            if f.name in ("after", "on"):
                begin = _shift(start, days=1) if f.name == "after" else start
                self.seek.append(f"m.id >= {self._bind(_id_bound(_shift(begin, minutes=-1)))}")
                key = sqlite_fts.key(_id_bound(_shift(begin, minutes=-1)))
                self.rowid_bounds.append(f"rowid >= {self._bind(key)}")
        if f.name == "before":
            return f"m.created_at < {self._bind(start)}"
        if f.name == "after":
            return f"m.created_at >= {self._bind(_shift(start, days=1))}"
        return (
            f"m.created_at >= {self._bind(start)} AND "
            f"m.created_at < {self._bind(_shift(start, days=1))}"
        )

    def _tag(self, prefix: str, values: list[str]) -> None:
        """SQLite: require one of these author/thread tags too (a few values only; the SQL
        test stays, so the tags only narrow what FTS5 returns)."""
        if self.pg or not values or len(values) > TAG_OR_MAX:
            return
        terms = [f'search_tags : "{sqlite_fts.tag(prefix, v)}"' for v in values]
        self.fts_tags.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")

    # -- text ----------------------------------------------------------------------------------

    def _text_sql(self) -> None:
        plan = self.plan
        if self.pg:
            self.tq = _websearch(plan.any_of) if plan.any_of else None
            self.tn = _websearch([[t] for t in plan.exclude]) if plan.exclude else None
            if self.tq is not None:
                self.params["tq"] = self.tq
            if self.tn is not None:
                self.params["tn"] = self.tn
        else:
            words = _fts(plan.any_of) if plan.any_of else None
            neg = " OR ".join(_fts_term(t) for t in plan.exclude) if plan.exclude else None
            pos = words
            if words and not self.staff:
                ids = db.session.connection().execute(
                    _MY_THREADS, {"u": self.viewer.id, "n": TAG_OR_MAX + 1}
                )
                self._tag("t", list(ids.scalars()))
            if words and self.fts_tags:
                # The filters' tags narrow the match inside FTS5 (doclists intersected).
                pos = f"({words}) AND " + " AND ".join(self.fts_tags)
            # Without the tags (for a scratch table holding only the text).
            self.fq_words = f"({words}) NOT ({neg})" if words and neg else words
            if pos and neg:
                self.fq: str | None = f"({pos}) NOT ({neg})"
                self.fn: str | None = None
            else:
                self.fq, self.fn = pos, neg
            if self.fq:
                self.params["fq"] = self.fq
            if self.fn:
                self.params["fn"] = self.fn

    def only_stop_words(self) -> bool:
        """PostgreSQL drops stop words: True when the words left nothing to search for."""
        if not self.pg or not self.plan.any_of:
            return False
        return bool(
            db.session.execute(
                sa.text("SELECT numnode(websearch_to_tsquery('english', :tq)) = 0"),
                {"tq": self.tq},
            ).scalar()
        )

    def _text_conds(self, alias: str = "m") -> list[str]:
        """Per-row text tests (used by the walk and by non-text drivers)."""
        out = []
        if self.pg:
            if self.plan.any_of:
                out.append(f"{alias}.search_tsv @@ websearch_to_tsquery('english', :tq)")
            if self.plan.exclude:
                out.append(f"NOT ({alias}.search_tsv @@ websearch_to_tsquery('english', :tn))")
        else:
            if getattr(self, "fq", None):
                out.append(
                    "EXISTS (SELECT 1 FROM messages_fts f WHERE f.messages_fts MATCH :fq "
                    f"AND f.rowid = {alias}.search_rowid)"
                )
            if getattr(self, "fn", None):
                out.append(
                    "NOT EXISTS (SELECT 1 FROM messages_fts f WHERE f.messages_fts MATCH :fn "
                    f"AND f.rowid = {alias}.search_rowid)"
                )
        return out

    # -- sizes ---------------------------------------------------------------------------------

    def _text_size(self, probe: int = SQLITE_FTS_PROBE) -> int | None:
        """Estimated rows matching the positive text, or None without positive text."""
        if not self.plan.any_of:
            return None
        if self.pg:
            plan = db.session.execute(
                sa.text(
                    "EXPLAIN (FORMAT JSON) SELECT 1 FROM messages "
                    "WHERE search_tsv @@ websearch_to_tsquery('english', :tq)"
                ),
                {"tq": self.tq},
            ).scalar()
            if isinstance(plan, str):
                plan = json.loads(plan)
            return int(plan[0]["Plan"]["Plan Rows"])
        return int(
            db.session.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT 1 FROM messages_fts WHERE messages_fts "
                    "MATCH :fq LIMIT :cap)"
                ),
                {"fq": self.fq, "cap": probe + 1},
            ).scalar()
        )

    def _scope_size(self) -> int | None:
        """Messages in the threads the results must fall in (in: or an end user's threads)."""
        if self.thread_ids is not None:
            return int(
                db.session.scalar(
                    sa.select(sa.func.coalesce(sa.func.sum(Thread.message_count), 0)).where(
                        Thread.id.in_(self.thread_ids)
                    )
                )
            )
        if not self.staff:
            return int(
                db.session.scalar(
                    sa.select(sa.func.coalesce(sa.func.sum(Thread.message_count), 0))
                    .join(Participant, Participant.thread_id == Thread.id)
                    .where(Participant.user_id == self.viewer.id)
                )
            )
        return None

    def _author_size(self) -> int | None:
        if self.author_id is None:
            return None
        return int(
            db.session.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT 1 FROM messages WHERE user_id = :a LIMIT :cap) s"
                ),
                {"a": self.author_id, "cap": COLLECT_MAX + 1},
            ).scalar()
        )

    # -- strategies ----------------------------------------------------------------------------

    def run(
        self, order: str, after: tuple[Any, ...] | None, limit: int
    ) -> tuple[list[tuple[str, Any]], tuple[Any, ...] | None, int, bool, str]:
        """The page's (id, rowid) pairs, the next cursor key, the total and the strategy."""
        if self.pg:
            return self._pg_run(order, after, limit)
        if getattr(self, "fq", None):
            # SQLite with words: FTS5 drives, either all of a few matches (collect) or the
            # newest matches in its time-ordered rowid order (walk).
            phrase = any(t.is_phrase for g in self.plan.any_of for t in g)
            if phrase and order != "relevance":
                # FTS5 checks phrase positions lazily in rowid order: never count them all.
                return self._fts_walk(after, limit)
            # With author/thread tags, FTS5's matches mostly pass the filters: walk sooner.
            probe = SQLITE_TAGGED_PROBE if self.fts_tags else SQLITE_FTS_PROBE
            text_n = self._text_size(probe) or 0
            driver, size = "text", text_n
            if text_n > probe and order != "relevance":
                if SCRATCH_DRIVERS and self.drivers and self.fq_words:
                    # mentions:/has: with common words: the filter's newest rows, matched
                    # in a scratch table.
                    return self._driver_scratch(after, limit)
                return self._fts_walk(after, limit)
        else:
            # No words: one author or one thread is walked newest-first on its own index,
            # where every row is a candidate; an end user's few threads are collected.
            if self.author_id is not None or (
                self.thread_ids is not None and len(self.thread_ids) == 1
            ):
                return self._walk(after, limit)
            # Otherwise walk a little (common filters fill a page at once); past that budget
            # the matches are rare and the filters' own indexes collect the rest.
            return self._walk(after, limit, budget=SQLITE_FILTER_WALK)
        small = size is not None and size <= (probe if driver == "text" else COLLECT_MAX)
        if order == "relevance":
            return self._relevance(after, limit, driver if small else None)
        if small:
            ids, nxt, total, capped = self._collect(after, limit, driver)
            return ids, nxt, total, capped, f"collect:{driver}"
        return self._walk(after, limit)

    # -- PostgreSQL ------------------------------------------------------------------------------

    def _pg_run(
        self, order: str, after: tuple[Any, ...] | None, limit: int
    ) -> tuple[list[tuple[str, Any]], tuple[Any, ...] | None, int, bool, str]:
        """Pick collect, walk, per-thread walk or time slices from the planner's estimates."""
        total, walk_rows, text_n = self._pg_sizes()
        phrase = any(t.is_phrase for g in self.plan.any_of for t in g)
        # PostgreSQL estimates a phrase as if its words could be anywhere: far too high.
        matches = total / 5 if phrase else total
        # Collect only when the index that finds the rows finds few: few words (or none) and
        # few matches. A few matches of a common word joined with a filter are not few rows.
        few = total <= RARE_MAX and (text_n is None or text_n <= RARE_MAX)
        selectivity = matches / max(walk_rows, 1)
        if order == "relevance":
            return self._relevance(after, limit, "plan" if few else None)
        threads = self._scope_threads_sql()
        rare_words = text_n is not None and text_n <= RARE_MAX
        # PostgreSQL puts a word it has no statistics for at 0.5% of the rows: an estimate
        # that small means "rare or unknown", so collect first (capped), whatever the rest.
        if rare_words and few:
            got = self._collect(after, limit, "plan", cap=RARE_MAX)
            if got is not None:
                ids, nxt, n, capped = got
                return ids, nxt, n, capped, "collect"
            matches = max(matches, RARE_MAX)  # more than estimated
            selectivity = matches / max(walk_rows, 1)
        if threads is None and selectivity >= WALK_MIN_SELECTIVITY:
            return self._walk(after, limit, selectivity=selectivity)
        if text_n is not None and self.filters_n <= RARE_MAX and total <= RARE_MAX:
            # Common words, narrow filters (mentions:, has:image …): their index finds few.
            got = self._collect(after, limit, "plan", cap=RARE_MAX)
            if got is not None:
                ids, nxt, n, capped = got
                return ids, nxt, n, capped, "collect:filters"
        phrase_words = phrase and text_n is not None and text_n > RARE_MAX
        common_words = text_n is not None and (text_n > COMMON_WORDS or phrase_words)
        if threads is None and (selectivity >= WALK_MIN_SELECTIVITY or common_words):
            # A page of matches lies within a few thousand rows of the walked index; with a
            # common word, slices would re-read its long GIN posting list: walk further.
            budget = WALK_BUDGET if selectivity >= WALK_MIN_SELECTIVITY else LONG_WALK_BUDGET
            return self._walk(after, limit, budget=budget, selectivity=selectivity)
        if threads is not None and not rare_words:
            # An end user's threads (or several in:): walk each one, merge the pages.
            return self._lateral_walk(after, limit)
        if few:
            got = self._collect(after, limit, "plan", cap=RARE_MAX)
            if got is not None:
                ids, nxt, n, capped = got
                return ids, nxt, n, capped, "collect"
            selectivity = max(matches, RARE_MAX) / max(walk_rows, 1)
        if threads is not None:
            return self._lateral_walk(after, limit)
        return self._sliced(after, limit, selectivity)

    def _pg_sizes(self) -> tuple[int, int, int | None]:
        """Planner estimates (no rows read): matches, rows of the walked index, word matches.

        The created_at tests are left out: the id bounds say the same, and PostgreSQL would
        multiply the two as if they were independent.
        """
        walk_where = " AND ".join(self._walk_seek(None))
        skip = set(self.date_conds)
        if self.author_id is not None and self.scope_cond:
            # An author writes in threads they are in: the scope hardly narrows, but the
            # planner would multiply it in as if independent.
            skip.add(self.scope_cond)
        conds = [c for c in self.conds if c not in skip]
        where = " AND ".join(conds + self.seek + self._text_conds()) or "1 = 1"
        filters = conds + self.seek
        only_defaults = filters == [self.default_cond]
        # Only what is not known already: planning each subquery costs a fraction of a ms.
        parts = {"total": f"(SELECT count(*) FROM messages m WHERE {where})"}
        if walk_where:
            parts["walk"] = f"(SELECT count(*) FROM messages m WHERE {walk_where})"
        if self.plan.any_of and not only_defaults:
            parts["filters"] = f"(SELECT count(*) FROM messages m WHERE {' AND '.join(filters)})"
            parts["text"] = (
                "(SELECT count(*) FROM messages m "
                "WHERE m.search_tsv @@ websearch_to_tsquery('english', :tq))"
            )
        # Parallel workers only slow down queries that read a few hundred rows: turned off for
        # this transaction in the same round trip as the estimates.
        plan = db.session.execute(
            sa.text(
                "SET LOCAL max_parallel_workers_per_gather = 0; "
                f"EXPLAIN (FORMAT JSON) SELECT {', '.join(parts.values())}"
            ),
            self.params,
        ).scalar()
        if isinstance(plan, str):
            plan = json.loads(plan)
        rows = []
        for sub in plan[0]["Plan"].get("Plans", []):
            node = sub
            while node.get("Node Type") in ("Aggregate", "Gather") and node.get("Plans"):
                node = node["Plans"][0]
            rows.append(int(node.get("Plan Rows", 0)))
        rows += [0] * (len(parts) - len(rows))
        got = dict(zip(parts, rows, strict=True))
        n = _table_rows()
        total = got["total"]
        self.filters_n = got.get("filters", n)
        if self.scope_cond and self.author_id is None and "filters" in got:
            # The planner guesses an end user's threads from averages; their real size is
            # one cheap sum away, and a user in one huge thread must not be "collected".
            self.filters_n = max(self.filters_n, self._scope_size() or 0)
        text_n = got.get("text", total) if self.plan.any_of else None
        return total, got.get("walk", n), text_n

    def _walk_seek(self, after: tuple[Any, ...] | None) -> list[str]:
        """The walked index's range: the dates' id bounds, the cursor, one thread or author."""
        seek = list(self.seek)
        if after:
            seek.append(f"m.id < {self._bind(after[0])}")
        if self.thread_ids is not None and len(self.thread_ids) == 1:
            seek.append(f"m.thread_id = {self._bind(self.thread_ids[0])}")
        elif self.author_id is not None:
            seek.append(f"m.user_id = {self._bind(self.author_id)}")
        return seek

    def _timeline(self) -> tuple[int, int, float]:
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

    def _sliced(
        self, after: tuple[Any, ...] | None, limit: int, selectivity: float
    ) -> tuple[list[tuple[str, Any]], tuple[Any, ...] | None, int, bool, str]:
        """Matches too rare to walk to, too many to collect: newest-first slices of time.

        Each slice is an id range (ids are time-ordered) sized to hold a page of matches at
        the estimated rate; bitmap scans only, so PostgreSQL ANDs the GIN (and any other
        index) with the id range and reads only the candidates in the slice. Slices grow
        fourfold until the page is full or the oldest message is reached.
        """
        newest, oldest, n = self._timeline()
        if n <= 0 or newest <= oldest:
            ids, nxt, total, capped = self._collect(after, limit, "plan")
            return ids, nxt, total, capped, "collect"
        per_ms = n / (newest - oldest)
        # Each slice re-reads the word's whole GIN posting list: make the first one generous.
        span = max(60_000.0, 6 * (limit + 1) / max(selectivity, 1e-7) / per_ms)
        hi_ms = _ms_of(after[0]) + 1 if after else newest + 1
        upper = f"m.id < {self._bind(after[0])}" if after else None
        pairs: list[tuple[str, Any]] = []
        slices = 0
        db.session.execute(sa.text("SET LOCAL enable_indexscan = off"))
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        try:
            while len(pairs) <= limit:
                lo_ms = hi_ms - span
                bounds = [f"m.id >= {self._bind(_id_at_ms(int(lo_ms)))}"]
                if upper:
                    bounds.append(upper)
                sql = (
                    f"SELECT m.id FROM messages m WHERE {self._where(extra=bounds)} "
                    "ORDER BY m.id DESC LIMIT :lim"
                )
                got = db.session.execute(
                    sa.text(sql), {**self.params, "lim": limit + 1 - len(pairs)}
                ).scalars()
                pairs += [(i, None) for i in got]
                slices += 1
                if lo_ms <= oldest:
                    break
                upper = f"m.id < {self._bind(_id_at_ms(int(lo_ms)))}"
                hi_ms = lo_ms
                span *= 4
        finally:
            db.session.execute(sa.text("SET LOCAL enable_indexscan = on"))
            db.session.execute(sa.text("SET LOCAL enable_seqscan = on"))
        how = f"slices:{slices}"
        if len(pairs) > limit:
            return pairs[:limit], (pairs[limit - 1][0],), limit, True, how
        return pairs, None, len(pairs), False, how

    def _fts_walk(
        self, after: tuple[Any, ...] | None, limit: int
    ) -> tuple[list[tuple[str, Any]], tuple[Any, ...] | None, int, bool, str]:
        """SQLite: take FTS5 matches newest first (its rowid is time-ordered), test the rest.

        The inner LIMIT bounds how many matches are read; past it, the rest is collected
        through the smallest other driver.
        """
        bounds = list(self.rowid_bounds)
        extra = []
        if after:
            # Ids sharing a key sort by id inside it: include the key's ties, then test the id.
            bounds.append(f"rowid <= {self._bind(sqlite_fts.key(after[0]) + 7)}")
            extra.append(f"m.id < {self._bind(after[0])}")
        rng = "".join(f" AND {b}" for b in bounds)
        where = self._where(extra=extra, text=False, per_row=True)
        sql = (
            "SELECT m.id, m.search_rowid FROM (SELECT rowid FROM messages_fts "
            f"WHERE messages_fts MATCH :fq{rng} ORDER BY rowid DESC LIMIT :budget) f "
            f"CROSS JOIN messages m ON m.search_rowid = f.rowid WHERE {where} LIMIT :lim"
        )
        params = {**self.params, "budget": FTS_WALK_BUDGET, "lim": limit + 1}
        pairs = sorted(
            ((r[0], r[1]) for r in db.session.execute(sa.text(sql), params)), reverse=True
        )
        how = "fts-walk"
        if len(pairs) > limit:
            return pairs[:limit], (pairs[limit - 1][0],), limit, True, how
        floor = db.session.execute(
            sa.text(
                f"SELECT rowid FROM messages_fts WHERE messages_fts MATCH :fq{rng} "
                "ORDER BY rowid DESC LIMIT 1 OFFSET :skip"
            ),
            {**self.params, "skip": FTS_WALK_BUDGET - 1},
        ).scalar()
        if floor is None:
            return pairs, None, len(pairs), False, how  # read every match there was
        # Many matches, few pass the filters. When the filters themselves pass few rows,
        # match the words among those (a scratch FTS5 table); else read on, deeper: reading
        # FTS rowids is cheap (a few µs each, joined), testing one message against FTS5 is
        # not (~0.1 ms).
        walked = len(pairs)
        rest_extra = [*extra, f"m.search_rowid < {self._bind(floor)}"]
        if self._count_upto(rest_extra, SCRATCH_MAX) <= SCRATCH_MAX:
            collected = self._collect_scratch(rest_extra, limit + 1 - walked)
            return _walked_then_collected(pairs, collected, limit, "fts-walk+scratch")
        deep = (
            "SELECT m.id, m.search_rowid FROM (SELECT rowid FROM messages_fts "
            f"WHERE messages_fts MATCH :fq{rng} AND rowid < :floor ORDER BY rowid DESC "
            f"LIMIT :budget) f CROSS JOIN messages m ON m.search_rowid = f.rowid WHERE {where} "
            "LIMIT :lim"
        )
        more_rows = db.session.execute(
            sa.text(deep),
            {**params, "floor": floor, "budget": FTS_DEEP_BUDGET, "lim": limit + 1 - walked},
        ).all()
        pairs += sorted(((r[0], r[1]) for r in more_rows), reverse=True)
        if len(pairs) > limit:
            return pairs[:limit], (pairs[limit - 1][0],), limit, True, "fts-walk:deep"
        floor2 = db.session.execute(
            sa.text(
                f"SELECT rowid FROM messages_fts WHERE messages_fts MATCH :fq{rng} "
                "AND rowid < :floor ORDER BY rowid DESC LIMIT 1 OFFSET :skip"
            ),
            {**self.params, "floor": floor, "skip": FTS_DEEP_BUDGET - 1},
        ).scalar()
        if floor2 is None:
            return pairs, None, len(pairs), False, "fts-walk:deep"
        # Still short: the words are common and the filters narrow. Take the filters' rows
        # (through their own index) when they are few, else test against the match set.
        walked = len(pairs)
        rest_extra = [*extra, f"m.search_rowid < {self._bind(floor2)}"]
        few = self._count_upto(rest_extra, SCRATCH_MAX) <= SCRATCH_MAX
        collect = self._collect_scratch if few else self._collect_in_set
        collected = collect(rest_extra, limit + 1 - walked)
        return _walked_then_collected(pairs, collected, limit, "fts-walk+collect")

    def _driver_scratch(
        self, after: tuple[Any, ...] | None, limit: int
    ) -> tuple[list[tuple[str, Any]], tuple[Any, ...] | None, int, bool, str]:
        """SQLite, mentions:/has: with words: read the filter's rows newest first off its
        index in growing batches, match the words among each batch in a scratch FTS5 table
        (one tokenizing pass, ~15 µs a row, where an FTS5 lookup per row costs ~0.1 ms)."""
        _, source = self.drivers[0]
        self._scratch_table()
        below = after[0] if after else None
        batch = DRIVER_BATCH
        where = self._where(
            extra=["m.id IN (SELECT value FROM json_each(:batch_ids))"], text=False, per_row=True
        )
        keys: list[int] = []
        exhausted = False
        read = 0
        while len(keys) <= limit:
            if read >= DRIVER_MAX_ROWS:
                break  # the words are rare among the filter's rows: FTS5 drives the rest
            bound = " AND d.mid < :below" if below is not None else ""
            ids = list(
                db.session.execute(
                    sa.text(
                        f"SELECT d.mid FROM ({source}) d WHERE d.mid IS NOT NULL{bound} "
                        "ORDER BY d.mid DESC LIMIT :k"
                    ),
                    {**self.params, "below": below, "k": batch},
                ).scalars()
            )
            if ids:
                db.session.execute(
                    sa.text(
                        "INSERT INTO temp.search_scratch(rowid, content) SELECT m.search_rowid, "
                        f"m.content FROM messages m WHERE {where}"
                    ),
                    {**self.params, "batch_ids": json.dumps(ids)},
                )
                keys += db.session.execute(
                    sa.text(
                        "SELECT rowid FROM temp.search_scratch WHERE search_scratch MATCH :q "
                        "ORDER BY rowid DESC"
                    ),
                    {"q": self.fq_words},
                ).scalars()
                db.session.execute(sa.text("DELETE FROM temp.search_scratch"))
            read += len(ids)
            if len(ids) < batch:
                exhausted = True
                break
            below = ids[-1]
            batch *= 4
        pairs = self._pairs_of_keys(keys, limit + 1)
        how = "driver-scratch"
        if len(pairs) <= limit and not exhausted:
            # Every driver row from `below` up is read: walk FTS5 under it for the rest.
            more, nxt, n_more, more_capped, _ = self._fts_walk((below,), limit - len(pairs) or 1)
            pairs += more
            found = len(pairs)
            if len(pairs) > limit or (nxt and len(pairs) == limit):
                return pairs[:limit], (pairs[limit - 1][0],), limit, True, how + "+fts-walk"
            total = found - len(more) + n_more
            return pairs, None, min(total, COUNT_CAP), more_capped, how + "+fts-walk"
        if len(pairs) > limit:
            total, capped = (
                (min(len(keys), COUNT_CAP), len(keys) > COUNT_CAP) if exhausted else (limit, True)
            )
            return pairs[:limit], (pairs[limit - 1][0],), total, capped, how
        return pairs, None, len(pairs), False, how

    def _scratch_table(self) -> None:
        db.session.execute(
            sa.text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_scratch USING fts5("
                "content, tokenize='porter unicode61 remove_diacritics 2')"
            )
        )
        db.session.execute(sa.text("DELETE FROM temp.search_scratch"))

    def _pairs_of_keys(self, keys: list[int], n: int) -> list[tuple[str, Any]]:
        """The newest `n` (id, rowid) pairs of these FTS keys, in id order."""
        if not keys:
            return []
        top = sorted(keys, reverse=True)[: n + 20]  # ties in a key sort by id: a few extra
        binds = ", ".join(self._bind(k) for k in top)
        rows = db.session.execute(
            sa.text(
                f"SELECT id, search_rowid FROM messages WHERE search_rowid IN ({binds}) "
                "ORDER BY id DESC"
            ),
            self.params,
        ).all()
        return [(r[0], r[1]) for r in rows][:n]

    def _count_upto(self, extra: list[str], cap: int) -> int:
        """How many rows pass the filters (not the words), counting at most cap + 1."""
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM messages m "
            f"WHERE {self._where(extra=extra, text=False)} LIMIT :cap)"
        )
        return int(db.session.execute(sa.text(sql), {**self.params, "cap": cap + 1}).scalar())

    def _collect_scratch(
        self, extra: list[str], limit: int
    ) -> tuple[list[tuple[str, Any]], None, int, bool]:
        """SQLite: copy the few rows passing the filters into a temporary FTS5 table (same
        tokenizer) and match the words there: one tokenizing pass beats a lookup per row."""
        db.session.execute(
            sa.text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_scratch USING fts5("
                "content, tokenize='porter unicode61 remove_diacritics 2')"
            )
        )
        db.session.execute(sa.text("DELETE FROM temp.search_scratch"))
        db.session.execute(
            sa.text(
                "INSERT INTO temp.search_scratch(rowid, content) SELECT m.search_rowid, "
                f"m.content FROM messages m WHERE {self._where(extra=extra, text=False)}"
            ),
            self.params,
        )
        query = self.fq_words
        keys = list(
            db.session.execute(
                sa.text(
                    "SELECT rowid FROM temp.search_scratch WHERE search_scratch MATCH :q "
                    "ORDER BY rowid DESC"
                ),
                {"q": query},
            ).scalars()
        )
        db.session.execute(sa.text("DELETE FROM temp.search_scratch"))
        if not keys:
            return [], None, 0, False
        top = keys[: limit + 20]  # ties in a key sort by id: take a few extra, then order
        binds = ", ".join(self._bind(k) for k in top)
        rows = db.session.execute(
            sa.text(
                f"SELECT id, search_rowid FROM messages WHERE search_rowid IN ({binds}) "
                "ORDER BY id DESC"
            ),
            self.params,
        ).all()
        pairs = [(r[0], r[1]) for r in rows][:limit]
        return pairs, None, min(len(keys), COUNT_CAP), len(keys) > COUNT_CAP

    def _collect_in_set(
        self, extra: list[str], limit: int
    ) -> tuple[list[tuple[str, Any]], None, int, bool]:
        """SQLite: rows passing the filters whose key is in the FTS match set (built once)."""
        where = self._where(extra=extra, text=False)
        sql = (
            "WITH c AS MATERIALIZED (SELECT m.id, m.search_rowid AS rid FROM messages m "
            f"WHERE {where} AND m.search_rowid IN "
            "(SELECT rowid FROM messages_fts WHERE messages_fts MATCH :fq)) "
            "SELECT (SELECT count(*) FROM c) AS n, p.id, p.rid FROM (SELECT 1) one "
            "LEFT JOIN (SELECT id, rid FROM c ORDER BY id DESC LIMIT :lim) p ON 1"
        )
        rows = db.session.execute(sa.text(sql), {**self.params, "lim": limit}).all()
        total = int(rows[0][0]) if rows else 0
        pairs = [(r[1], r[2]) for r in rows if r[1] is not None]
        return pairs, None, min(total, COUNT_CAP), total > COUNT_CAP

    def _pg_estimate(self) -> int:
        plan = db.session.execute(
            sa.text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM messages m WHERE {self._where()}"),
            self.params,
        ).scalar()
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    def _scope_threads_sql(self) -> str | None:
        """Several threads to walk one by one (an end user's, or several in:), else None."""
        if self.thread_ids is not None:
            if len(self.thread_ids) == 1:
                return None
            binds = ", ".join(self._bind(t) for t in self.thread_ids)
            return f"SELECT id AS thread_id FROM threads WHERE id IN ({binds})"
        if not self.staff and self.author_id is None:
            viewer = self._bind(self.viewer.id)
            return f"SELECT thread_id FROM participants WHERE user_id = {viewer}"
        return None

    def _where(
        self, extra: list[str] | None = None, text: bool = True, per_row: bool = False
    ) -> str:
        own = self.conds
        if per_row and not self.pg:
            own = [self.row_forms.get(c, c) for c in self.conds]
        conds = list(own) + list(self.seek) + (self._text_conds() if text else []) + (extra or [])
        return " AND ".join(conds) if conds else "1 = 1"

    def _rowid(self) -> str:
        return "m.id, NULL AS rid" if self.pg else "m.id, m.search_rowid AS rid"

    def _collect(
        self,
        after: tuple[Any, ...] | None,
        limit: int,
        driver: str | None,
        cap: int | None = None,
    ) -> Any:
        """Materialize every match (small), count it, return the newest page below `after`.

        With `cap` (PostgreSQL), None when there turn out to be more than `cap` matches.
        """
        params = dict(self.params)
        if self.pg:
            where = self._where()
            limit_sql = f" LIMIT {int(cap) + 1}" if cap else ""
            sql = (
                f"WITH c AS MATERIALIZED (SELECT m.id FROM messages m WHERE {where}{limit_sql}) "
                "SELECT (SELECT count(*) FROM c) AS n, p.id FROM "
                "(SELECT id FROM c WHERE (:after IS NULL OR id < :after) "
                "ORDER BY id DESC LIMIT :lim) p RIGHT JOIN (SELECT 1) one ON true"
            )
        elif driver == "text":
            # FTS5 yields few rows here: test mentions:/has:/is:archived with one index lookup
            # each rather than building their whole sets.
            where = self._where(text=False, per_row=True)
            sql = (
                "WITH c AS MATERIALIZED (SELECT m.id, m.search_rowid AS rid FROM messages_fts f "
                "CROSS JOIN messages m ON m.search_rowid = f.rowid "
                f"WHERE f.messages_fts MATCH :fq AND {where}"
                + (
                    " AND NOT EXISTS (SELECT 1 FROM messages_fts g WHERE g.messages_fts MATCH :fn"
                    " AND g.rowid = m.search_rowid)"
                    if getattr(self, "fn", None)
                    else ""
                )
                + ") SELECT (SELECT count(*) FROM c) AS n, p.id, p.rid FROM (SELECT 1) one "
                "LEFT JOIN (SELECT id, rid FROM c WHERE (:after IS NULL OR id < :after) "
                "ORDER BY id DESC LIMIT :lim) p ON 1"
            )
        else:
            where = self._where()
            sql = (
                "WITH c AS MATERIALIZED (SELECT m.id, m.search_rowid AS rid FROM messages m "
                f"WHERE {where}) SELECT (SELECT count(*) FROM c) AS n, p.id, p.rid FROM "
                "(SELECT 1) one LEFT JOIN (SELECT id, rid FROM c WHERE "
                "(:after IS NULL OR id < :after) ORDER BY id DESC LIMIT :lim) p ON 1"
            )
        params.update(after=after[0] if after else None, lim=limit + 1)
        rows = db.session.execute(sa.text(sql), params).all()
        total = int(rows[0][0]) if rows else 0
        if cap and total > cap:
            return None
        pairs = [(r[1], r[2] if len(r) > 2 else None) for r in rows if r[1] is not None]
        nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
        return pairs[:limit], nxt, min(total, COUNT_CAP), total > COUNT_CAP

    def _walk(
        self,
        after: tuple[Any, ...] | None,
        limit: int,
        budget: int | None = None,
        fallback: bool = True,
        selectivity: float | None = None,
    ) -> tuple[list[tuple[str, Any]], tuple[Any, ...] | None, int, bool, str]:
        """Walk newest-first reading at most `budget` rows, then collect below the last one."""
        budget = budget or WALK_BUDGET
        # Walk the narrowest index that yields id order: one thread, one author, or all.
        seek = self._walk_seek(after)
        narrowed = self.author_id is not None or (
            self.thread_ids is not None and len(self.thread_ids) == 1
        )
        if self.pg and narrowed and selectivity:
            # The fence is costed for `budget` rows: when that is most of an author's (or a
            # thread's) messages, PostgreSQL bitmap-reads them all and sorts, where the walk
            # needs a page. A budget of ten times the rows the estimate needs keeps it a walk.
            budget = min(budget, max(WALK_NARROW_MIN, int(10 * (limit + 1) / selectivity)))
        inner_where = " AND ".join(seek) if seek else "1 = 1"
        cols = "m.*"
        rid = "NULL" if self.pg else "m.search_rowid"
        where = self._where(per_row=True)
        # The inner LIMIT fences the walk: the planner cannot push the text test into it (so
        # it cannot trade the walk for a GIN bitmap and a sort), and it bounds the rows read.
        sql = (
            f"SELECT m.id, {rid} AS rid FROM (SELECT {cols} FROM messages m "
            f"WHERE {inner_where} ORDER BY m.id DESC LIMIT :budget) m "
            f"WHERE {where} LIMIT :lim"
        )
        params = {**self.params, "budget": budget, "lim": limit + 1}
        rows = db.session.execute(sa.text(sql), params).all()
        pairs = sorted(((r[0], r[1]) for r in rows), reverse=True)
        how = "walk"
        exact: tuple[int, bool] | None = None
        if len(pairs) <= limit and fallback:
            floor = self._walk_floor(inner_where, budget)
            if floor is not None:
                # The budget ran out before a full page: the rest is rare, so collect it.
                # The walk found all its matches (fewer than a page), the collect counts the rest.
                driver = "text" if self.plan.any_of else None
                walked = len(pairs)
                if self.pg:
                    rate = (walked + 1) / budget if selectivity is None else selectivity
                    more, _, _, _, how = self._sliced(
                        (floor,), limit + 1 - walked, min(rate, WALK_MIN_SELECTIVITY)
                    )
                    pairs += more
                    nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
                    n = min(len(pairs), limit)
                    return pairs[:limit], nxt, n, len(pairs) > limit, f"walk+{how}"
                more, _, n_more, more_capped = self._collect(
                    (floor,), limit + 1 - len(pairs), driver
                )
                pairs += more
                how = "walk+collect"
                # The collect counts every match (its cursor bounds only its page): the
                # walked ones are in its count already.
                exact = (n_more, more_capped)
        nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
        if exact is not None:
            total, capped = exact
        elif len(pairs) > limit:
            # A full page from a walk: counting every match would read them all. Say what
            # is known for certain (Slack and Gmail also give estimates here).
            total, capped = limit, True
        else:
            total, capped = len(pairs), False  # the walk read everything there was
        return pairs[:limit], nxt, total, capped, how

    def _lateral_walk(
        self, after: tuple[Any, ...] | None, limit: int
    ) -> tuple[list[tuple[str, Any]], tuple[Any, ...] | None, int, bool, str]:
        """PostgreSQL: walk each thread of the scope newest-first, then merge the pages."""
        threads = self._scope_threads_sql()
        seek = list(self.seek)
        if after:
            seek.append(f"m.id < {self._bind(after[0])}")
        where = " AND ".join([self._where(), *seek])
        sql = (
            f"SELECT x.id FROM ({threads}) p CROSS JOIN LATERAL (SELECT m.id FROM messages m "
            f"WHERE m.thread_id = p.thread_id AND {where} ORDER BY m.id DESC LIMIT :lim) x "
            "ORDER BY x.id DESC LIMIT :lim"
        )
        # Each thread is estimated at the average size, so PostgreSQL would bitmap-read every
        # message of each and sort; a busy user's threads are big. Without bitmaps it walks
        # (thread_id, id) backwards and stops at a page (1M bench: 18 -> 6 ms).
        ids = list(
            db.session.execute(
                sa.text(f"SET LOCAL enable_bitmapscan = off; {sql}"),
                {**self.params, "lim": limit + 1},
            ).scalars()
        )
        db.session.execute(sa.text("SET LOCAL enable_bitmapscan = on"))
        pairs = [(i, None) for i in ids]
        nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
        if len(pairs) > limit:
            return pairs[:limit], nxt, _more_than(len(pairs)), True, "walk:threads"
        return pairs, None, len(pairs), False, "walk:threads"

    def _walk_floor(self, inner_where: str, budget: int) -> str | None:
        """The last id the walk read, or None when it read every row there was."""
        rows = db.session.execute(
            sa.text(
                f"SELECT m.id FROM messages m WHERE {inner_where} "
                "ORDER BY m.id DESC LIMIT 1 OFFSET :skip"
            ),
            {**self.params, "skip": budget - 1},
        ).all()
        return rows[0][0] if rows else None

    def _relevance(
        self, after: tuple[Any, ...] | None, limit: int, driver: str | None
    ) -> tuple[list[tuple[str, Any]], tuple[Any, ...] | None, int, bool, str]:
        """Rank the matches (all when few, else the newest RELEVANCE_WINDOW) best first."""
        params = dict(self.params)
        if driver is None and not self.pg:
            # SQLite, common words: rank the newest SQLITE_RELEVANCE_WINDOW matches (FTS
            # rowids are time-ordered, so they are a rowid range); bm25() is the cost.
            floor = db.session.execute(
                sa.text(
                    "SELECT rowid FROM messages_fts WHERE messages_fts MATCH :fq "
                    "ORDER BY rowid DESC LIMIT 1 OFFSET :skip"
                ),
                {**self.params, "skip": SQLITE_RELEVANCE_WINDOW - 1},
            ).scalar()
            cand = f"f.rowid >= {self._bind(floor or 0)} AND {self._where(text=False)}"
            driver_sql = "text"
            how = "relevance:window"
            params.update(self.params)
        elif driver is None:
            # Common words: rank only the newest window of matches (a walk).
            window, _, _, _, _ = self._walk(
                None, RELEVANCE_WINDOW, budget=RELEVANCE_SCAN, fallback=False
            )
            ids = [i for i, _ in window]
            if not ids:
                return [], None, 0, False, "relevance:walk"
            cand = f"m.id IN ({', '.join(self._bind(i) for i in ids)})"
            params.update(self.params)
            how = "relevance:walk"
        else:
            cand = self._where()
            how = f"relevance:{driver}"
        if driver is not None or self.pg:
            driver_sql = driver
        if self.pg:
            score = "ts_rank_cd(m.search_tsv, websearch_to_tsquery('english', :tq))"
            sql = (
                f"WITH c AS MATERIALIZED (SELECT m.id, NULL AS rid, {score} AS score "
                f"FROM messages m WHERE {cand})"
            )
        else:
            neg = (
                " AND NOT EXISTS (SELECT 1 FROM messages_fts g WHERE g.messages_fts MATCH :fn "
                "AND g.rowid = m.search_rowid)"
                if getattr(self, "fn", None)
                else ""
            )
            # FTS5 first when the words are rare, messages first when the scope is small.
            join = (
                "messages_fts f CROSS JOIN messages m ON m.search_rowid = f.rowid"
                if driver_sql == "text"
                else "messages m CROSS JOIN messages_fts f ON f.rowid = m.search_rowid"
            )
            # bm25() is lower for better matches: negate it so that higher is better.
            sql = (
                "WITH c AS MATERIALIZED (SELECT m.id, m.search_rowid AS rid, "
                f"-bm25(messages_fts, 1.0, 0.0) AS score FROM {join} "
                "WHERE f.messages_fts MATCH :fq AND "
                f"{self._where(text=False) if driver is not None else cand}{neg})"
            )
        sql += (
            " SELECT (SELECT count(*) FROM c) AS n, p.id, p.rid, p.score FROM (SELECT 1) one "
            "LEFT JOIN (SELECT id, rid, score FROM c WHERE (:ascore IS NULL OR score < :ascore "
            "OR (score = :ascore AND id < :aid)) ORDER BY score DESC, id DESC LIMIT :lim) p "
            "ON 1 = 1"
        )
        params.update(
            ascore=after[0] if after else None, aid=after[1] if after else None, lim=limit + 1
        )
        rows = db.session.execute(sa.text(sql), params).all()
        total = int(rows[0][0]) if rows else 0
        got = [(r[1], r[2], float(r[3])) for r in rows if r[1] is not None]
        nxt = (got[limit - 1][2], got[limit - 1][0]) if len(got) > limit else None
        if driver is None:
            total, capped = _more_than(total + 1), True
        else:
            total, capped = min(total, COUNT_CAP), total > COUNT_CAP
        return [(i, r) for i, r, _ in got[:limit]], nxt, total, capped, how

    # -- snippets ------------------------------------------------------------------------------

    @property
    def sentinels(self) -> tuple[str, str]:
        """Random start/stop markers for this request: message text cannot forge them."""
        return f"\ue000{self.nonce}\ue000", f"\ue001{self.nonce}\ue001"

    def snippet_column(self) -> Any:
        """A column with the database's highlighted text, for the rows shown (or None).

        Its values are the bind parameters of snippet_params(), so the expression (and the
        statement holding it) is the same for every search and can be built once.
        """
        if not self.plan.any_of:
            return None
        return _snippet_expr(self.pg)

    def snippet_params(self) -> dict[str, Any]:
        """The values of snippet_column()'s parameters for this search."""
        start, stop = self.sentinels
        if not self.pg:
            return {"hl_start": start, "hl_stop": stop, "hl_q": _fts(self.plan.any_of)}
        fragments = (
            f'StartSel="{start}", StopSel="{stop}", MaxWords=30, MinWords=12, '
            'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
        )
        whole = f'StartSel="{start}", StopSel="{stop}", HighlightAll=true'
        return {"hl_q": self.tq, "hl_whole": whole, "hl_frag": fragments}

    def render_snippet(self, raw: str | None, content: str) -> Markup:
        """Escape the text, then turn our sentinels (and only them) into <mark> tags."""
        start, stop = self.sentinels
        if raw is None or start not in raw:
            raw = content if len(content) <= SNIPPET_CHARS else content[:SNIPPET_CHARS] + "…"
        elif self.pg:
            raw = raw.translate(_UNSWAP)
        html = str(escape(raw)).replace(start, "<mark>").replace(stop, "</mark>")
        # Safe: all of the text went through escape() above; the only markup added is our
        # own <mark> pairs, which the database put at this request's random sentinels.
        return Markup(html)  # noqa: S704


def _walked_then_collected(
    pairs: list[Any], collected: tuple[Any, ...], limit: int, strategy: str
) -> tuple[Any, ...]:
    """A page from the rows a walk found plus the rows collected after it: the first `limit`,
    the cursor when more remain, and the total (capped at COUNT_CAP) counting both parts."""
    walked = len(pairs)
    more, _, n_more, capped = collected
    pairs = pairs + list(more)
    nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
    total = walked + n_more
    return pairs[:limit], nxt, min(total, COUNT_CAP), capped or total > COUNT_CAP, strategy


_UNSWAP = str.maketrans({"\ue002": "<", "\ue003": ">", "\ue004": "&"})
_ROWS_CACHE: dict[str, tuple[float, int]] = {}


def _table_rows() -> int:
    """PostgreSQL's row estimate for messages (pg_class.reltuples), cached for a minute."""
    key = str(db.engine.url)
    now = time.monotonic()
    hit = _ROWS_CACHE.get(key)
    if hit and now - hit[0] < 60:
        return hit[1]
    n = db.session.execute(
        sa.text("SELECT reltuples FROM pg_class WHERE oid = 'messages'::regclass")
    ).scalar()
    rows = max(int(n or 0), 1)
    _ROWS_CACHE[key] = (now, rows)
    return rows


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


def _more_than(n: int) -> int:
    """A round number below `n` (so "more than" it is true): 480 -> 400, 21 -> 20, 7 -> 6."""
    n -= 1
    if n < 10:
        return max(n, 0)
    magnitude = 10 ** (len(str(n)) - 1)
    return n // magnitude * magnitude


def _websearch(groups: list[list[Term]]) -> str:
    """A websearch_to_tsquery string; every term is quoted and made of word characters only."""
    return " or ".join(" ".join(f'"{" ".join(t.words)}"' for t in g) for g in groups)


def _fts_term(term: Term) -> str:
    """One FTS5 phrase on the text column: words are letters and digits only, so quoting makes
    it literal; the column filter keeps it off the filters' tags."""
    return 'content : "' + " ".join(term.words).replace('"', '""') + '"'


def _fts(groups: list[list[Term]]) -> str:
    return " OR ".join("(" + " AND ".join(_fts_term(t) for t in g) + ")" for g in groups)


def _snippet_expr(pg: bool) -> Any:
    """The snippet column of the page query, with bind parameters (see snippet_params)."""
    if pg:
        english = sa.literal_column("'english'::regconfig")
        # ts_headline drops what its parser takes for HTML tags: swap <, > and & for
        # private-use characters first, and back before escaping. Short messages are
        # shown whole, long ones as fragments.
        return sa.func.ts_headline(
            english,
            sa.func.translate(Message.content, "<>&", "\ue002\ue003\ue004"),
            sa.func.websearch_to_tsquery(english, sa.bindparam("hl_q")),
            sa.case(
                (sa.func.length(Message.content) <= SNIPPET_CHARS, sa.bindparam("hl_whole")),
                else_=sa.bindparam("hl_frag"),
            ),
        )
    fts = sa.table("messages_fts", sa.column("rowid"))
    name = sa.literal_column("messages_fts")
    return (
        sa.select(
            sa.func.snippet(name, 0, sa.bindparam("hl_start"), sa.bindparam("hl_stop"), "…", 24)
        )
        .select_from(fts)
        .where(
            name.op("MATCH")(sa.bindparam("hl_q")),
            fts.c.rowid == sa.literal_column("messages.search_rowid"),
        )
        .scalar_subquery()
    )


def _load_hits(pairs: list[tuple[str, Any]], q: _Query, *, with_relations: bool) -> list[Hit]:
    """The page's messages with author, thread and snippet in one query (+2 for relations).

    Without relations (the Search page) the rows are read as plain columns into read-only
    records: building 3 ORM objects per hit costs more than the query itself.
    """
    if not pairs:
        return []
    if not with_relations:
        return _load_records(pairs, q)
    ids = [i for i, _ in pairs]
    cols: list[Any] = [Message, User, Thread]
    snippet = q.snippet_column()
    if snippet is not None:
        cols.append(snippet.label("snippet"))
    stmt = (
        sa.select(*cols)
        .join(User, User.id == Message.user_id)
        .join(Thread, Thread.id == Message.thread_id)
        .where(Message.id.in_(ids))
        .options(selectinload(Message.mentions), selectinload(Message.attachments))
    )
    params = q.snippet_params() if snippet is not None else {}
    rows = {r[0].id: r for r in db.session.execute(stmt, params)}
    hits = []
    for i in ids:
        row = rows.get(i)
        if row is None:
            continue
        msg, author, thread = row[0], row[1], row[2]
        raw = row[3] if snippet is not None else None
        hits.append(Hit(msg, author, thread, q.render_snippet(raw, msg.content)))
    return hits


# What a result shows of each row (the Search page's records): no secrets, no JSON to decode.
_RECORD_SKIP = {"meta", "password_hash", "session_version", "email"}


def _columns(model: Any, prefix: str) -> list[tuple[str, Any]]:
    """(attribute name, labelled column) for each column of a model a result may show."""
    return [
        (attr.key, attr.columns[0].label(f"{prefix}{attr.key}"))
        for attr in sa.inspect(model).column_attrs
        if attr.key not in _RECORD_SKIP
    ]


_PAGE_QUERIES: dict[tuple[bool, bool], tuple[Any, list[tuple[str, list[tuple[str, int]]]]]] = {}


def _page_query(
    pg: bool, with_snippet: bool
) -> tuple[Any, list[tuple[str, list[tuple[str, int]]]]]:
    """The page's statement (built once per database and kind) and where each record's
    columns are in its rows."""
    key = (pg, with_snippet)
    if key not in _PAGE_QUERIES:
        groups = [
            ("m", _columns(Message, "m_")),
            ("u", _columns(User, "u_")),
            ("t", _columns(Thread, "t_")),
        ]
        cols = [c for _, g in groups for _, c in g]
        layout, n = [], 0
        for k, g in groups:
            layout.append((k, [(name, n + i) for i, (name, _) in enumerate(g)]))
            n += len(g)
        if with_snippet:
            cols.append(_snippet_expr(pg).label("snippet"))
        stmt = (
            sa.select(*cols)
            .select_from(Message)
            .join(User, User.id == Message.user_id)
            .join(Thread, Thread.id == Message.thread_id)
            .where(Message.id.in_(sa.bindparam("ids", expanding=True)))
        )
        _PAGE_QUERIES[key] = (stmt, layout)
    return _PAGE_QUERIES[key]


_PG_PREPARED = "chatdesk_search_page"


def _pg_page_rows(with_snippet: bool, ids: list[str], q: _Query) -> Any:
    """PostgreSQL: the page query as a prepared statement of this connection (planning the
    three-table join cost more than running it)."""
    name = f"{_PG_PREPARED}_{'s' if with_snippet else 'n'}"
    conn = db.session.connection()
    prepared = conn.connection.info.setdefault("search_prepared", set())
    if name not in prepared:
        _, layout = _page_query(True, with_snippet)
        tables = {"m": "messages", "u": "users", "t": "threads"}
        models = {"m": Message, "u": User, "t": Thread}
        cols = []
        for k, group in layout:
            mapper = sa.inspect(models[k])
            for attr, _ in group:
                column = mapper.column_attrs[attr].columns[0].name
                cols.append(f'{tables[k]}."{column}"')
        types = "text[]"
        if with_snippet:
            cols.append(
                "ts_headline('english'::regconfig, translate(messages.content, '<>&', "
                "E'\\uE002\\uE003\\uE004'), websearch_to_tsquery('english'::regconfig, $2), "
                f"CASE WHEN length(messages.content) <= {SNIPPET_CHARS} THEN $3 ELSE $4 END)"
            )
            types += ", text, text, text"
        conn.exec_driver_sql(
            f"PREPARE {name} ({types}) AS SELECT {', '.join(cols)} FROM messages "
            "JOIN users ON users.id = messages.user_id "
            "JOIN threads ON threads.id = messages.thread_id WHERE messages.id = ANY($1)"
        )
        prepared.add(name)
    if with_snippet:
        p = q.snippet_params()
        return conn.exec_driver_sql(
            f"EXECUTE {name} (%(ids)s, %(q)s, %(w)s, %(f)s)",
            {"ids": ids, "q": p["hl_q"], "w": p["hl_whole"], "f": p["hl_frag"]},
        )
    return conn.exec_driver_sql(f"EXECUTE {name} (%(ids)s)", {"ids": ids})


def _load_records(pairs: list[tuple[str, Any]], q: _Query) -> list[Hit]:
    """One query for the page: message, author and thread columns, and the snippet."""
    with_snippet = bool(q.plan.any_of)
    stmt, layout = _page_query(q.pg, with_snippet)
    ids = [i for i, _ in pairs]
    if q.pg:
        result = _pg_page_rows(with_snippet, ids, q)
    else:
        params: dict[str, Any] = {"ids": ids, **(q.snippet_params() if with_snippet else {})}
        result = db.session.connection().execute(stmt, params)
    rows = {}
    for row in result:
        rec = {k: Record(**{name: row[i] for name, i in cols}) for k, cols in layout}
        rows[rec["m"].id] = (rec, row[-1] if with_snippet else None)
    hits = []
    for i in ids:
        got = rows.get(i)
        if got is None:
            continue
        rec, raw = got
        hits.append(Hit(rec["m"], rec["u"], rec["t"], q.render_snippet(raw, rec["m"].content)))
    return hits
