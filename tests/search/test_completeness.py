"""Every strategy ends with a complete answer: each page equals the page a plain scan gives.

A corpus of 12,000 messages holds five words with 1, 10, 100, 1,000 and 10,000 matches, in
threads of different sizes, with replies, mentions, attachments, hidden and deleted messages,
and a burst of messages within one minute (where created_at order and id order can differ).
The strategies' budgets and thresholds are scaled down (`SMALL`, a `Tuning`) so that at this
size every one of them is crossed: walks run out of budget and collect the rest, collects
overflow their cap, relevance ranks all matches or only the newest window. Each query, with
and without filters, as staff and as an end user, in both orders, is paged through and every
page is compared with the same page of a plain scan of the corpus (made here, in Python, from
the rows as inserted; relevance scores come from the database's own ranking function over the
expected candidates). A page is never short or empty while more matches exist, and there is
a next cursor exactly when more exist.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Attachment, Mention, Message, Thread, User, new_id
from dashboard.services import search as search_service
from dashboard.services.search import Tuning, parse, sqlite_fts, sqlite_scopes
from dashboard.services.search.backends import backend_for, postgres
from dashboard.services.search.compile import compile_query
from tests.conftest import CI

N_MESSAGES = 12_000
# word -> how many messages hold it
TERMS = {"uno": 1, "deca": 10, "hecto": 100, "kilo": 1_000, "myria": 10_000}
FILLER = ("refund", "order", "invoice", "parcel")
START = datetime(2026, 3, 1)
DAY = "2026-08-01"  # about two thirds of the way through the corpus
SMALL = Tuning(
    count_cap=300,
    rare_max=60,
    common_words=3_000,
    long_walk_budget=600,
    walk_budget=250,
    walk_narrow_min=40,
    relevance_window=40,
    sqlite_relevance_window=30,
    fts_walk_budget=60,
    fts_deep_budget=400,
    sqlite_filter_walk=80,
    scratch_max=150,
    sqlite_fts_probe=150,
    sqlite_tagged_probe=20,
    driver_batch=10,
    driver_max_rows=210,
    tag_or_max=3,
    rum_max=5_000,
    thread_walk_budget=40,
    driver_walk_budget=30,
)
PG_TUNINGS = {
    "small": SMALL,
    "small, GIN only": replace(SMALL, use_rum=False, use_scope=False),
    "small, RUM for every word": replace(
        SMALL, rum_max=10**9, rum_entry_us=0.0, rum_row_us=0.0, walk_row_us=1e9
    ),
    "default": Tuning(),
}
SQLITE_TUNINGS = {
    "small": replace(SMALL, use_scoped=False),
    # ben's four threads go into FTS5 as tags: the big one (a scope) with three that are not.
    "small, scope index": replace(SMALL, scoped_max=150, tag_or_max=4),
    "default": Tuning(),
}
SCOPE_MIN = 1_200  # SQLite: authors and threads with this many messages get the scope index
MAX_PAGES = 4  # past this many pages of a long answer, only the first pages are compared


@dataclass
class Row:
    id: str
    words: frozenset[str]
    thread: str
    author: str
    at: datetime
    reply: bool
    mentions_cat: bool
    mentions_amy: bool  # rare (one message in 300): its index is walked, not the table
    attachment: bool
    visible: bool
    text: str = ""


@pytest.fixture
def big_corpus(app, factory):  # type: ignore[no-untyped-def]
    rng = random.Random(12)
    amy = factory.user(username="amy")
    ben = factory.user(username="ben")
    cat = factory.user(username="cat")
    staff = factory.user(role="support", username="sam")
    threads = {
        "big": (factory.thread(amy, [ben, cat], name="big"), (amy, ben, cat), 5),
        "small": (factory.thread(ben, [cat], name="small"), (ben, cat), 2),
        "mine": (factory.thread(amy, [ben], name="mine"), (amy, ben), 2),
        "solo": (factory.thread(cat, [], name="solo"), (cat,), 2),
        "old": (factory.thread(amy, [ben], name="old", is_archived=True), (amy, ben), 1),
    }
    names = list(threads)
    weights = [threads[n][2] for n in names]
    # Times: one message every ~29 minutes, then a burst of 60 within a minute near the end.
    times = [
        START + timedelta(minutes=29 * i, seconds=rng.randrange(60)) for i in range(N_MESSAGES)
    ]
    burst = START + timedelta(minutes=29 * (N_MESSAGES - 300))
    for i in range(N_MESSAGES - 360, N_MESSAGES - 300):
        times[i] = burst + timedelta(milliseconds=rng.randrange(60_000))
    holders: dict[str, set[int]] = {}
    for word, n in TERMS.items():
        if n == 1:
            holders[word] = {3}  # the oldest few: every walk runs out of budget first
        elif n == 10:
            holders[word] = set(rng.sample(range(2_000), 7)) | set(rng.sample(range(N_MESSAGES), 3))
        else:
            holders[word] = set(rng.sample(range(N_MESSAGES), n))
    rows: list[Row] = []
    msgs: list[dict[str, Any]] = []
    mentions: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    prev = None
    for i in range(N_MESSAGES):
        tname = rng.choices(names, weights)[0]
        thread, members, _ = threads[tname]
        author = rng.choice(members)
        words = [rng.choice(FILLER) for _ in range(rng.randint(1, 3))]
        words += [w for w, h in holders.items() if i in h]
        rng.shuffle(words)
        at = times[i]
        mid = new_id(at)
        hidden = i % 97 == 5
        deleted = i % 101 == 7
        reply = prev is not None and i % 7 == 0
        msgs.append(
            {
                "id": mid,
                "thread_id": thread.id,
                "user_id": author.id,
                "content": " ".join(words),
                "created_at": at,
                "updated_at": at,
                "hidden_at": at if hidden else None,
                "deleted_at": at if deleted else None,
                "parent_id": prev if reply else None,
                "meta": {},
            }
        )
        if i % 5 == 0:
            mentions.append({"message_id": mid, "user_id": cat.id})
        if i % 300 == 150:
            mentions.append({"message_id": mid, "user_id": amy.id})
        if i % 9 == 0:
            attachments.append(
                {
                    "id": new_id(at),
                    "message_id": mid,
                    "uploader_id": author.id,
                    "type": "link",
                    "url": "https://example.com/x",
                    "meta": {},
                }
            )
        rows.append(
            Row(
                mid,
                frozenset(words),
                tname,
                author.username,
                at,
                reply,
                i % 5 == 0,
                i % 300 == 150,
                i % 9 == 0,
                not hidden and not deleted,
                " ".join(words),
            )
        )
        prev = mid

    def count_threads(upto: int) -> None:
        for tname, (thread, _, _) in threads.items():
            count = sum(1 for r in rows[:upto] if r.thread == tname)
            db.session.execute(
                sa.update(Thread).where(Thread.id == thread.id).values(message_count=count)
            )

    with app.app_context():
        for k in range(0, len(msgs), 2_000):
            db.session.execute(sa.insert(Message), msgs[k : k + 2_000])
            if k == 4_000 and db.engine.dialect.name == "sqlite":
                # Half-way, the large scopes get their index (backfilled); the triggers add
                # the rest. SCOPE_MIN makes the big thread and the three authors scopes, and
                # leaves the other threads out (an end user's threads mix both).
                count_threads(k + 2_000)
                db.session.commit()
                promoted = sqlite_scopes.promote(
                    db.session.connection, SCOPE_MIN, db.session.commit
                )
                assert promoted > 0
        db.session.execute(sa.insert(Mention), mentions)
        db.session.execute(sa.insert(Attachment), attachments)
        count_threads(len(rows))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            postgres.forget_stats()
    members = {n: {u.username for u in threads[n][1]} for n in names}
    return staff, ben, rows, members


def _queries() -> list[tuple[str, Any]]:
    """(query, predicate over a Row) pairs: each word alone, with filters, and combinations."""
    day = datetime.fromisoformat(DAY) + timedelta(days=1)
    out: list[tuple[str, Any]] = []
    for w in TERMS:
        out += [
            (w, lambda r, w=w: w in r.words),
            (f"{w} from:amy", lambda r, w=w: w in r.words and r.author == "amy"),
            (f"{w} in:big", lambda r, w=w: w in r.words and r.thread == "big"),
            (f"{w} is:reply", lambda r, w=w: w in r.words and r.reply),
            (f"{w} has:attachment", lambda r, w=w: w in r.words and r.attachment),
            (f"{w} mentions:cat", lambda r, w=w: w in r.words and r.mentions_cat),
            (f"{w} after:{DAY}", lambda r, w=w: w in r.words and r.at >= day),
            (f"{w} -parcel", lambda r, w=w: w in r.words and "parcel" not in r.words),
            (
                f"{w} is:reply -has:attachment after:{DAY}",
                lambda r, w=w: w in r.words and r.reply and not r.attachment and r.at >= day,
            ),
        ]
    out += [
        ("uno or deca", lambda r: bool({"uno", "deca"} & r.words)),
        ("hecto or kilo", lambda r: bool({"hecto", "kilo"} & r.words)),
        ("kilo myria", lambda r: {"kilo", "myria"} <= r.words),
        # A phrase: its words together, in order (RUM reads its rarest word, tests the rest).
        ('"myria refund"', lambda r: " myria refund " in f" {r.text} "),
        ("is:archived kilo", lambda r: "kilo" in r.words and r.thread == "old"),
        # No words: mentions: and has: walk their own index, fenced, then collect.
        ("mentions:cat", lambda r: r.mentions_cat),
        ("has:attachment", lambda r: r.attachment),
        ("mentions:amy", lambda r: r.mentions_amy),
        ("mentions:amy is:reply", lambda r: r.mentions_amy and r.reply),
        ("has:attachment -from:amy", lambda r: r.attachment and r.author != "amy"),
    ]
    return out


def _scores(viewer: User, query: str, ids: list[str]) -> dict[str, float]:
    """The database's relevance score of each message, computed as the search ranks."""
    backend = backend_for(db.engine.dialect.name)
    q = compile_query(viewer, True, parse(query), [], backend)
    assert q is not None
    if db.engine.dialect.name == "postgresql":
        sql = (
            "SELECT id, ts_rank_cd(search_tsv, websearch_to_tsquery('english', :tq)) "
            "FROM messages WHERE id = ANY(:ids)"
        )
        rows = db.session.execute(sa.text(sql), {"tq": q.tq, "ids": ids}).all()
    else:
        # bm25() among the ranked rows alone (their own FTS5 table, the index's tokenizer).
        db.session.execute(
            sa.text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.ref_rank USING fts5(content, "
                f"mid UNINDEXED, tokenize='{sqlite_fts.TOKENIZER}')"
            )
        )
        db.session.execute(sa.text("DELETE FROM temp.ref_rank"))
        db.session.execute(
            sa.text(
                "INSERT INTO temp.ref_rank(content, mid) SELECT content, id FROM messages "
                "WHERE id IN (SELECT value FROM json_each(:ids))"
            ),
            {"ids": json.dumps(ids)},
        )
        sql = "SELECT mid, -bm25(ref_rank) FROM temp.ref_rank WHERE ref_rank MATCH :fq"
        rows = db.session.execute(sa.text(sql), {"fq": q.fq_words}).all()
    return {r[0]: float(r[1]) for r in rows}


