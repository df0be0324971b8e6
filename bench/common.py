"""Helpers the benchmarks share: a PostgreSQL copy of the seeded template, timing, the table.

Each bench works on its own database, copied from the `chatdesk_bench` template (10k users,
100k threads, 1M messages) and never writes to the template. On a fresh machine with no
template the bench migrates an empty database and seeds it with `dashboard.services.seed.seed`.
"""

from __future__ import annotations

import logging
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from dashboard import create_app
from dashboard.config import normalize_database_url
from dashboard.extensions import db

PG_SERVER = os.environ.get("BENCH_PG_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
TEMPLATE = os.environ.get("BENCH_TEMPLATE") or "chatdesk_bench"
SEED_SIZES = {"users": 10_000, "threads": 100_000, "messages": 1_000_000}  # SIZES["1m"]
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def log(msg: str) -> None:
    """Progress on stderr, so stdout holds only the table and the RESULT line."""
    print(msg, file=sys.stderr, flush=True)


def _server_engine() -> sa.Engine:
    return sa.create_engine(normalize_database_url(PG_SERVER), isolation_level="AUTOCOMMIT")


def _exists(conn: sa.Connection, name: str) -> bool:
    return bool(
        conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    )


def database_url(name: str) -> str:
    """The URL of database `name` on the bench server."""
    url = sa.make_url(normalize_database_url(PG_SERVER)).set(database=name)
    return url.render_as_string(hide_password=False)


def ensure_database(name: str, *, fresh: bool = False) -> str:
    """A database `name` holding the seeded data: kept, copied from the template, or seeded.

    `fresh` drops an existing copy first (a bench that writes starts from the template again).
    """
    if not _NAME.match(name) or name == TEMPLATE:
        raise SystemExit(f"refusing to use database {name!r}")
    engine = _server_engine()
    try:
        with engine.connect() as conn:
            if fresh and _exists(conn, name):
                conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            if not _exists(conn, name):
                if _exists(conn, TEMPLATE):
                    log(f"creating {name} from the template {TEMPLATE} …")
                    conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
                else:
                    log(f"no template {TEMPLATE}: creating and seeding {name} (minutes) …")
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    url = database_url(name)
    _migrate_and_seed(url)
    return url


def _migrate_and_seed(url: str) -> None:
    from flask_migrate import upgrade

    from dashboard.services.seed import seed

    app = make_app(url)
    with app.app_context():
        upgrade()
        threads = db.session.scalar(sa.text("SELECT count(*) FROM threads"))
        if not threads:
            t0 = time.perf_counter()
            seed(**SEED_SIZES, progress=lambda stage, n: None)
            log(f"seeded in {time.perf_counter() - t0:.1f} s")
        db.session.remove()
        db.engine.dispose()


def make_app(url: str, **overrides: Any):  # type: ignore[no-untyped-def]
    """The real app on `url`, as production runs it (not TESTING), without rate limits."""
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-only-secret",
        "RATELIMIT_ENABLED": False,
        "REDIS_URL": None,
        **overrides,
    }
    return create_app(config)


def login(client: Any, username: str, password: str) -> None:
    """Log the test client in through the login form."""
    html = client.get("/login").get_data(as_text=True)
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    if not m:
        raise SystemExit("no CSRF token on /login")
    resp = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": m.group(1)}
    )
    if resp.status_code != 302:
        raise SystemExit(f"could not log in as {username}: HTTP {resp.status_code}")


