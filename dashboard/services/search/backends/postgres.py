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
import re
import time
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from ....extensions import db
from ....models import Message, Participant, Thread, User
from .. import schema
from ..compile import Query
from ..parser import Plan, Term
from ..result import Collected, Page, Pair, full_or_all
from ..snippets import SNIPPET_CHARS
from .base import Backend, register
from .postgres_walks import PgWalks, _ms_of, scans_off

TS_CONFIG = schema.PG_CONFIG
_LEXEME = re.compile(r"'((?:[^']|'')+)'")
_STATS_CACHE: dict[str, tuple[float, tuple[dict[str, float], float] | None]] = {}
_INDEX_CACHE: dict[str, tuple[float, bool]] = {}  # the optional indexes: (checked, valid)
_LEXEMES: dict[Term, list[str]] = {}
_FAR_FUTURE = datetime(2100, 1, 1)
_SLACK_MS = 60_000  # an id's time is within a minute of created_at (see compile.py)
_UNSWAP = str.maketrans(schema.PUNCT_SWAP, schema.PUNCT)
_ROWS_CACHE: dict[str, tuple[float, int]] = {}
_PREPARED = "chatdesk_search_page"
_RUM_SORT_MEM = "16MB"  # work_mem for a RUM scan's sort (the entries of up to rum_max rows)
_WORDS_COND = "m.search_tsv @@ websearch_to_tsquery('english', :tq)"
_WORDS_TEST = "ts_match_vq(m.search_tsv, websearch_to_tsquery('english', :tq))"


