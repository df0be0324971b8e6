# ruff: noqa: S608 - SQL here is built from fixed fragments; every user value is a bound parameter.
"""PostgreSQL: a tsvector column with a GIN index; strategies chosen from planner estimates.

- **collect**: the matches are few (a rare word, a narrow filter): materialize them all with
  no LIMIT (so the planner uses the GIN or btree index it should, never the "walk the id
  index for a rare word" trap) and sort that small set. The count is exact.
- **walk**: a page of matches lies within a few thousand rows: walk messages newest first on
  the narrowest index that yields id order (primary key, (thread_id, id), (user_id, id)),
  fenced by a LIMIT so the planner cannot swap it for "GIN bitmap of a common word, then
  sort". Past the budget the rest is rare, so it is read in time slices.
- **per-thread walk**: an end user's threads (or several in:) each walked, pages merged.
- **time slices**: between the two, id ranges (ids are time-ordered) sized from the
  estimated rate, read with bitmap scans only, so the GIN is ANDed with the id range.

Sizes come from the planner (one EXPLAIN, no rows read). The slices and the per-thread walk
are in postgres_walks.py.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from ....extensions import db
from ....models import Message, Participant, Thread, User
from .. import schema
from ..compile import Query
from ..parser import Plan, Term
from ..result import Collected, Page, Pair
from ..snippets import SNIPPET_CHARS
from .base import Backend, register
from .postgres_walks import PgWalks

_UNSWAP = str.maketrans(schema.PUNCT_SWAP, schema.PUNCT)
_ROWS_CACHE: dict[str, tuple[float, int]] = {}
_PREPARED = "chatdesk_search_page"


@register
class PostgresBackend(PgWalks, Backend):
    """Search on PostgreSQL (websearch_to_tsquery over the generated `search_tsv`)."""

    dialect = "postgresql"

    # -- compiling -----------------------------------------------------------------------------

    def compile_text(self, q: Query) -> None:
        plan = q.plan
        stops = _stop_words(plan)
        if plan.any_of:
            q.tq = q.params["tq"] = websearch(plan.any_of)
            q.text_conds.append("m.search_tsv @@ websearch_to_tsquery('english', :tq)")
            shaped = [[t for t in g if _shape(t, stops)] for g in plan.any_of]
            if len(plan.any_of) == 1 and shaped[0]:
                q.text_conds += [_shape_test(q, t, stops) for t in shaped[0]]
            elif any(shaped):
                # Each group with its own words and shapes: a row found by one group's words
                # must have that group's shapes.
                either = [
                    " AND ".join(
                        [_TSQ.format(q.bind(websearch([g])))]
                        + [_shape_test(q, t, stops) for t in s]
                    )
                    for g, s in zip(plan.any_of, shaped, strict=True)
                ]
                q.text_conds.append("(" + " OR ".join(f"({e})" for e in either) + ")")
        plain = [t for t in plan.exclude if not _shape(t, stops)]
        if plain:
            q.tn = q.params["tn"] = websearch([[t] for t in plain])
            q.text_conds.append("NOT (m.search_tsv @@ websearch_to_tsquery('english', :tn))")
        for t in plan.exclude:
            if _shape(t, stops):
                words = q.bind(websearch([[t]]))
                q.text_conds.append(
                    f"NOT (m.search_tsv @@ websearch_to_tsquery('english', {words}) "
                    f"AND {_shape_test(q, t, stops)})"
                )

    def only_stop_words(self, q: Query) -> bool:
        if not q.plan.any_of:
            return False
        return bool(
            db.session.execute(
                sa.text("SELECT numnode(websearch_to_tsquery('english', :tq)) = 0"),
                {"tq": q.tq},
            ).scalar()
        )

    # -- choosing ------------------------------------------------------------------------------

    def run(self, q: Query, order: str, after: tuple[Any, ...] | None, limit: int) -> Page:
        """Pick collect, walk, per-thread walk or time slices from the planner's estimates."""
        t = self.tuning
        total, walk_rows, text_n, filters_n = self.sizes(q)
        phrase = q.has_phrase
        # PostgreSQL estimates a phrase as if its words could be anywhere: far too high.
        matches = total / 5 if phrase else total
        # Collect only when the index that finds the rows finds few: few words (or none) and
        # few matches. A few matches of a common word joined with a filter are not few rows.
        few = total <= t.rare_max and (text_n is None or text_n <= t.rare_max)
        selectivity = matches / max(walk_rows, 1)
        if order == "relevance":
            return self.relevance(q, after, limit, exact=few)
        threads = self.scope_threads_sql(q)
        rare_words = text_n is not None and text_n <= t.rare_max
        # PostgreSQL puts a word it has no statistics for at 0.5% of the rows: an estimate
        # that small means "rare or unknown", so collect first (capped), whatever the rest.
        if rare_words and few:
            got = self.collect(q, after, limit, cap=t.rare_max)
            if got is not None:
                return Page(*got, "collect")
            matches = max(matches, t.rare_max)  # more than estimated
            selectivity = matches / max(walk_rows, 1)
        if threads is None and selectivity >= t.walk_min_selectivity:
            return self.walk(q, after, limit, selectivity=selectivity)
        if text_n is not None and filters_n <= t.rare_max and total <= t.rare_max:
            # Common words, narrow filters (mentions:, has:image …): their index finds few.
            got = self.collect(q, after, limit, cap=t.rare_max)
            if got is not None:
                return Page(*got, "collect:filters")
        phrase_words = phrase and text_n is not None and text_n > t.rare_max
        common_words = text_n is not None and (text_n > t.common_words or phrase_words)
        if threads is None and (selectivity >= t.walk_min_selectivity or common_words):
            # A page of matches lies within a few thousand rows of the walked index; with a
            # common word, slices would re-read its long GIN posting list: walk further.
            budget = t.walk_budget if selectivity >= t.walk_min_selectivity else t.long_walk_budget
            return self.walk(q, after, limit, budget=budget, selectivity=selectivity)
        if threads is not None and not rare_words:
            # An end user's threads (or several in:): walk each one, merge the pages.
            return self.thread_walk(q, after, limit)
        if few:
            got = self.collect(q, after, limit, cap=t.rare_max)
            if got is not None:
                return Page(*got, "collect")
            selectivity = max(matches, t.rare_max) / max(walk_rows, 1)
        if threads is not None:
            return self.thread_walk(q, after, limit)
        return self.slices(q, after, limit, selectivity)

    def sizes(self, q: Query) -> tuple[int, int, int | None, int]:
        """Planner estimates (no rows read): matches, rows of the walked index, word matches
        and rows passing the filters.

        The created_at tests are left out: the id bounds say the same, and PostgreSQL would
        multiply the two as if they were independent.
        """
        walk_where = " AND ".join(q.walk_seek(None))
        skip = set(q.date_conds)
        if q.author_id is not None and q.scope_cond:
            # An author writes in threads they are in: the scope hardly narrows, but the
            # planner would multiply it in as if independent.
            skip.add(q.scope_cond)
        conds = [c for c in q.conds if c not in skip]
        where = " AND ".join(conds + q.seek + q.text_conds) or "1 = 1"
        filters = conds + q.seek
        only_defaults = filters == [q.default_cond]
        # Only what is not known already: planning each subquery costs a fraction of a ms.
        parts = {"total": f"(SELECT count(*) FROM messages m WHERE {where})"}
        if walk_where:
            parts["walk"] = f"(SELECT count(*) FROM messages m WHERE {walk_where})"
        if q.plan.any_of and not only_defaults:
            parts["filters"] = f"(SELECT count(*) FROM messages m WHERE {' AND '.join(filters)})"
            parts["text"] = (
                "(SELECT count(*) FROM messages m "
                "WHERE m.search_tsv @@ websearch_to_tsquery('english', :tq))"
            )
        # Parallel workers only slow down queries that read a few hundred rows: turned off for
        # this transaction in the same round trip as the estimates.
        plan: Any = db.session.execute(
            sa.text(
                "SET LOCAL max_parallel_workers_per_gather = 0; "
                f"EXPLAIN (FORMAT JSON) SELECT {', '.join(parts.values())}"
            ),
            q.params,
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
        filters_n = got.get("filters", n)
        if q.scope_cond and q.author_id is None and "filters" in got:
            # The planner guesses an end user's threads from averages; their real size is
            # one cheap sum away, and a user in one huge thread must not be "collected".
            filters_n = max(filters_n, _scope_size(q))
        text_n = got.get("text", got["total"]) if q.plan.any_of else None
        return got["total"], got.get("walk", n), text_n, filters_n

    def scope_threads_sql(self, q: Query) -> str | None:
        """Several threads to walk one by one (an end user's, or several in:), else None."""
        if q.thread_ids is not None:
            if len(q.thread_ids) == 1:
                return None
            binds = ", ".join(q.bind(t) for t in q.thread_ids)
            return f"SELECT id AS thread_id FROM threads WHERE id IN ({binds})"
        if not q.staff and q.author_id is None:
            return f"SELECT thread_id FROM participants WHERE user_id = {q.bind(q.viewer.id)}"
        return None

    # -- strategies ----------------------------------------------------------------------------

    def collect(
        self, q: Query, after: tuple[Any, ...] | None, limit: int, cap: int | None = None
    ) -> Collected | None:
        """Materialize every match (few), count them, return the newest page below `after`;
        None when there turn out to be more than `cap`."""
        limit_sql = f" LIMIT {int(cap) + 1}" if cap else ""
        sql = (
            f"WITH c AS MATERIALIZED (SELECT m.id FROM messages m WHERE {q.where()}{limit_sql}) "
            "SELECT (SELECT count(*) FROM c) AS n, p.id FROM "
            "(SELECT id FROM c WHERE (:after IS NULL OR id < :after) "
            "ORDER BY id DESC LIMIT :lim) p RIGHT JOIN (SELECT 1) one ON true"
        )
        params = {**q.params, "after": after[0] if after else None, "lim": limit + 1}
        rows = db.session.execute(sa.text(sql), params).all()
        total = int(rows[0][0]) if rows else 0
        if cap and total > cap:
            return None
        pairs: list[Pair] = [(r[1], None) for r in rows if r[1] is not None]
        nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
        count_cap = self.tuning.count_cap
        return Collected(pairs[:limit], nxt, min(total, count_cap), total > count_cap)

    def relevance(
        self, q: Query, after: tuple[Any, ...] | None, limit: int, *, exact: bool
    ) -> Page:
        """Rank every match when few, else the newest relevance_window of them."""
        t = self.tuning
        if exact:
            cand, how = q.where(), "relevance:plan"
        else:
            # Common words: rank only the newest window of matches (a walk).
            window = self.walk(q, None, t.relevance_window, budget=t.relevance_scan, fallback=False)
            ids = [i for i, _ in window.pairs]
            if not ids:
                return Page([], None, 0, False, "relevance:walk")
            cand, how = f"m.id IN ({', '.join(q.bind(i) for i in ids)})", "relevance:walk"
        score = "ts_rank_cd(m.search_tsv, websearch_to_tsquery('english', :tq))"
        sql = (
            f"WITH c AS MATERIALIZED (SELECT m.id, NULL AS rid, {score} AS score "
            f"FROM messages m WHERE {cand})"
        )
        return self.ranked(q, sql, after, limit, exact=exact, how=how)

    # -- the page ------------------------------------------------------------------------------

    def snippet_expr(self) -> Any:
        english: Any = sa.literal_column("'english'::regconfig")
        # The words the index has (schema.pg_headline_text: punctuation swapped for
        # private-use characters, which also keeps ts_headline from dropping what it takes
        # for HTML tags), swapped back by marked_text. Short messages are shown whole, long
        # ones as fragments.
        return sa.func.ts_headline(
            english,
            sa.func.translate(Message.content, schema.PUNCT, schema.PUNCT_SWAP),
            sa.func.websearch_to_tsquery(english, sa.bindparam("hl_q")),
            sa.case(
                (sa.func.length(Message.content) <= SNIPPET_CHARS, sa.bindparam("hl_whole")),
                else_=sa.bindparam("hl_frag"),
            ),
        )

    def snippet_params(self, q: Query) -> dict[str, Any]:
        start, stop = q.sentinels.start, q.sentinels.stop
        fragments = (
            f'StartSel="{start}", StopSel="{stop}", MaxWords=30, MinWords=12, '
            'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
        )
        whole = f'StartSel="{start}", StopSel="{stop}", HighlightAll=true'
        return {"hl_q": q.tq, "hl_whole": whole, "hl_frag": fragments}

    def marked_text(self, raw: str) -> str:
        return raw.translate(_UNSWAP)

    def page_rows(
        self, stmt: Any, layout: Any, ids: list[str], snippet: dict[str, Any] | None
    ) -> Any:
        """The page query as a prepared statement of this connection (planning the
        three-table join cost more than running it)."""
        with_snippet = snippet is not None
        name = f"{_PREPARED}_{'s' if with_snippet else 'n'}"
        conn = db.session.connection()
        prepared = conn.connection.info.setdefault("search_prepared", set())
        if name not in prepared:
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
                    "ts_headline('english'::regconfig, "
                    f"{schema.pg_headline_text('messages.content')}, "
                    "websearch_to_tsquery('english'::regconfig, $2), "
                    f"CASE WHEN length(messages.content) <= {SNIPPET_CHARS} THEN $3 ELSE $4 END)"
                )
                types += ", text, text, text"
            conn.exec_driver_sql(
                f"PREPARE {name} ({types}) AS SELECT {', '.join(cols)} FROM messages "
                "JOIN users ON users.id = messages.user_id "
                "JOIN threads ON threads.id = messages.thread_id WHERE messages.id = ANY($1)"
            )
            prepared.add(name)
        if snippet is not None:
            values = {"q": snippet["hl_q"], "w": snippet["hl_whole"], "f": snippet["hl_frag"]}
            return conn.exec_driver_sql(
                f"EXECUTE {name} (%(ids)s, %(q)s, %(w)s, %(f)s)", {"ids": ids, **values}
            )
        return conn.exec_driver_sql(f"EXECUTE {name} (%(ids)s)", {"ids": ids})


