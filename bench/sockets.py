"""Sockets per process: `python -m bench.sockets [--ladder 100,1000,5000,…] [--quick]`.

One server process, started with the production command (`gunicorn wsgi:app`: gevent), and,
as the baseline in the same run, the previous command (`gunicorn --workers 1 --threads 100`).
For each N of the ladder, N `/chat` WebSocket clients connect from several client processes
(bench/socket_clients.py, gevent), then the bench prints: how many connected, connect p95,
the server worker's RSS and threads, server CPU per connect, `GET /api/v1/me` p95 while they
are all connected, and the time for one message to reach every member of a 1,000-member thread
(or all N when fewer), p50/p95 over several sends. The ladder climbs while the server holds
(everyone connected, HTTP answering). PostgreSQL database `bench_sockets`, created afresh.

Targets (issue 8): 5,000 sockets in one process, RSS < 1.5 GiB, HTTP p95 < 100 ms while they
are connected, fan-out to 1,000 members p95 < 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from .common import log, pct
from .servers import PRODUCTION, THREADS, ClientProcs, Server, Tokens, loadavg, prepare_database

DB_NAME = "bench_sockets"
MEMBERS = 1000
HTTP_SAMPLES = 40
SENDS = 6


def http_p95(url: str, token: str) -> tuple[float | None, int]:
    """p95 ms of `GET /api/v1/me`, and how many calls failed (no answer within 5 s)."""
    times, failed = [], 0
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    for _ in range(HTTP_SAMPLES):
        t0 = time.perf_counter()
        try:
            ok = s.get(url + "/api/v1/me", timeout=5).status_code == 200
        except requests.RequestException:
            ok = False
        if ok:
            times.append((time.perf_counter() - t0) * 1000)
        else:
            failed += 1
            if failed >= 3 and not times:
                break  # not answering at all: do not wait 5 s forty times
        time.sleep(0.05)
    return (pct(times, 95) if times else None), failed


def fan_out(clients: ClientProcs, sender: str, thread_id: str, expected: int) -> list[float]:
    """Seconds from each send until every connected member has the message."""
    spans = []
    for k in range(SENDS):
        content = f"fan-out {k} {time.monotonic()}"
        sent = clients.ask(
            0, {"op": "send", "userId": sender, "threadId": thread_id, "content": content}
        )
        if not sent["ok"]:
            continue
        deadline = time.monotonic() + 15
        while True:
            times = [
                t
                for r in clients.all([{"op": "arrivals", "content": content}] * len(clients.procs))
                for t in r["times"]
            ]
            if len(times) >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if len(times) >= expected:
            spans.append(max(times) - sent["t0"])
        time.sleep(0.3)
    return spans


def rung(
    server: Server, procs: int, users: list[str], tokens: list[str], thread_id: str, n: int
) -> dict[str, Any]:
    """Connect n clients, measure, disconnect them."""
    clients = ClientProcs(server.url, procs)
    try:
        share = [[[users[i], tokens[i]] for i in range(p, n, procs)] for p in range(procs)]
        cpu0, t0 = server.cpu_s(), time.monotonic()
        answers = clients.all(
            [{"op": "connect", "users": s, "concurrency": 25, "timeout": 30} for s in share]
        )
        connect_s = time.monotonic() - t0
        cpu = server.cpu_s() - cpu0
        connected = sum(a["connected"] for a in answers)
        lat = [x for a in answers for x in a["latencies"]]
        failures: dict[str, int] = {}
        for a in answers:
            for k, v in a["failures"].items():
                failures[k] = failures.get(k, 0) + v
        time.sleep(1)
        rss, threads = server.rss_mib(), server.threads()
        http, http_failed = http_p95(server.url, tokens[0])
        # Members of the big thread among the connected clients (users[0] sends: it is one).
        members = set(users[:MEMBERS])
        expected = sum(1 for a in answers for uid in a["ids"] if uid in members)
        sender_on = users[0] in answers[0]["ids"]
        spans = fan_out(clients, users[0], thread_id, expected) if sender_on else []
        return {
            "n": n,
            "connected": connected,
            "failures": failures,
            "connect_p95": pct(lat, 95) if lat else None,
            "connect_s": connect_s,
            "cpu_ms": cpu * 1000 / max(1, connected),
            "rss": rss,
            "threads": threads,
            "http_p95": http,
            "http_failed": http_failed,
            "fan_p50": statistics.median(spans) * 1000 if spans else None,
            "fan_p95": pct([s * 1000 for s in spans], 95) if spans else None,
            "fan_n": len(spans),
            "members": expected,
            "load": loadavg(),
        }
    finally:
        clients.close()
        time.sleep(2)


def ladder(
    name: str,
    command: list[str],
    env: dict[str, str],
    steps: list[int],
    procs: int,
    users: list[str],
    tokens: list[str],
    thread_id: str,
    logs: Path,
) -> list[dict[str, Any]]:
    """Climb the ladder while the server holds."""
    server = Server(command, env, logs / f"{name}.log")
    out = []
    try:
        for n in steps:
            log(f"{name}: {n} sockets … (load {loadavg()})")
            r = rung(server, procs, users, tokens, thread_id, n)
            r["server"] = name
            out.append(r)
            log(f"  {r}")
            # Holds: (nearly) everyone connected and HTTP answering meanwhile.
            holds = (
                r["connected"] >= 0.99 * n and r["http_p95"] is not None and not r["http_failed"]
            )
            if not holds or server.proc.poll() is not None:
                break
    finally:
        server.stop()
    return out


def fmt(v: Any, spec: str = ".0f") -> str:
    return "-" if v is None else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ladder", default="100,1000,5000,7500,10000")
    ap.add_argument("--baseline-ladder", default="100,1000")
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--quick", action="store_true", help="ladder 50,200 for a smoke run")
    args = ap.parse_args()
    steps = [50, 200] if args.quick else [int(x) for x in args.ladder.split(",")]
    base_steps = [50, 200] if args.quick else [int(x) for x in args.baseline_ladder.split(",")]

    top = max(steps + base_steps)
    log(f"preparing {DB_NAME}: {top} users, one thread of {MEMBERS} …")
    url, users, (thread_id,) = prepare_database(DB_NAME, top, [min(MEMBERS, top)])
    keys = Tokens()
    tokens = [keys.token(i, u) for i, u in enumerate(users)]
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
        "SEND_RATE_LIMIT": "1000000/minute",
        "MAX_SOCKETS": str(top + 100),
        **keys.env(),
    }
    logs = Path(tempfile.mkdtemp(prefix="bench-sockets-"))
    rows = ladder("gevent", PRODUCTION, env, steps, args.procs, users, tokens, thread_id, logs)
    rows += ladder("threads", THREADS, env, base_steps, args.procs, users, tokens, thread_id, logs)

    print(
        f"\nbench.sockets: one server process per command; client processes: {args.procs}; "
        f"server logs in {logs}"
    )
    print("gevent  = gunicorn wsgi:app (production: gevent worker)")
    print("threads = gunicorn --workers 1 --threads 100 wsgi:app (the previous command)\n")
    head = (
        "server",
        "N",
        "connected",
        "connect p95 ms",
        "CPU ms/connect",
        "RSS MiB",
        "threads",
        "GET /me p95 ms",
        "fan-out members",
        "fan-out p50 ms",
        "fan-out p95 ms",
        "load avg",
    )
    table = [
        (
            r["server"],
            r["n"],
            r["connected"],
            fmt(r["connect_p95"]),
            fmt(r["cpu_ms"], ".1f"),
            fmt(r["rss"]),
            r["threads"],
            fmt(r["http_p95"], ".1f") if not r["http_failed"] else f"{r['http_failed']} unanswered",
            r["members"],
            fmt(r["fan_p50"]),
            fmt(r["fan_p95"]),
            r["load"],
        )
        for r in rows
    ]
    from .common import print_table

    print_table(head, table)
    g = [r for r in rows if r["server"] == "gevent"]
    t = [r for r in rows if r["server"] == "threads"]
    held = max((r["connected"] for r in g if r["http_failed"] == 0), default=0)
    at5k = next((r for r in g if r["n"] == 5000), None)
    ok = bool(
        at5k
        and at5k["connected"] == 5000
        and at5k["rss"] < 1536
        and at5k["http_p95"] is not None
        and at5k["http_p95"] < 100
        and at5k["fan_p95"] is not None
        and at5k["fan_p95"] < 1000
    )
    print(
        f"RESULT gevent_max_held={held} threads_max_held="
        f"{max((r['connected'] for r in t), default=0)} "
        f"rss_5k_mib={fmt(at5k and at5k['rss'])} "
        f"http_p95_5k_ms={fmt(at5k and at5k['http_p95'], '.1f')} "
        f"fanout_p95_5k_ms={fmt(at5k and at5k['fan_p95'])} target={'met' if ok else 'missed'}"
    )


if __name__ == "__main__":
    main()
