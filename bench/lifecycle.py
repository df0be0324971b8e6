"""Erasure and retention on the 1M-message PostgreSQL copy: `python -m bench.lifecycle`.

On a fresh copy of the bench template: erase the most prolific user, then archive 10 % of
the threads 400 days ago and run retention over them. Each job runs as the CLI does, in its
own process (`flask --app wsgi chatdesk erase-user` / `retention`), while this process keeps
fetching the dashboard's thread list (the page `bench.dashboard` times) as the demo
moderator. The table shows how long each job took, and the thread list's p95 while it ran
beside its idle p95 measured just before, in the same run. Target: within 2x of idle.
The copy is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.services.seed import DEMO_PASSWORD

from .common import (
    _server_engine,
    ensure_database,
    log,
    login,
    make_app,
    measure,
    pct,
    print_table,
    result_line,
)

DATABASE = "bench_lifecycle"
RATIO_TARGET = 2.0
ROOT = Path(__file__).resolve().parent.parent
ARCHIVE_SQL = sa.text(
    "UPDATE threads SET is_archived = true, archived_at = now() - interval '400 days' "
    "WHERE id IN (SELECT id FROM threads ORDER BY md5(id) LIMIT :n)"
)


def _cli(*args: str) -> list[str]:
    """The CLI command line, run with this interpreter from the project root."""
    return [sys.executable, "-m", "flask", "--app", "wsgi", "chatdesk", *args]


def _run_while_timing(
    cmd: list[str], env: dict[str, str], fetch: Any
) -> tuple[float, list[float], str]:
    """Run `cmd` in its own process; time `fetch` over and over until it ends."""
    samples: list[float] = []
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    while proc.poll() is None:
        s0 = time.perf_counter()
        fetch()
        samples.append((time.perf_counter() - s0) * 1000)
    elapsed = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[3:])} failed:\n{out}")
    return elapsed, samples, out.strip()


def main() -> None:
    """Run the benchmark, print the table and the RESULT line, drop the copy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200, help="idle thread-list fetches")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--keep", action="store_true", help="keep the copy afterwards")
    args = parser.parse_args()

    url = ensure_database(args.database, fresh=True)
    upload_dir = str(ROOT / "bench" / ".cache" / "lifecycle-uploads")
    try:
        rows, figures = _bench(url, upload_dir, args.iterations)
    finally:
        if not args.keep:
            engine = _server_engine()
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
            engine.dispose()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Erasure and retention on PostgreSQL (copy of the 1M-message template); thread list "
        f"p95 while each runs vs idle, target <= {RATIO_TARGET:.0f}x; load average {load} "
        f"on {os.cpu_count()} CPUs"
    )
    print_table(
        [
            "job",
            "rows",
            "job s",
            "list p50 idle",
            "list p95 idle (baseline)",
            "list p95 during",
            "ratio",
            "<= 2x",
        ],
        rows,
    )
    result_line(**figures)


def _bench(url: str, upload_dir: str, iterations: int) -> tuple[list[list[Any]], dict[str, Any]]:
    app = make_app(url, UPLOAD_DIR=upload_dir)
    client = app.test_client()
    login(client, "moderator", DEMO_PASSWORD)

    def thread_list() -> None:
        resp = client.get("/dashboard/threads")
        if resp.status_code != 200:
            raise SystemExit(f"thread list: HTTP {resp.status_code}")

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only-secret",
        "UPLOAD_DIR": upload_dir,
        "REDIS_URL": "",
        "RETENTION_ARCHIVED_DAYS": "365",
    }
    with app.app_context():
        user_id, user_messages = db.session.execute(
            sa.text(
                "SELECT user_id, count(*) FROM messages GROUP BY user_id "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
        threads_total = db.session.scalar(sa.text("SELECT count(*) FROM threads"))
        db.session.remove()
    log(f"most prolific user {user_id}: {user_messages} messages; {threads_total} threads")

    rows: list[list[Any]] = []
    figures: dict[str, Any] = {}

    def job(key: str, label: str, count: str, cmd: list[str]) -> None:
        log(f"idle thread list, {iterations} fetches …")
        idle = measure(thread_list, iterations=iterations)
        log(f"{label} while fetching the thread list …")
        elapsed, during, out = _run_while_timing(cmd, env, thread_list)
        log(out)
        p95_idle, p95_during = pct(idle, 95), pct(during, 95)
        ratio = p95_during / p95_idle
        rows.append(
            [
                label,
                count,
                f"{elapsed:.1f}",
                f"{pct(idle, 50):.1f} ms",
                f"{p95_idle:.1f} ms",
                f"{p95_during:.1f} ms ({len(during)} fetches)",
                f"{ratio:.2f}x",
                "yes" if ratio <= RATIO_TARGET else "NO",
            ]
        )
        figures[f"{key}_s"] = f"{elapsed:.1f}"
        figures[f"{key}_list_p95_idle_ms"] = f"{p95_idle:.1f}"
        figures[f"{key}_list_p95_during_ms"] = f"{p95_during:.1f}"
        figures[f"{key}_ratio"] = f"{ratio:.2f}"

    job(
        "erase",
        "erase the most prolific user",
        f"{user_messages} messages",
        _cli("erase-user", user_id, "--reason", "bench"),
    )

    n = max(1, threads_total // 10)
    with app.app_context():
        db.session.execute(ARCHIVE_SQL, {"n": n})
        purge_messages = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM messages m JOIN threads t ON t.id = m.thread_id "
                "WHERE t.archived_at < now() - interval '365 days'"
            )
        )
        db.session.commit()
        db.session.execute(sa.text("ANALYZE threads"))
        db.session.commit()
        db.session.remove()
    log(f"archived {n} threads ({purge_messages} messages) 400 days ago")
    job(
        "retention",
        "retention over 10 % of threads",
        f"{n} threads / {purge_messages} messages",
        _cli("retention"),
    )
    with app.app_context():
        left = db.session.scalar(
            sa.text("SELECT count(*) FROM threads WHERE archived_at < now() - interval '365 days'")
        )
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    if left:
        raise SystemExit(f"retention left {left} expired threads")
    return rows, figures


if __name__ == "__main__":
    main()