def websearch(groups: list[list[Term]]) -> str:
    """A websearch_to_tsquery string; every term is quoted and made of word characters only."""
    return " or ".join(" ".join(f'"{" ".join(t.words)}"' for t in g) for g in groups)


# Stop words inside a token (the `a` of `A-1042`) are not indexed, so the words alone would
# also find `B-1042`. Such a token is tested on the content too: its shape, with the stop
# words as written and any word in the other places (the index tests those words).
_TSQ = "m.search_tsv @@ websearch_to_tsquery('english', {})"
_SEP = "[^[:alnum:]]+"
_ANY_WORD = "[[:alnum:]]+"


def _stop_words(plan: Plan) -> set[str]:
    """The words of the plan's joined tokens that PostgreSQL's english config drops."""
    terms = [t for g in plan.any_of for t in g] + plan.exclude
    # Only letters can be stop words (words with digits go to the `simple` dictionary).
    maybe = {w for t in terms for run in t.joined_runs() for w in run if w.isalpha()}
    if not maybe:
        return set()
    rows = db.session.execute(
        sa.text(
            "SELECT w FROM unnest(CAST(:ws AS text[])) AS w "
            "WHERE cardinality(ts_lexize('english_stem', w)) = 0"
        ),
        {"ws": sorted(maybe)},
    )
    return set(rows.scalars())