def _check(
    viewer: User,
    staff: bool,
    query: str,
    order: str,
    expected: list[str],
    tuning: Tuning,
    n_all: int,
    window: int | None = None,
) -> set[str]:
    """Page through the search; compare each page; return the strategies used.

    `expected`: the ids in order (for relevance, the ranked window); `n_all`: how many
    messages match in all; `window`: the relevance window the page must report (or None).
    """
    limit = 25 if len(expected) <= 250 else 100
    cursor, seen, used = None, 0, set()
    for page_no in range(MAX_PAGES):
        res = search_service.search(
            viewer, query, cursor=cursor, limit=limit, order=order, all_threads=staff, tuning=tuning
        )
        assert _plan_settings_left() == set(), (query, order, page_no, res.strategy)
        db.session.rollback()
        used.add(res.strategy)
        got = [h.message.id for h in res.items]
        want = expected[seen : seen + limit]
        where = (query, order, page_no, res.strategy)
        assert got == want, where
        seen += len(got)
        more = seen < len(expected)
        assert (res.next_cursor is not None) == more, (*where, len(expected))
        if page_no == 0:
            if res.total_capped:
                assert res.total < n_all, (*where, res.total)
            else:
                assert res.total == n_all, (*where, res.total)
            assert res.ranked_window == window, (*where, res.ranked_window)
        if not more:
            break
        cursor = res.next_cursor
    return used


