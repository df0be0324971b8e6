"""Search at any size: the service beside a naive scan, GIN, RUM and month slices; both databases.

    python -m bench.search [--backend postgresql|sqlite|both] [--reps 30] [--naive-reps 1]
        [--template NAME[,NAME…]] [--sqlite-file PATH[,PATH…]] [--users N --threads N
        --messages N] [--variants] [--check N]

PostgreSQL: for each template (`--template`, else `BENCH_TEMPLATE`, else `chatdesk_bench`: 1M
messages; the 10M one is `chatdesk_bench_10m`), a copy `bench_search` (or
`bench_search_<template>` for any other template) is made when missing, or seeded from scratch
with `--users/--threads/--messages` when the template is missing too, then migrated (with the
RUM index when the server has the extension). SQLite: each `--sqlite-file` (default
`bench/.cache/search-1m.db`), seeded once at the given sizes when missing, then reused. Each
copy gets the same few "needle" messages (40 `kumquat`, 400 `zeppelin`) so that the mix has
rare terms with hits.

Each query of the mix runs through `dashboard.services.search.search` as a staff or an end user
(the server time of the first page of 20: plan, strategy, SQL, loading the messages, snippets),
timed from where a request calls it: signing in has read the user, so the connection is
checked out and its transaction open (every timing here starts there). After warm-up, each
runs `--reps` times; the naive scan (`content LIKE '%word%'` per word plus the same filters,
newest first, LIMIT 21) runs the same mix fewer times. With two sizes, the tables are
printed side by side with the growth ratio of each query. `--variants` (PostgreSQL) also times,
per query with words, the same first page as a plain GIN bitmap (`ORDER BY id DESC LIMIT 21`,
index scans off), a RUM scan (`ORDER BY created_at <=| 'far future'`) and GIN read month by
month, newest first. `--check N` pages through N queries of the mix (both orders) and compares
the first two pages with a plain scan of the same conditions. Prints `RESULT …` last.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import common
from bench.common import SEED_SIZES, ensure_database, make_app

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
SQLITE_PATH = CACHE / "search-1m.db"
PG_DB = "bench_search"
# Rare words planted in the corpus: (word, how many messages).
NEEDLES = (("kumquat", 40), ("zeppelin", 400))
TARGETS = {
    "postgresql": {"p50": 5.0, "p95": 25.0, "max": 100.0},
    "sqlite": {"p95": 25.0},
}
FAR_FUTURE = "2100-01-01"


def _seed(app: Any, sizes: dict[str, int]) -> None:
    from dashboard.services.seed import seed

    started = time.perf_counter()
    done = {"messages": 0}

    def progress(stage: str, n: int) -> None:
        if stage == "messages":
            done["messages"] += n
            print(f"\r  seeding: {done['messages']:,} messages", end="", file=sys.stderr)

    with app.app_context():
        seed(**sizes, progress=progress)
    print(f"\n  seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _plant_needles(app: Any) -> None:
    """Add the rare-word messages once (idempotent: marked by client_id)."""
    from dashboard.extensions import db
    from dashboard.models import Message, Thread, new_id, utcnow

    with app.app_context():
        have = db.session.scalar(
            sa.select(sa.func.count()).where(Message.client_id.like("bench-needle-%"))
        )
        if have:
            return
        rng = random.Random(11)
        threads = db.session.execute(
            sa.select(Thread.id, Thread.creator_id).order_by(Thread.id).limit(5000)
        ).all()
        now = utcnow()
        rows = []
        for word, n in NEEDLES:
            for i in range(n):
                t_id, author = rng.choice(threads)
                at = now - timedelta(seconds=rng.randint(60, 44 * 86400))
                rows.append(
                    {
                        "id": new_id(at),
                        "client_id": f"bench-needle-{word}-{i}",
                        "content": f"Found a {word} in the {rng.choice(['order', 'invoice'])}",
                        "thread_id": t_id,
                        "user_id": author,
                        "created_at": at,
                        "updated_at": at,
                        "meta": {},
                    }
                )
        db.session.execute(sa.insert(Message), rows)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def _migrate(app: Any) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def prepare_postgresql(template: str, sizes: dict[str, int]) -> Any:
    """bench_search[_<template>]: copied from the template (or seeded), migrated, needles."""
    common.TEMPLATE = template  # ensure_database copies (or seeds) from this one
    common.SEED_SIZES.update(sizes)
    name = PG_DB if template == "chatdesk_bench" else f"{PG_DB}_{template}"[:63]
    url = ensure_database(name)
    app = make_app(url)
    _migrate(app)  # a copy made before a newer migration gets it (0007: the scope index)
    _plant_needles(app)
    _vacuum_once(url)
    return app


def _vacuum_once(url: str) -> None:
    """The migration rewrote messages (a stored generated column): VACUUM it as autovacuum would."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        visible, pages = conn.execute(
            sa.text("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'messages'")
        ).one()
        if visible < pages // 2:
            print("  VACUUM ANALYZE messages (once, after the migration)", file=sys.stderr)
            conn.execute(sa.text("VACUUM ANALYZE messages"))
    engine.dispose()