def measure(fn: Callable[[], Any], *, iterations: int, warmup: int = 5) -> list[float]:
    """Milliseconds per call of `fn`, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0 to 100) of the samples."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def count_statements(fn: Callable[[], Any]) -> int:
    """How many SQL statements `fn` sends (needs an app context for db.engine)."""
    seen = []

    def on_execute(*_args: Any) -> None:
        seen.append(1)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    return len(seen)


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A plain aligned text table on stdout."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def result_line(**figures: Any) -> None:
    """The last line: `RESULT key=value …`."""
    print("RESULT " + " ".join(f"{k}={v}" for k, v in figures.items()))


# Building the template databases ----------------------------------------------------------------

SIZES = {
    "1m": {"users": 10_000, "threads": 100_000, "messages": 1_000_000},
    "10m": {"users": 50_000, "threads": 500_000, "messages": 10_000_000},
}


def build_template(name: str, sizes: dict[str, int], *, replace: bool = False) -> float:
    """Migrate and seed the PostgreSQL template `name`; returns the seed's wall-clock seconds.

    It is built as `<name>_building` and renamed when complete, so nobody copies half a template.
    `replace` drops an existing `name` first (FORCE: copies made from it are not touched).
    """
    building = f"{name}_building"
    if not _NAME.match(building):
        raise SystemExit(f"refusing to use database {name!r}")
    engine = _server_engine()
    try:
        with engine.connect() as conn:
            if _exists(conn, name) and not replace:
                raise SystemExit(f"{name} exists (use --replace)")
            if _exists(conn, building):
                conn.execute(sa.text(f'DROP DATABASE "{building}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{building}"'))
        seconds = _migrate_seed_vacuum(database_url(building), sizes)
        with engine.connect() as conn:
            if _exists(conn, name):
                conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
    finally:
        engine.dispose()
    return seconds


def build_sqlite(path: str, sizes: dict[str, int], *, replace: bool = False) -> float:
    """Migrate and seed a SQLite file (FTS5 kept by its triggers); returns the seed's seconds."""
    target = os.path.abspath(path)
    if os.path.exists(target) and not replace:
        raise SystemExit(f"{target} exists (use --replace)")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    building = target + ".building"
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(building + suffix):
            os.remove(building + suffix)
    seconds = _migrate_seed_vacuum(f"sqlite:///{building}", sizes)
    os.replace(building, target)
    return seconds


def _migrate_seed_vacuum(url: str, sizes: dict[str, int]) -> float:
    from flask_migrate import upgrade

    from dashboard.services.seed import seed

    app = make_app(url)
    with app.app_context():
        upgrade()
        done = {"n": 0, "at": time.perf_counter()}
        t0 = time.perf_counter()

        def progress(stage: str, n: int) -> None:
            if stage != "messages":
                return
            done["n"] += n
            if time.perf_counter() - done["at"] > 30:
                done["at"] = time.perf_counter()
                load = os.getloadavg()[0]
                log(f"  {done['n']:,} messages, {done['at'] - t0:.0f} s, load {load:.1f}")

        seed(**sizes, progress=progress)
        seconds = time.perf_counter() - t0
        log(f"seeded {sizes} in {seconds:.1f} s")
        db.session.remove()
        db.engine.dispose()
    if url.startswith("postgresql"):
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        engine.dispose()
    return seconds


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m bench.common --size 1m|10m [--sqlite PATH] [--name NAME] [--replace]`."""
    import argparse

    parser = argparse.ArgumentParser(description="Build a bench template database.")
    parser.add_argument("--size", choices=sorted(SIZES), default="1m")
    parser.add_argument("--name", default=None, help="PostgreSQL template name")
    parser.add_argument("--sqlite", default=None, help="build a SQLite file at this path instead")
    parser.add_argument("--replace", action="store_true")
    args = parser.parse_args(argv)
    logging.getLogger("dashboard.services.seed").setLevel(logging.INFO)  # index rebuild times
    sizes = SIZES[args.size]
    t0 = time.perf_counter()
    if args.sqlite:
        seconds = build_sqlite(args.sqlite, sizes, replace=args.replace)
        where = args.sqlite
    else:
        where = args.name or ("chatdesk_bench" if args.size == "1m" else "chatdesk_bench_10m")
        seconds = build_template(where, sizes, replace=args.replace)
    load = os.getloadavg()
    result_line(
        target=where,
        seed_s=f"{seconds:.1f}",
        total_s=f"{time.perf_counter() - t0:.1f}",
        load=f"{load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}",
    )


if __name__ == "__main__":
    main()
