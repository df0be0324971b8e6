"""Search at a million messages: the search service beside a naive LIKE/ILIKE scan, both databases.

    python -m bench.search [--backend postgresql|sqlite|both] [--reps 30] [--naive-reps 1]

PostgreSQL: database `bench_search`, a copy of the template database (`BENCH_TEMPLATE`, by
default `chatdesk_bench`: 1M messages, 100k threads; see bench/common.py), made when missing
(or seeded from scratch when the template is missing too), then migrated. SQLite:
`bench/.cache/search-1m.db`, seeded once with the Foundation's seed and reused. Both get the
same few "needle" messages (rare words) so that the mix has rare terms with hits.

Each query of the mix runs through `dashboard.services.search.search` as a staff or an end user
(the server time of the first page of 20: plan, strategy, SQL, loading the messages, snippets),
after warm-up, many times; the naive scan (`content LIKE '%word%'` per word plus the same filters,
newest first, LIMIT 21) runs the same mix fewer times. Prints a table per query and a summary,
then `RESULT …`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import SEED_SIZES, ensure_database, make_app

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
SQLITE_PATH = CACHE / "search-1m.db"
PG_DB = "bench_search"
# Rare words planted in the corpus: (word, how many messages).
NEEDLES = (("kumquat", 40), ("zeppelin", 400))
TARGETS = {
    "postgresql": {"p50": 5.0, "p95": 25.0, "max": 100.0},
    "sqlite": {"p95": 15.0},
}


def _seed(app: Any) -> None:
    from dashboard.services.seed import seed

    started = time.perf_counter()
    done = {"messages": 0}

    def progress(stage: str, n: int) -> None:
        if stage == "messages":
            done["messages"] += n
            print(f"\r  seeding: {done['messages']:,} messages", end="", file=sys.stderr)

    with app.app_context():
        seed(**SEED_SIZES, progress=progress)
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


def prepare_postgresql() -> Any:
    """bench_search: copied from the template (or seeded), migrated, with the needles."""
    url = ensure_database(PG_DB)
    app = make_app(url)
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


def prepare_sqlite() -> Any:
    """bench/.cache/search-1m.db: seeded once (the FTS triggers index it), then reused."""
    CACHE.mkdir(parents=True, exist_ok=True)
    fresh = not SQLITE_PATH.exists()
    app = make_app(f"sqlite:///{SQLITE_PATH}")
    _migrate(app)
    if fresh:
        _seed(app)
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


def _naive(app: Any, viewer: Any, query: str) -> float:
    """One naive scan: LIKE/ILIKE per word and the same filters, newest first, LIMIT 21."""
    from dashboard.extensions import db
    from dashboard.services.search import parser
    from dashboard.services.search.backends import backend_for
    from dashboard.services.search.compile import compile_query

    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
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
        started = time.perf_counter()
        res = search_service.search(viewer, query, order=order, limit=20, all_threads=True)
        elapsed = (time.perf_counter() - started) * 1000
        db.session.rollback()
        return elapsed, res


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def run_backend(name: str, app: Any, reps: int, naive_reps: int) -> dict[str, float]:
    """Run the mix on one database; print the per-query table; return the summary."""
    f = _fixtures(app)
    users = _users(app, f)
    mix = query_mix(f)
    all_ms: list[float] = []
    naive_all: list[float] = []
    print(f"\n== {name}: {len(mix)} queries, {reps} timed runs each (naive scan: {naive_reps})")
    print(
        f"{'query':<34} {'strategy':<14} {'hits':>5} {'total':>7} "
        f"{'p50 ms':>8} {'max ms':>8} {'naive ms':>9} {'x':>6}"
    )
    for label, who, order, query in mix:
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
        p50, mx, nv = statistics.median(times), max(times), statistics.median(naive)
        total = f"{res.total}{'+' if res.total_capped else ''}"
        print(
            f"{label:<34} {res.strategy[:14]:<14} {len(res.items):>5} {total:>7} "
            f"{p50:>8.2f} {mx:>8.2f} {nv:>9.1f} {nv / p50 if p50 else 0:>6.0f}"
        )
    summary = {
        "p50": statistics.median(all_ms),
        "p95": _pct(all_ms, 0.95),
        "max": max(all_ms),
        "naive_p50": statistics.median(naive_all),
        "naive_p95": _pct(naive_all, 0.95),
        "naive_max": max(naive_all),
    }
    target = TARGETS[name]
    print(f"\n{name} summary over {len(all_ms)} timed searches ({len(mix)} queries):")
    print(f"{'':<10} {'service':>10} {'naive scan':>12} {'target':>10}")
    for k in ("p50", "p95", "max"):
        t = f"≤ {target[k]:g}" if k in target else "-"
        ok = "" if k not in target else ("  ok" if summary[k] <= target[k] else "  MISSED")
        print(f"{k:<10} {summary[k]:>8.2f}ms {summary['naive_' + k]:>10.1f}ms {t:>10}{ok}")
    return summary


def main(argv: list[str] | None = None) -> None:
    """Prepare the databases, run the mix on each, print the tables and the RESULT line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--naive-reps", type=int, default=1)
    args = ap.parse_args(argv)
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    results = {}
    for name in backends:
        print(f"preparing {name} …", file=sys.stderr)
        app = prepare_postgresql() if name == "postgresql" else prepare_sqlite()
        results[name] = run_backend(name, app, args.reps, args.naive_reps)
    parts = []
    met = True
    for name, s in results.items():
        short = "pg" if name == "postgresql" else "sqlite"
        parts += [
            f"{short}_p50_ms={s['p50']:.2f}",
            f"{short}_p95_ms={s['p95']:.2f}",
            f"{short}_max_ms={s['max']:.2f}",
            f"{short}_naive_p50_ms={s['naive_p50']:.1f}",
            f"{short}_naive_max_ms={s['naive_max']:.1f}",
        ]
        met = met and all(s[k] <= v for k, v in TARGETS[name].items())
    print("RESULT " + " ".join(parts) + f" targets_met={'yes' if met else 'no'}")


if __name__ == "__main__":
    main()