@register
class PostgresBackend(PgWalks, Backend):
    """Search on PostgreSQL (websearch_to_tsquery over the generated `search_tsv`)."""

    dialect = "postgresql"
    # A walk reads a few thousand rows at most: is:archived looks each row's thread up rather
    # than hashing every archived thread first (mentions:/has: are semi-joins either way).
    per_row_forms = True

    # -- compiling -----------------------------------------------------------------------------

    def compile_text(self, q: Query) -> None:
        plan = q.plan
        stops = _stop_words(plan)
        if plan.any_of:
            q.tq = q.params["tq"] = websearch(plan.any_of)
            q.text_conds.append(_WORDS_COND)
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
        """Pick RUM, collect, walk, per-thread walk or time slices from what the data says:
        the words' frequencies from ANALYZE's statistics (pg_stats), the filters' from the
        planner. The cost model is in docs/search.md."""
        if order == "relevance":
            return self.relevance(q, after, limit)
        t = self.tuning
        words = self.word_estimate(q) if q.plan.any_of else None
        total, walk_rows, text_n, filters_n = self.sizes(q, words_known=words is not None)
        if words is not None:
            # ANALYZE keeps each common lexeme's share of rows; the planner guesses 0.5% for
            # any other, which at 10M rows makes a 40-match word look like 50,000.
            n = _table_rows()
            text_n = words.rows
            total = max(1, round(text_n * min(filters_n, n) / n))
        phrase = q.has_phrase
        # PostgreSQL estimates a phrase as if its words could be anywhere: far too high.
        matches = total / 5 if phrase else total
        if words is not None and self.use_rum(q, words, matches, walk_rows, limit):
            return self.rum(q, after, limit, words.rarest)
        # Collect only when the index that finds the rows finds few: few words (or none) and
        # few matches. A few matches of a common word joined with a filter are not few rows.
        few = total <= t.rare_max and (text_n is None or text_n <= t.rare_max)
        selectivity = matches / max(walk_rows, 1)
        threads = self.scope_threads_sql(q)
        rare_words = text_n is not None and (text_n <= t.rare_max or bool(words and words.rare))
        few = few or bool(words and words.rare)
        # A word the statistics do not list is rarer than the rarest they do: collect first
        # (capped: past the cap the estimate was wrong and the walks take over).
        if rare_words and few:
            got = self.collect(q, after, limit, cap=t.rare_max)
            if got is not None:
                return Page(*got, "collect")
            matches = max(matches, t.rare_max)  # more than estimated
            selectivity = matches / max(walk_rows, 1)
            few = False
        if threads is None and selectivity >= t.walk_min_selectivity:
            return self.walk(q, after, limit, selectivity=selectivity)
        if text_n is not None and filters_n <= t.rare_max and total <= t.rare_max:
            # Common words, narrow filters (mentions:, has:image …): their index finds few.
            got = self.collect(q, after, limit, cap=t.rare_max)
            if got is not None:
                return Page(*got, "collect:filters")
        if q.drivers and threads is None and (text_n is None or filters_n * 5 < walk_rows * 2):
            # mentions:/has: alone, or with common words: the filter's own index is newest
            # first, and a primary-key lookup per filter row (~5 µs) beats walking the table
            # (~2 µs a row) when the filter keeps less than 40% of it.
            walked = self.driver_walk(q, after, limit)
            if walked is not None:
                return walked
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

    def sizes(self, q: Query, words_known: bool = False) -> tuple[int, int, int | None, int]:
        """Planner estimates (no rows read): matches, rows of the walked index, word matches
        and rows passing the filters.

        The created_at tests are left out: the id bounds say the same, and PostgreSQL would
        multiply the two as if they were independent. `words_known`: the statistics gave the
        words' matches (word_estimate), so the planner is asked only about the filters (the
        caller derives the matches); planning each subquery costs a fraction of a ms, and a
        plain word query then needs no EXPLAIN at all.
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
        parts = {}
        if not words_known:
            parts["total"] = f"(SELECT count(*) FROM messages m WHERE {where})"
        if walk_where:
            parts["walk"] = f"(SELECT count(*) FROM messages m WHERE {walk_where})"
        if q.plan.any_of and not only_defaults:
            parts["filters"] = f"(SELECT count(*) FROM messages m WHERE {' AND '.join(filters)})"
            if not words_known:
                parts["text"] = (
                    "(SELECT count(*) FROM messages m "
                    "WHERE m.search_tsv @@ websearch_to_tsquery('english', :tq))"
                )
        # Parallel workers only slow down queries that read a few hundred rows: turned off for
        # this transaction in the same round trip as the estimates, or, with none to ask,
        # with the strategy's first statement.
        got: dict[str, int] = {"total": 0}
        no_parallel = "SET LOCAL max_parallel_workers_per_gather = 0; "
        if not parts:
            self.deferred += no_parallel  # sent with the strategy's first statement
        else:
            plan: Any = db.session.execute(
                sa.text(
                    self.sent_with(no_parallel)
                    + f"EXPLAIN (FORMAT JSON) SELECT {', '.join(parts.values())}"
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
            got.update(zip(parts, rows, strict=True))
        n = _table_rows()
        filters_n = got.get("filters", n)
        if q.scope_cond and q.author_id is None and "filters" in got:
            # The planner guesses an end user's threads from averages; their real size is
            # one cheap sum away, and a user in one huge thread must not be "collected".
            filters_n = max(filters_n, _scope_size(q))
        text_n = got.get("text", got["total"]) if q.plan.any_of else None
        return got["total"], got.get("walk", n), text_n, filters_n

    def word_estimate(self, q: Query) -> WordEstimate | None:
        """The words' matches from the statistics ANALYZE keeps for search_tsv
        (pg_stats.most_common_elems and their frequencies); None without statistics.

        A group (an AND, and a phrase's words) is estimated as independent lexemes (the
        product of their shares, as the planner does), the groups (an OR) add up. A lexeme the
        statistics do not list is rarer than the rarest one they do: its share is at most that
        minimum, and the estimate says so (`rare`).
        """
        stats = _lexeme_stats()
        if stats is None:
            return None
        freqs, floor = stats
        n = _table_rows()
        lexemes = _term_lexemes([t for g in q.plan.any_of for t in g])
        share, rare = 0.0, True
        ranked: list[tuple[float, str]] = []  # (share, lexeme) of a single group's lexemes
        for group in q.plan.any_of:
            g_share, g_rare = 1.0, False
            for term in group:
                for lexeme in lexemes.get(term, ()):
                    f = freqs.get(lexeme)
                    if f is None:
                        g_share, g_rare = g_share * floor, True
                    else:
                        g_share *= f
                    ranked.append((floor if f is None else f, lexeme))
            share += g_share
            rare = rare and g_rare
        # One group of several lexemes (a phrase, an AND): its rarest lexeme, for the RUM scan.
        rarest = min(ranked)[1] if len(q.plan.any_of) == 1 and len(ranked) > 1 else None
        return WordEstimate(int(min(share, 1.0) * n), rare, rarest)

    def rum_ready(self) -> bool:
        """Whether the RUM index exists and is valid (migration 0005, when rum is installed)."""
        return _has_rum()

    def has_mentioned_column(self) -> bool:
        """messages.mentioned and its index (migration 0009): see compile.by_mentions."""
        return _has_index(schema.PG_MENTIONS_INDEX)

    def scope_ready(self) -> bool:
        """Whether the scope index exists and is valid (migration 0007, with btree_gin) and
        the tuning uses it."""
        return self.tuning.use_scope and _has_scope()

    def use_rum(
        self, q: Query, words: WordEstimate, matches: float, walk_rows: int, limit: int
    ) -> bool:
        """The cost model's choice between the RUM scan and the rest (docs/search.md).

        A RUM scan ordered by created_at reads every index entry of the words (~1 µs each,
        measured at 10M: 1.3M entries in 1.3 s) and visits the heap for the rows it returns
        until a page passes the filters. A walk visits `walk_rows / matches` rows per match
        it needs. RUM wins for rare and middling words, the walk for common ones.
        """
        t = self.tuning
        if not (t.use_rum and self.rum_ready()):
            return False
        if words.rare:
            return True  # rarer than every lexeme the statistics list: few entries to read
        if words.rows > t.rum_max:
            return False
        need = limit + 1
        rum_cost = t.rum_entry_us * words.rows + t.rum_row_us * min(
            words.rows, need * words.rows / max(matches, 1.0)
        )
        walk_cost = t.walk_row_us * need * walk_rows / max(matches, 1.0)
        return rum_cost < walk_cost

    def rum(
        self, q: Query, after: tuple[Any, ...] | None, limit: int, rarest: str | None = None
    ) -> Page:
        """The newest matches straight off the RUM index, in created_at order.

        The page's order is the id's (UUIDv7, time-ordered), and an id's time is within a
        minute of created_at (compile.py's slack). So after the (limit+1)-th row in created_at
        order at time T, every row that could still sort among the first limit+1 by id has
        created_at above T - 2 min: read on until the rows fall below that (rarely any more),
        then sort by id. Exact, never a short page while more match.

        `rarest`: the scan reads that lexeme's entries only, and the words are tested on the
        rows it returns (as a function call, which the planner cannot hand to the index). A
        RUM scan of several lexemes reads every entry of each: for `"crash slow"` at 10M that
        is 218k + 111k entries, where `slow` alone has 111k.
        """
        top = _ms_to_dt(_ms_of(after[0]) + _SLACK_MS) if after else _FAR_FUTURE
        extra = [f"m.id < {q.bind(after[0])}"] if after else []
        if rarest is not None and _WORDS_COND in q.text_conds:
            # A tsquery of the one lexeme, quoted (it is normalized already).
            q.params["rum_lexeme"] = "'" + rarest.replace("\\", "\\\\").replace("'", "''") + "'"
            others = [c for c in q.text_conds if c != _WORDS_COND]
            index_cond = "m.search_tsv @@ CAST(:rum_lexeme AS tsquery)"
            where = q.where(extra=[*extra, index_cond, _WORDS_TEST, *others], text=False)
        else:
            where = q.where(extra=extra)
        sql = (
            f"SELECT m.id, m.created_at FROM messages m WHERE {where} "
            "ORDER BY m.created_at <=| CAST(:rum_top AS timestamp) LIMIT :rum_lim"
        )
        need = limit + 1
        # A few rows more than a page: the scan reads every entry of the words anyway, so
        # when they are few the total comes exact for a few more heap visits. Not when the
        # other words are tested row by row (`rarest`): each row returned is then one of many
        # visited (`"crash slow"` at 10M: 1 in 9 of `slow`'s rows), and cold, those visits
        # were most of the time (367 → 202 ms with the server just restarted; warm, the
        # same ~35 ms, the sort of the entries).
        k = 4 * need + 8 if rarest is None else need + 8
        # Index scans only: with a bitmap PostgreSQL would read every match and sort. The scan
        # sorts the entries it reads by distance in work_mem: the default 4 MB spills 111k
        # entries to disk (10M, `"crash slow"`: 112 ms, 70 ms in memory).
        # Turned back on with the page query, which comes next (`Backend.deferred`).
        with scans_off(self, "bitmapscan", defer=True) as off:
            off += f"SET LOCAL work_mem = '{_RUM_SORT_MEM}'; "
            while True:
                rows = db.session.execute(
                    sa.text(off + sql), {**q.params, "rum_top": top, "rum_lim": k}
                ).all()
                exhausted = len(rows) < k  # every match below the cursor
                if exhausted:
                    break
                floor = rows[need - 1][1] - timedelta(milliseconds=2 * _SLACK_MS)
                if rows[-1][1] < floor:
                    break
                k *= 4
        pairs: list[Pair] = sorted(((r[0], None) for r in rows), reverse=True)
        if exhausted and after is None:
            n, cap = len(pairs), self.tuning.count_cap
            nxt = (pairs[limit - 1][0],) if n > limit else None
            return Page(pairs[:limit], nxt, min(n, cap), n > cap, "rum")
        return full_or_all(pairs[:need], limit, "rum")

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
        rows = db.session.execute(sa.text(self.sent_with(sql)), params).all()
        total = int(rows[0][0]) if rows else 0
        if cap and total > cap:
            return None
        pairs: list[Pair] = [(r[1], None) for r in rows if r[1] is not None]
        nxt = (pairs[limit - 1][0],) if len(pairs) > limit else None
        count_cap = self.tuning.count_cap
        return Collected(pairs[:limit], nxt, min(total, count_cap), total > count_cap)

    def rank_sql(self, q: Query, pairs: list[Pair]) -> str:
        q.params["rank_ids"] = [i for i, _ in pairs]
        # As float8: a real read into Python and sent back as a cursor would not equal itself.
        score = (
            f"CAST(ts_rank_cd(m.search_tsv, websearch_to_tsquery('{TS_CONFIG}', :tq)) "
            "AS double precision)"
        )
        return (
            f"WITH c AS MATERIALIZED (SELECT m.id, NULL AS rid, {score} AS score "
            "FROM messages m WHERE m.id = ANY(:rank_ids))"
        )

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
        # The deferred settings hold no "%" (pyformat), only SET LOCAL of fixed values.
        if snippet is not None:
            values = {"q": snippet["hl_q"], "w": snippet["hl_whole"], "f": snippet["hl_frag"]}
            return conn.exec_driver_sql(
                self.sent_with(f"EXECUTE {name} (%(ids)s, %(q)s, %(w)s, %(f)s)"),
                {"ids": ids, **values},
            )
        return conn.exec_driver_sql(self.sent_with(f"EXECUTE {name} (%(ids)s)"), {"ids": ids})


class WordEstimate(NamedTuple):
    """How many rows the words match, from pg_stats; `rare`: each group has a lexeme the
    statistics do not list (so `rows` is an upper bound); `rarest`: with one group of several
    lexemes, the one the statistics call rarest (else None)."""

    rows: int
    rare: bool
    rarest: str | None = None


def forget_stats() -> None:
    """Drop the cached statistics (tests that ANALYZE a new corpus call it)."""
    _ROWS_CACHE.clear()
    _STATS_CACHE.clear()
    _INDEX_CACHE.clear()


def _lexeme_stats() -> tuple[dict[str, float], float] | None:
    """search_tsv's most common lexemes with their share of rows, and the smallest share
    listed (every other lexeme is rarer); cached for a minute."""
    key = str(db.engine.url)
    now = time.monotonic()
    hit = _STATS_CACHE.get(key)
    if hit and now - hit[0] < 60:
        return hit[1]
    row = db.session.execute(
        sa.text(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = 'messages' "
            f"AND attname = '{schema.PG_COLUMN}'"
        )
    ).first()
    stats: tuple[dict[str, float], float] | None = None
    if row is not None and row[0] and row[1]:
        elems, freqs = list(row[0]), [float(f) for f in row[1]]
        # The frequencies list has the minimum and maximum (and for arrays, nulls) appended.
        listed = dict(zip(elems, freqs[: len(elems)], strict=False))
        stats = (listed, min(listed.values()))
    _STATS_CACHE[key] = (now, stats)
    return stats


def _term_lexemes(terms: list[Term]) -> dict[Term, list[str]]:
    """Each term's lexemes as the text conditions' tsquery has them (one round trip for the
    terms not seen before: a term's lexemes never change)."""
    out: dict[Term, list[str]] = {t: _LEXEMES[t] for t in terms if t in _LEXEMES}
    terms = [t for t in terms if t not in out]
    if not terms:
        return out
    texts = [websearch([[t]]) for t in terms]
    rows = db.session.execute(
        sa.text(
            f"SELECT x.i, websearch_to_tsquery('{TS_CONFIG}', x.t)::text "
            "FROM unnest(CAST(:terms AS text[])) WITH ORDINALITY AS x(t, i)"
        ),
        {"terms": texts},
    ).all()
    if len(_LEXEMES) > 4_096:
        _LEXEMES.clear()
    for i, text in rows:
        term = terms[int(i) - 1]
        out[term] = _LEXEMES[term] = [m.replace("''", "'") for m in _LEXEME.findall(text or "")]
    return out


def _has_rum() -> bool:
    """Whether messages has a valid RUM index; cached for a minute."""
    return _has_index(schema.PG_RUM_INDEX)


def _has_scope() -> bool:
    """Whether messages has a valid scope index (tsvector, author, thread); cached."""
    return _has_index(schema.PG_SCOPE_INDEX)


def _has_index(name: str) -> bool:
    """Whether the index `name` exists and is valid; cached for a minute."""
    key = f"{db.engine.url}|{name}"
    now = time.monotonic()
    hit = _INDEX_CACHE.get(key)
    if hit and now - hit[0] < 60:
        return hit[1]
    ok = bool(
        db.session.execute(
            sa.text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name"
            ),
            {"name": name},
        ).scalar()
    )
    _INDEX_CACHE[key] = (now, ok)
    return ok


def _ms_to_dt(ms: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(milliseconds=ms)


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