def _shapes(term: Term, stops: set[str]) -> list[str]:
    """POSIX regexes (case-insensitive) of the term's joined runs that hold a stop word."""
    shapes = []
    for run in term.joined_runs():
        if any(w in stops for w in run):
            inner = _SEP.join(w if w in stops else _ANY_WORD for w in run)
            shapes.append(f"(^|[^[:alnum:]]){inner}([^[:alnum:]]|$)")
    return shapes


def _shape(term: Term, stops: set[str]) -> bool:
    return bool(stops) and bool(_shapes(term, stops))


def _shape_test(q: Query, term: Term, stops: set[str]) -> str:
    """SQL: the content has every shape of the term (words are letters and digits only)."""
    return " AND ".join(f"m.content ~* {q.bind(rx)}" for rx in _shapes(term, stops))


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


def _scope_size(q: Query) -> int:
    """Messages in the threads the results must fall in (in:, else an end user's threads)."""
    if q.thread_ids is not None:
        return int(
            db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Thread.message_count), 0)).where(
                    Thread.id.in_(q.thread_ids)
                )
            )
            or 0
        )
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Thread.message_count), 0))
            .join(Participant, Participant.thread_id == Thread.id)
            .where(Participant.user_id == q.viewer.id)
        )
        or 0
    )
