"""Dashboard server time on PostgreSQL, 100k threads and 1M messages: `python -m bench.dashboard`.

In process (Flask test client, logged in as the demo moderator), many iterations per page:
the thread list's first page, the list 50 pages deep (reached by following the keyset cursor
50 times), the thread view's first page of the largest thread, and the overview. Beside them,
measured in the same run, the baseline: the same deep page fetched with an OFFSET query (and a
much deeper one, where OFFSET's cost shows). Target: p95 ≤ 50 ms for each page.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.services.seed import DEMO_PASSWORD
from dashboard.views.dashboard import threads as threads_view

from .common import (
    count_statements,
    ensure_database,
    log,
    login,
    make_app,
    measure,
    pct,
    print_table,
    result_line,
)

DATABASE = "bench_dash"
TARGET_MS = 50.0
DEEP = 50  # pages
VERY_DEEP = 1000  # pages, for the OFFSET comparison only

# The baseline: what an OFFSET-paginated list would run for the same page (bench only).
OFFSET_SQL = sa.text(
    "SELECT id, title, message_count, last_activity_at, is_archived FROM threads "
    "WHERE is_archived = false ORDER BY last_activity_at DESC, id DESC LIMIT :limit OFFSET :offset"
)
KEYSET_SQL = sa.text(
    "SELECT id, title, message_count, last_activity_at, is_archived FROM threads "
    "WHERE is_archived = false AND (last_activity_at, id) < (:at, :id) "
    "ORDER BY last_activity_at DESC, id DESC LIMIT :limit"
)
HX = {"HX-Request": "true"}


def _more_url(html: str) -> str:
    m = re.search(r'id="load-more".*?hx-get="([^"]+)"', html, re.S)
    if not m:
        raise SystemExit("no 'Load more' row: is the database seeded?")
    return m.group(1).replace("&amp;", "&")


def _ok(resp: Any) -> Any:
    if resp.status_code != 200:
        raise SystemExit(f"HTTP {resp.status_code} for {resp.request.path}")
    return resp


def main() -> None:
    """Run the benchmark and print the table and the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    n = args.iterations
    page_size = threads_view.PAGE_SIZE

    url = ensure_database(args.database)
    app = make_app(url)
    client = app.test_client()
    login(client, "moderator", DEMO_PASSWORD)

    with app.app_context():
        counts = db.session.execute(
            sa.text("SELECT count(*), coalesce(sum(message_count), 0) FROM threads")
        ).one()
        big_id, big_count = db.session.execute(
            sa.text("SELECT id, message_count FROM threads ORDER BY message_count DESC LIMIT 1")
        ).one()
        busy_user = db.session.execute(
            sa.text(
                "SELECT u.username FROM participants p JOIN users u ON u.id = p.user_id "
                "GROUP BY u.username ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar()
    log(f"{counts[0]} threads, {counts[1]} messages; largest thread {big_count} messages")

    # Follow the keyset cursor DEEP times, as "Load more" would.
    log(f"following the cursor {DEEP} pages deep …")
    next_url = _more_url(_ok(client.get("/dashboard/threads")).get_data(as_text=True))
    for _ in range(DEEP - 1):
        next_url = _more_url(_ok(client.get(next_url, headers=HX)).get_data(as_text=True))
    deep_url = next_url  # page DEEP + 1: after DEEP pages of page_size rows
    deep_html = _ok(client.get(deep_url, headers=HX)).get_data(as_text=True)
    deep_ids = re.findall(r'<tr id="t-([^"]+)"', deep_html)

    with app.app_context():
        offset_ids = [
            r.id
            for r in db.session.execute(
                OFFSET_SQL, {"limit": page_size, "offset": DEEP * page_size}
            )
        ]
        row = db.session.execute(
            OFFSET_SQL, {"limit": 1, "offset": VERY_DEEP * page_size - 1}
        ).one()
        very_deep_at, very_deep_id = row.last_activity_at, row.id
        db.session.remove()
    same_rows = deep_ids == offset_ids
    log(f"deep page via keyset == via OFFSET: {same_rows}")

    pages = {
        "thread list, first page": lambda: _ok(client.get("/dashboard/threads")),
        f"thread list, {DEEP} pages deep (keyset)": lambda: _ok(client.get(deep_url, headers=HX)),
        "thread view, first page": lambda: _ok(client.get(f"/dashboard/threads/{big_id}")),
        "overview": lambda: _ok(client.get("/dashboard/")),
        # Not in the target: filtered lists, for information.
        "thread list filtered by title text (info)": lambda: _ok(
            client.get("/dashboard/threads?q=refund")
        ),
        "thread list filtered by participant (info)": lambda: _ok(
            client.get(f"/dashboard/threads?participant={busy_user}")
        ),
    }
    rows = []
    figures: dict[str, Any] = {}
    keys = ["list_first", "list_deep", "thread_view", "overview", "list_title", "list_participant"]
    for (label, fn), key in zip(pages.items(), keys, strict=True):
        log(f"timing {label} …")
        with app.app_context():
            queries = count_statements(fn)
        samples = measure(fn, iterations=n)
        p50, p95 = pct(samples, 50), pct(samples, 95)
        rows.append(
            [label, f"{p50:.1f}", f"{p95:.1f}", queries, "yes" if p95 <= TARGET_MS else "NO"]
        )
        figures[f"{key}_p95_ms"] = f"{p95:.1f}"

    # Baseline (same run): the same deep page's rows by OFFSET, and the keyset query beside it.
    with app.app_context():
        conn_exec = db.session.execute
        row = db.session.execute(OFFSET_SQL, {"limit": 1, "offset": DEEP * page_size - 1}).one()
        at, last_id = row.last_activity_at, row.id
        sql_rows = [
            (
                f"SQL only: page {DEEP + 1} by OFFSET {DEEP * page_size} (baseline)",
                lambda: conn_exec(
                    OFFSET_SQL, {"limit": page_size, "offset": DEEP * page_size}
                ).all(),
                "offset_deep",
            ),
            (
                f"SQL only: page {DEEP + 1} by keyset",
                lambda: conn_exec(KEYSET_SQL, {"limit": page_size, "at": at, "id": last_id}).all(),
                "keyset_deep",
            ),
            (
                f"SQL only: page {VERY_DEEP + 1} by OFFSET {VERY_DEEP * page_size} (baseline)",
                lambda: conn_exec(
                    OFFSET_SQL, {"limit": page_size, "offset": VERY_DEEP * page_size}
                ).all(),
                "offset_very_deep",
            ),
            (
                f"SQL only: page {VERY_DEEP + 1} by keyset",
                lambda: conn_exec(
                    KEYSET_SQL, {"limit": page_size, "at": very_deep_at, "id": very_deep_id}
                ).all(),
                "keyset_very_deep",
            ),
        ]
        for label, fn, key in sql_rows:
            log(f"timing {label} …")
            samples = measure(fn, iterations=n)
            p50, p95 = pct(samples, 50), pct(samples, 95)
            rows.append([label, f"{p50:.1f}", f"{p95:.1f}", 1, "-"])
            figures[f"{key}_p95_ms"] = f"{p95:.1f}"
        db.session.remove()

    log("streaming the JSON export of the largest thread …")
    export_figures = _export_memory(client, big_id)
    figures["export_peak_mib"] = f"{export_figures['peak_mib']:.1f}"

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Dashboard server time, PostgreSQL, {counts[0]} threads / {counts[1]} messages, "
        f"{n} iterations each, page size {page_size}, target p95 <= {TARGET_MS:.0f} ms, "
        f"load average {load} on {os.cpu_count()} CPUs"
    )
    print_table(["what", "p50 ms", "p95 ms", "SQL statements", "p95 <= 50 ms"], rows)
    print(f"deep page rows identical by keyset and by OFFSET: {'yes' if same_rows else 'NO'}")
    print(
        f"export of the largest thread ({big_count} messages) as JSON, streamed: "
        f"{export_figures['seconds']:.1f} s, {export_figures['mib']:.1f} MiB written, "
        f"peak Python memory {export_figures['peak_mib']:.1f} MiB"
    )
    met = all(
        float(figures[f"{k}_p95_ms"]) <= TARGET_MS
        for k in ("list_first", "list_deep", "thread_view", "overview")
    )
    result_line(
        **figures, target_met="yes" if met else "no", same_rows="yes" if same_rows else "no"
    )


def _export_memory(client: Any, thread_id: str) -> dict[str, float]:
    """Stream a thread's JSON export through the app and track Python's peak memory."""
    import time
    import tracemalloc

    html = _ok(client.get(f"/dashboard/threads/{thread_id}")).get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)

    def stream() -> int:
        resp = client.post(
            f"/dashboard/threads/{thread_id}/export",
            data={"csrf_token": token, "format": "json"},
            buffered=False,
        )
        written = sum(len(chunk) for chunk in resp.response)
        resp.close()
        return written

    t0 = time.perf_counter()
    written = stream()
    seconds = time.perf_counter() - t0
    # Again under tracemalloc (slower): the peak stays near one batch, not the whole thread.
    tracemalloc.start()
    stream()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": seconds, "mib": written / 2**20, "peak_mib": peak / 2**20}


if __name__ == "__main__":
    main()