def prepare_sqlite(path: Path, sizes: dict[str, int]) -> Any:
    """A SQLite file (default bench/.cache/search-1m.db): seeded once when missing (the FTS
    triggers index it), then reused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    app = make_app(f"sqlite:///{path}")
    _migrate(app)
    if fresh:
        _seed(app, sizes)
    _plant_needles(app)
    return app


# The query mix --------------------------------------------------------------------------------


def _fixtures(app: Any) -> dict[str, str]:
    """Names the mix refers to: a prolific author, a large thread, a mentioned user, days."""
    from dashboard.extensions import db

    with app.app_context():
        prolific = db.session.execute(
            sa.text(
                "SELECT u.username FROM users u JOIN (SELECT user_id, count(*) n FROM messages "
                "GROUP BY user_id ORDER BY n DESC LIMIT 1) t ON t.user_id = u.id"
            )
        ).scalar()
        big = db.session.execute(
            sa.text("SELECT id FROM threads ORDER BY message_count DESC, id LIMIT 1")
        ).scalar()
        mentioned = db.session.execute(
            sa.text(
                "SELECT u.username FROM users u JOIN (SELECT user_id, count(*) n FROM mentions "
                "GROUP BY user_id ORDER BY n DESC LIMIT 1) t ON t.user_id = u.id"
            )
        ).scalar()
        newest = db.session.execute(sa.text("SELECT max(created_at) FROM messages")).scalar()
        end_user = db.session.execute(
            sa.text(
                "SELECT u.username FROM users u JOIN (SELECT p.user_id, sum(t.message_count) n "
                "FROM participants p JOIN threads t ON t.id = p.thread_id GROUP BY p.user_id "
                "ORDER BY n DESC LIMIT 1) s ON s.user_id = u.id"
            )
        ).scalar()
    if isinstance(newest, str):
        from datetime import datetime

        newest = datetime.fromisoformat(newest[:19])
    day = (newest - timedelta(days=3)).date().isoformat()
    early = (newest - timedelta(days=30)).date().isoformat()
    return {
        "prolific": prolific,
        "big": big,
        "mentioned": mentioned,
        "day": day,
        "early": early,
        "end_user": end_user,
    }


def query_mix(f: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(label, who, order, query): who is 'staff', 'alice' or 'heavy' (the busiest end user)."""
    p, big, men, day, early = f["prolific"], f["big"], f["mentioned"], f["day"], f["early"]
    s = "staff"
    return [
        ("rare term", s, "newest", "kumquat"),
        ("rare-ish term", s, "newest", "zeppelin"),
        ("common term", s, "newest", "refund"),
        ("common, stemmed", s, "newest", "refunds"),
        ("two common words", s, "newest", "refund invoice"),
        ("phrase", s, "newest", '"refund order"'),
        ("rarer phrase", s, "newest", '"crash slow"'),
        ("negation", s, "newest", "refund -order"),
        ("exclusion only", s, "newest", "-refund"),
        ("or", s, "newest", "kumquat or zeppelin"),
        ("no hit", s, "newest", "xylophonequartz"),
        ("from: prolific", s, "newest", f"from:{p}"),
        ("from: prolific + common", s, "newest", f"from:{p} refund"),
        ("from: prolific + rare", s, "newest", f"from:{p} kumquat"),
        ("-from: + common", s, "newest", f"-from:{p} refund"),
        ("in: large thread", s, "newest", f"in:{big}"),
        ("in: large + common", s, "newest", f"in:{big} refund"),
        ("in: large + rare", s, "newest", f"in:{big} zeppelin"),
        ("mentions:", s, "newest", f"mentions:{men}"),
        ("mentions: + common", s, "newest", f"mentions:{men} refund"),
        ("has:attachment", s, "newest", "has:attachment"),
        ("has:image", s, "newest", "has:image"),
        ("has:link + common", s, "newest", "has:link refund"),
        ("is:reply", s, "newest", "is:reply"),
        ("is:reply + common", s, "newest", "is:reply refund"),
        ("is:archived", s, "newest", "is:archived"),
        ("is:archived + common", s, "newest", "is:archived refund"),
        ("is:hidden", s, "newest", "is:hidden"),
        ("before: + common", s, "newest", f"before:{early} refund"),
        ("after: + common", s, "newest", f"after:{day} refund"),
        ("on:", s, "newest", f"on:{day}"),
        ("on: + rare", s, "newest", f"on:{day} zeppelin"),
        ("combined", s, "newest", f"refund -order is:reply -has:attachment after:{early}"),
        ("-is:archived -is:reply + common", s, "newest", "invoice -is:archived -is:reply"),
        ("end user: common", "heavy", "newest", "refund"),
        ("end user: rare", "heavy", "newest", "zeppelin"),
        ("end user: from:me", "heavy", "newest", "from:me"),
        ("demo user: common", "alice", "newest", "refund"),
        ("relevance: common", s, "relevance", "refund"),
        ("relevance: rare", s, "relevance", "zeppelin"),
    ]