def _plan_settings_left() -> set[str]:
    """The scan kinds a search left turned off for the rest of its transaction (PostgreSQL:
    a strategy turns some off for its own statements, and must turn them back on)."""
    if db.engine.dialect.name != "postgresql":
        return set()
    kinds = ("bitmapscan", "indexscan", "seqscan")
    sql = ", ".join(f"current_setting('enable_{k}')" for k in kinds)
    row = db.session.execute(sa.text(f"SELECT {sql}")).one()
    return {k for k, v in zip(kinds, row, strict=True) if v != "on"}


def test_every_page_equals_a_plain_scan(app, big_corpus):
    staff_user, ben, rows, members = big_corpus
    tunings = PG_TUNINGS if app.config["BACKEND"] == "postgresql" else SQLITE_TUNINGS
    newest = sorted(rows, key=lambda r: r.id, reverse=True)
    used: dict[str, set[str]] = {}
    with app.app_context():
        viewers = [
            (db.session.get(User, staff_user.id), True, set(members)),
            (db.session.get(User, ben.id), False, {n for n, m in members.items() if "ben" in m}),
        ]
        for viewer, _, _ in viewers:
            db.session.expunge(viewer)
        for query, pred in _queries():
            if os.environ.get("COMPLETENESS_ONLY") and query != os.environ["COMPLETENESS_ONLY"]:
                continue
            for viewer, staff, threads in viewers:
                expected = [r.id for r in newest if r.visible and r.thread in threads and pred(r)]
                ranked: dict[int, list[str]] = {}
                for name, tuning in tunings.items():
                    if name.startswith("default") and not staff:
                        continue  # the defaults cross few thresholds at this size
                    strategies = used.setdefault(name, set())
                    n = len(expected)
                    strategies |= _check(viewer, staff, query, "newest", expected, tuning, n)
                    if not parse(query).any_of:
                        continue  # without words, relevance is the newest-first order
                    window = (
                        tuning.relevance_window
                        if app.config["BACKEND"] == "postgresql"
                        else tuning.sqlite_relevance_window
                    )
                    if window not in ranked:
                        cands = expected[:window]
                        score = _scores(viewer, query, cands)
                        ranked[window] = sorted(cands, key=lambda i: (score[i], i), reverse=True)
                    strategies |= _check(
                        viewer,
                        staff,
                        query,
                        "relevance",
                        ranked[window],
                        tuning,
                        n,
                        window if n > window else None,
                    )
        rum = app.config["BACKEND"] == "postgresql" and postgres._has_rum()
        scope = app.config["BACKEND"] == "postgresql" and postgres._has_scope()
    flat = {s.split(":")[0].split("+")[0] for v in used.values() for s in v}
    relevance = {s.split("+")[0] for v in used.values() for s in v if s.startswith("relevance")}
    assert {"relevance:all", "relevance:window"} <= relevance, used
    every = {s for v in used.values() for s in v}
    assert "walk:driver" in every, used  # mentions:/has: alone walk their own index
    if app.config["BACKEND"] == "postgresql":
        if not rum:
            # CI installs postgresql-15-rum (.ci/run), so there both paths are always tested.
            assert not CI, "the rum extension is required under CI=true"
        assert {"collect", "walk"} | ({"rum"} if rum else set()) <= flat, used
        assert any(s.startswith("walk+") for v in used.values() for s in v), used
        assert "rum" not in {s.split("+")[0] for s in used["small, GIN only"]}, used
        if not scope:
            # btree_gin ships with PostgreSQL: migration 0007 makes the scope index.
            assert not CI, "the scope index (btree_gin) is required under CI=true"
        else:
            assert {"walk+scope", "walk:threads+scope"} <= every, used
        assert not any("scope" in s for s in used["small, GIN only"]), used
    else:
        assert {"collect", "fts-walk", "driver-scratch"} <= flat, used
        # Words in a large author or thread: its scope index, where the matches are few.
        assert "collect:scoped" in used["small, scope index"], used
        assert not any("scoped" in s for s in used["small"]), used
    print({k: sorted(v) for k, v in used.items()})


@pytest.mark.postgres_only
def test_plans_come_from_the_statistics_analyze_keeps(app, factory):
    """pg_stats gives each word's share; a word it does not list is rare. A rare word goes to
    the RUM index when there is one (else a capped collect), a common one never does."""
    amy = factory.user(username="amy")
    t = factory.thread(amy, [], name="t")
    rows = [
        {
            "id": new_id(START + timedelta(minutes=i)),
            "thread_id": t.id,
            "user_id": amy.id,
            "content": "lorem ipsum" + (" zebrafinch" if i % 1000 == 0 else ""),
            "created_at": START + timedelta(minutes=i),
            "updated_at": START + timedelta(minutes=i),
            "meta": {},
        }
        for i in range(3_000)
    ]
    with app.app_context():
        db.session.execute(sa.insert(Message), rows)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE messages"))
        db.session.commit()
        postgres.forget_stats()
        staff = factory.user(role="support")
        viewer = db.session.get(User, staff.id)
        backend = backend_for("postgresql")
        common = compile_query(viewer, True, parse("lorem"), [], backend)
        rare = compile_query(viewer, True, parse("zebrafinch"), [], backend)
        assert common is not None and rare is not None
        est_common, est_rare = backend.word_estimate(common), backend.word_estimate(rare)
        assert est_common is not None and est_rare is not None
        # Both listed here (few lexemes): their shares, close to the truth (3,000 and 3).
        assert est_common.rows > 2_500 and not est_common.rare
        assert est_rare.rows < 30 and not est_rare.rare
        # A word ANALYZE did not see is rarer than every listed one: a bound, marked rare.
        unseen = compile_query(viewer, True, parse("quokkaberry"), [], backend)
        assert unseen is not None
        est_unseen = backend.word_estimate(unseen)
        assert est_unseen is not None and est_unseen.rare and est_unseen.rows <= est_rare.rows
        found = search_service.search(viewer, "zebrafinch", all_threads=True)
        assert found.total == 3 and not found.total_capped
        assert found.strategy == ("rum" if postgres._has_rum() else "collect")
        assert _plan_settings_left() == set()
        # The API's page (its ORM queries) and an empty page leave no setting behind either.
        api = search_service.search(viewer, "zebrafinch", all_threads=True, with_relations=True)
        assert [h.message.id for h in api.items] == [h.message.id for h in found.items]
        assert _plan_settings_left() == set()
        none = search_service.search(viewer, "zebrafinch -lorem", all_threads=True)
        assert none.items == [] and none.strategy == found.strategy
        assert _plan_settings_left() == set()
        gin = search_service.search(
            viewer, "zebrafinch", all_threads=True, tuning=Tuning(use_rum=False)
        )
        assert gin.strategy == "collect" and gin.total == 3
        # Every row matches: the cost model never picks RUM (a walk's first rows all match).
        assert search_service.search(viewer, "lorem", all_threads=True).strategy != "rum"