def _users(app: Any, f: dict[str, str]) -> dict[str, Any]:
    from dashboard.extensions import db
    from dashboard.models import User

    with app.app_context():
        out = {}
        for who, name in (("staff", "support"), ("alice", "alice"), ("heavy", f["end_user"])):
            u = db.session.scalar(sa.select(User).where(User.username == name))
            db.session.expunge(u)
            out[who] = u
        return out


def _signed_in(viewer: Any) -> Any:
    """The viewer as a request holds it when it searches: Flask-Login's user loader (or the
    API's token check) has read the user, which checked the connection out of the pool (its
    pre-ping) and began the transaction. Called before each timer starts."""
    from dashboard.extensions import db
    from dashboard.models import User

    return db.session.get(User, viewer.id)


def _naive(app: Any, viewer: Any, query: str) -> float:
    """One naive scan: LIKE/ILIKE per word and the same filters, newest first, LIMIT 21."""
    from dashboard.extensions import db
    from dashboard.services.search import parser
    from dashboard.services.search.backends import backend_for
    from dashboard.services.search.compile import compile_query

    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
        viewer = _signed_in(viewer)
        started = time.perf_counter()
        plan = parser.parse(query)
        backend = backend_for(db.engine.dialect.name)
        q = compile_query(viewer, viewer.is_staff, plan, [], backend)
        if q is None:
            return (time.perf_counter() - started) * 1000
        like = "ILIKE" if pg else "LIKE"  # SQLite's LIKE is case-insensitive for ASCII
        conds = list(q.conds)
        params = dict(q.params)
        groups = []
        for gi, group in enumerate(plan.any_of):
            parts = []
            for ti, term in enumerate(group):
                params[f"l{gi}_{ti}"] = f"%{' '.join(term.words)}%"
                parts.append(f"m.content {like} :l{gi}_{ti}")
            groups.append("(" + " AND ".join(parts) + ")")
        if groups:
            conds.append("(" + " OR ".join(groups) + ")")
        for ti, term in enumerate(plan.exclude):
            params[f"x{ti}"] = f"%{' '.join(term.words)}%"
            conds.append(f"m.content NOT {like} :x{ti}")
        sql = (
            f"SELECT m.id FROM messages m WHERE {' AND '.join(conds) or '1=1'} "
            "ORDER BY m.id DESC LIMIT 21"
        )
        db.session.execute(sa.text(sql), params).all()
        db.session.rollback()
        return (time.perf_counter() - started) * 1000


def _timed_search(app: Any, viewer: Any, query: str, order: str) -> tuple[float, Any]:
    from dashboard.extensions import db
    from dashboard.services import search as search_service

    with app.app_context():
        viewer = _signed_in(viewer)
        started = time.perf_counter()
        res = search_service.search(viewer, query, order=order, limit=20, all_threads=True)
        elapsed = (time.perf_counter() - started) * 1000
        db.session.rollback()
        return elapsed, res


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def _compiled(app: Any, viewer: Any, query: str) -> Any:
    """The query compiled for this database (its SQL conditions), or None."""
    from dashboard.extensions import db
    from dashboard.services.search import parser
    from dashboard.services.search.backends import backend_for
    from dashboard.services.search.compile import compile_query

    backend = backend_for(db.engine.dialect.name)
    return compile_query(viewer, viewer.is_staff, parser.parse(query), [], backend)


def _months(app: Any) -> list[tuple[str, str]]:
    """(lower, upper) id bounds of each calendar month of the data, newest first."""
    from dashboard.extensions import db
    from dashboard.models import id_floor

    with app.app_context():
        lo, hi = db.session.execute(
            sa.text("SELECT min(created_at), max(created_at) FROM messages")
        ).one()
    out = []
    month = datetime(hi.year, hi.month, 1)
    while True:
        nxt = datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
        out.append((id_floor(month - timedelta(minutes=1)), id_floor(nxt + timedelta(minutes=1))))
        if month <= lo:
            break
        month = datetime(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    return out


def _variant_ms(
    app: Any, viewer: Any, query: str, how: str, months: list[tuple[str, str]]
) -> float:
    """One first page (21 ids, newest first) of the query's conditions read one way."""
    from dashboard.extensions import db

    with app.app_context():
        viewer = _signed_in(viewer)
        started = time.perf_counter()
        q = _compiled(app, viewer, query)
        if q is None:
            return (time.perf_counter() - started) * 1000
        where = q.where()
        if how == "gin":
            db.session.execute(sa.text("SET LOCAL enable_indexscan = off"))
            sql = f"SELECT m.id FROM messages m WHERE {where} ORDER BY m.id DESC LIMIT 21"
            db.session.execute(sa.text(sql), q.params).all()
        elif how == "rum":
            db.session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
            sql = (
                f"SELECT m.id FROM messages m WHERE {where} "
                f"ORDER BY m.created_at <=| '{FAR_FUTURE}'::timestamp LIMIT 21"
            )
            db.session.execute(sa.text(sql), q.params).all()
        else:  # GIN read one month at a time, newest first
            db.session.execute(sa.text("SET LOCAL enable_indexscan = off"))
            got = 0
            for lo, hi in months:
                sql = (
                    f"SELECT m.id FROM messages m WHERE {where} AND m.id >= :lo AND m.id < :hi "
                    "ORDER BY m.id DESC LIMIT :n"
                )
                got += len(
                    db.session.execute(
                        sa.text(sql), {**q.params, "lo": lo, "hi": hi, "n": 21 - got}
                    ).all()
                )
                if got >= 21:
                    break
        elapsed = (time.perf_counter() - started) * 1000
        db.session.rollback()
        return elapsed


def _has_rum(app: Any) -> bool:
    from dashboard.extensions import db
    from dashboard.services.search import schema

    with app.app_context():
        return bool(
            db.session.execute(
                sa.text("SELECT 1 FROM pg_class WHERE relname = :n"), {"n": schema.PG_RUM_INDEX}
            ).scalar()
        )


def check_sample(app: Any, users: dict[str, Any], mix: list[Any], n: int) -> tuple[int, int]:
    """Compare the first two pages of `n` queries (both orders) with a plain scan of the same
    conditions: (pages equal, pages compared). Prints each mismatch."""
    from dashboard.extensions import db
    from dashboard.services import search as search_service

    rng = random.Random(7)
    sample = mix if n >= len(mix) else rng.sample(mix, n)
    ok = total = 0
    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
        for label, who, _, query in sample:
            viewer = users[who]
            q = _compiled(app, viewer, query)
            if q is None:
                continue
            # The plain scan: the same conditions, no strategy, newest first.
            where, params = _plain_where(q, pg)
            sql = f"SELECT m.id FROM messages m WHERE {where} ORDER BY m.id DESC LIMIT 41"
            plain = [r[0] for r in db.session.execute(sa.text(sql), params)]
            db.session.rollback()
            orders = ["newest", "relevance"] if q.plan.any_of else ["newest"]
            for order in orders:
                expected = plain
                window = None
                if order == "relevance":
                    res0 = search_service.search(
                        viewer, query, order=order, limit=20, all_threads=True
                    )
                    db.session.rollback()
                    window = res0.ranked_window
                    expected = _plain_ranked(q, pg, window)
                cursor = None
                for page in range(2):
                    res = search_service.search(
                        viewer, query, cursor=cursor, order=order, limit=20, all_threads=True
                    )
                    db.session.rollback()
                    got = [h.message.id for h in res.items]
                    want = expected[page * 20 : page * 20 + 20]
                    more = len(expected) > page * 20 + 20
                    total += 1
                    if got == want and (res.next_cursor is not None) == more:
                        ok += 1
                    else:
                        print(f"  MISMATCH {label} ({order}, page {page + 1}): {res.strategy}")
                    cursor = res.next_cursor
                    if not cursor:
                        break
    return ok, total


def _plain_where(q: Any, pg: bool) -> tuple[str, dict[str, Any]]:
    """The conditions of a plain scan, and their parameters. On SQLite the words are one FTS5
    set (every match) rather than a MATCH per row, which for a rare word with a filter would
    test millions of rows one by one; they are the words alone (`fq_words`), so the filters
    are tested in SQL, not by their FTS tags."""
    if pg or not (q.fq_words or q.fn):
        return q.where(), q.params
    sets = [
        f"m.search_rowid {op} (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :{name})"
        for op, name, value in (("IN", "ref_in", q.fq_words), ("NOT IN", "ref_out", q.fn))
        if value
    ]
    return q.where(extra=sets, text=False), {**q.params, "ref_in": q.fq_words, "ref_out": q.fn}


def _plain_ranked(q: Any, pg: bool, window: int | None) -> list[str]:
    """The relevance order of a plain scan: every match, or the newest `window`, by score."""
    import json

    from dashboard.extensions import db

    cap = f" LIMIT {int(window)}" if window else ""
    where, params = _plain_where(q, pg)
    sql = f"SELECT m.id FROM messages m WHERE {where} ORDER BY m.id DESC{cap}"
    ids = [r[0] for r in db.session.execute(sa.text(sql), params)]
    if pg:
        sql = (
            "SELECT id, CAST(ts_rank_cd(search_tsv, websearch_to_tsquery('english', :tq)) "
            "AS float8) FROM messages WHERE id = ANY(:ids)"
        )
        rows = db.session.execute(sa.text(sql), {"tq": q.tq, "ids": ids}).all()
    else:
        # bm25() among the ranked rows alone (their own FTS5 table), as the search ranks.
        from dashboard.services.search import sqlite_fts

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
    db.session.rollback()
    return [i for _, i in sorted(((float(s), i) for i, s in rows), reverse=True)]


def run_backend(
    name: str, label: str, app: Any, reps: int, naive_reps: int, variants: bool, check: int
) -> dict[str, Any]:
    """Run the mix on one database; print its table; return the summary and per-query rows."""
    f = _fixtures(app)
    users = _users(app, f)
    mix = query_mix(f)
    all_ms: list[float] = []
    naive_all: list[float] = []
    variants = variants and name == "postgresql"
    rum = variants and _has_rum(app)
    months = _months(app) if variants else []
    print(f"\n== {name} {label}: {len(mix)} queries, {reps} timed runs each (naive: {naive_reps})")
    cols = f"{'query':<34} {'strategy':<22} {'hits':>5} {'total':>7} {'p50 ms':>8} {'max ms':>8}"
    cols += f" {'naive ms':>9}"
    if variants:
        cols += f" {'GIN ms':>8} {'RUM ms':>8} {'months':>8}"
    print(cols)
    per_query: dict[str, tuple[str, float, float]] = {}
    for qlabel, who, order, query in mix:
        viewer = users[who]
        for _ in range(3):
            _timed_search(app, viewer, query, order)
        times = []
        res = None
        for _ in range(reps):
            ms, res = _timed_search(app, viewer, query, order)
            times.append(ms)
        naive = [_naive(app, viewer, query) for _ in range(naive_reps)]
        all_ms += times
        naive_all += naive
        p50, mx = statistics.median(times), max(times)
        nv = statistics.median(naive) if naive else float("nan")
        total = f"{res.total}{'+' if res.total_capped else ''}"
        line = (
            f"{qlabel:<34} {res.strategy[:22]:<22} {len(res.items):>5} {total:>7} "
            f"{p50:>8.2f} {mx:>8.2f} {nv:>9.1f}"
        )
        if variants:
            if order == "newest" and _compiled_has_words(app, viewer, query):
                hows = ["gin", "rum", "months"] if rum else ["gin", "months"]
                got = {}
                for how in hows:
                    _variant_ms(app, viewer, query, how, months)
                    got[how] = statistics.median(
                        _variant_ms(app, viewer, query, how, months)
                        for _ in range(max(3, reps // 2))
                    )
                line += "".join(
                    f" {got[h]:>8.2f}" if h in got else f" {'-':>8}"
                    for h in ("gin", "rum", "months")
                )
            else:
                line += f" {'-':>8} {'-':>8} {'-':>8}"
        print(line, flush=True)
        per_query[qlabel] = (res.strategy, p50, mx)
    summary: dict[str, Any] = {
        "p50": statistics.median(all_ms),
        "p95": _pct(all_ms, 0.95),
        "max": max(all_ms),
        # --naive-reps 0 leaves the naive scan out (minutes a query on a 10M SQLite file).
        "naive_p50": statistics.median(naive_all) if naive_all else float("nan"),
        "naive_p95": _pct(naive_all, 0.95) if naive_all else float("nan"),
        "naive_max": max(naive_all) if naive_all else float("nan"),
        "queries": per_query,
    }
    target = TARGETS[name]
    print(f"\n{name} {label} summary over {len(all_ms)} timed searches ({len(mix)} queries):")
    print(f"{'':<10} {'service':>10} {'naive scan':>12} {'target':>10}")
    for k in ("p50", "p95", "max"):
        t = f"≤ {target[k]:g}" if k in target else "-"
        ok = "" if k not in target else ("  ok" if summary[k] <= target[k] else "  MISSED")
        print(f"{k:<10} {summary[k]:>8.2f}ms {summary['naive_' + k]:>10.1f}ms {t:>10}{ok}")
    if check:
        good, n = check_sample(app, users, mix, check)
        summary["check"] = (good, n)
        print(f"completeness sample: {good}/{n} pages equal a plain scan (cursor iff more)")
    return summary


def _compiled_has_words(app: Any, viewer: Any, query: str) -> bool:
    with app.app_context():
        q = _compiled(app, viewer, query)
        return bool(q is not None and q.plan.any_of)


def side_by_side(name: str, runs: list[tuple[str, dict[str, Any]]]) -> None:
    """The per-query p50 of each size side by side, with the growth ratio (last / first)."""
    (a_label, a), (b_label, b) = runs[0], runs[-1]
    print(f"\n== {name}: {a_label} vs {b_label} (p50 ms; growth = {b_label} / {a_label})")
    print(f"{'query':<34} {a_label:>10} {b_label:>10} {'growth':>7}  strategy at {b_label}")
    for qlabel, (_, p50a, _) in a["queries"].items():
        strategy, p50b, _ = b["queries"].get(qlabel, ("-", 0.0, 0.0))
        ratio = p50b / p50a if p50a else 0.0
        print(f"{qlabel:<34} {p50a:>10.2f} {p50b:>10.2f} {ratio:>6.1f}x  {strategy}")
    for k in ("p50", "p95", "max"):
        print(f"{k:<34} {a[k]:>10.2f} {b[k]:>10.2f} {b[k] / a[k] if a[k] else 0:>6.1f}x")


def main(argv: list[str] | None = None) -> None:
    """Prepare the databases, run the mix on each, print the tables and the RESULT line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--naive-reps", type=int, default=1)
    ap.add_argument(
        "--template",
        default=common.TEMPLATE,
        help="PostgreSQL template database(s), comma-separated (default: BENCH_TEMPLATE)",
    )
    ap.add_argument(
        "--sqlite-file", default=str(SQLITE_PATH), help="SQLite file(s), comma-separated"
    )
    ap.add_argument("--users", type=int, default=SEED_SIZES["users"])
    ap.add_argument("--threads", type=int, default=SEED_SIZES["threads"])
    ap.add_argument("--messages", type=int, default=SEED_SIZES["messages"])
    ap.add_argument("--variants", action="store_true", help="also time GIN, RUM, month slices")
    ap.add_argument("--check", type=int, default=0, help="compare N queries with a plain scan")
    args = ap.parse_args(argv)
    sizes = {"users": args.users, "threads": args.threads, "messages": args.messages}
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    parts = []
    met = True
    for name in backends:
        targets = args.template.split(",") if name == "postgresql" else args.sqlite_file.split(",")
        runs = []
        for target in targets:
            print(f"preparing {name} {target} …", file=sys.stderr)
            if name == "postgresql":
                app = prepare_postgresql(target, sizes)
                label = target
            else:
                # Absolute: Flask-SQLAlchemy reads a relative SQLite path from instance/.
                app = prepare_sqlite(Path(target).resolve(), sizes)
                label = Path(target).stem
            runs.append(
                (
                    label,
                    run_backend(
                        name, label, app, args.reps, args.naive_reps, args.variants, args.check
                    ),
                )
            )
        if len(runs) > 1:
            side_by_side(name, runs)
        short = "pg" if name == "postgresql" else "sqlite"
        for label, s in runs:
            tag = short if len(runs) == 1 else f"{short}_{label}"
            parts += [
                f"{tag}_p50_ms={s['p50']:.2f}",
                f"{tag}_p95_ms={s['p95']:.2f}",
                f"{tag}_max_ms={s['max']:.2f}",
                f"{tag}_naive_p50_ms={s['naive_p50']:.1f}",
            ]
            if "check" in s:
                parts.append(f"{tag}_check={s['check'][0]}/{s['check'][1]}")
        # The targets are for the largest size measured (the last).
        last = runs[-1][1]
        met = met and all(last[k] <= v for k, v in TARGETS[name].items())
    print("RESULT " + " ".join(parts) + f" targets_met={'yes' if met else 'no'}")


if __name__ == "__main__":
    main()
