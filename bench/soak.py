"""Soak: `python -m bench.soak [--minutes 10] [--sockets 1000]`.

One server process started with the production command (`gunicorn wsgi:app`), N `/chat`
sockets from several client processes (bench/socket_clients.py) in threads of 5, and mixed
traffic for the whole run: message sends (each read back with a read receipt), typing,
`sync` calls, and a reconnect every few seconds per client process. The server worker's RSS is
sampled every 10 s; growth is measured from the end of the warm-up (the first 20 % of the run,
at least one minute when the run is long enough) to the end.

Targets (issue 8): RSS growth after warm-up < 10 %, 0 errors (failed acks, dropped sockets,
failed reconnects, tracebacks in the server log).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from .common import log, print_table
from .servers import PRODUCTION, ClientProcs, Server, Tokens, loadavg, prepare_database

DB_NAME = "bench_soak"
GROUP = 5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--sockets", type=int, default=1000)
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--rate", type=float, default=10.0, help="actions per second, in all")
    args = ap.parse_args()
    seconds = args.minutes * 60
    warmup = max(min(60.0, seconds / 2), seconds * 0.2)

    n = args.sockets
    log(f"preparing {DB_NAME}: {n} users in threads of {GROUP} …")
    url, users, thread_ids = prepare_database(DB_NAME, n, [], chunk=GROUP)
    keys = Tokens()
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
        "MAX_SOCKETS": str(n + 100),
        **keys.env(),
    }
    logs = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    server = Server(PRODUCTION, env, logs / "server.log")
    clients = ClientProcs(server.url, args.procs)
    samples: list[tuple[float, float, int]] = []
    try:
        shares = [
            [
                [users[i], keys.token(i, users[i]), [thread_ids[i // GROUP]]]
                for i in range(p, n, args.procs)
            ]
            for p in range(args.procs)
        ]
        answers = clients.all(
            [{"op": "connect", "users": s, "concurrency": 20, "timeout": 60} for s in shares]
        )
        connected = sum(a["connected"] for a in answers)
        log(f"connected {connected}/{n} (load {loadavg()})")
        clients.all(
            [{"op": "mixed", "rate": args.rate / args.procs, "reconnect_every": 3.0}] * args.procs
        )
        t0, cpu0 = time.monotonic(), server.cpu_s()
        while (now := time.monotonic() - t0) < seconds:
            samples.append((now, server.rss_mib(), server.threads()))
            log(f"  {now:5.0f} s  RSS {samples[-1][1]:.0f} MiB  load {loadavg()}")
            time.sleep(min(10.0, max(0.0, seconds - now)))
        samples.append((time.monotonic() - t0, server.rss_mib(), server.threads()))
        stats = clients.all([{"op": "stats"}] * args.procs)
        cpu_pct = (server.cpu_s() - cpu0) / (time.monotonic() - t0) * 100
    finally:
        clients.close()
        server.stop()

    errors: dict[str, int] = {}
    events: dict[str, int] = {}
    for st in stats:
        for k, v in st["errors"].items():
            errors[k] = errors.get(k, 0) + v
        for k, v in st["events"].items():
            events[k] = events.get(k, 0) + v
    dropped = sum(st["dropped"] for st in stats)
    tracebacks = (logs / "server.log").read_text(errors="replace").count("Traceback")
    after_warmup = next(r for t, r, _ in samples if t >= warmup)
    final = samples[-1][1]
    growth = (final - after_warmup) / after_warmup * 100
    total_errors = sum(errors.values()) + dropped + tracebacks + (n - connected)

    print(
        f"\nbench.soak: {n} sockets, {args.minutes:g} min, {args.rate:g} actions/s "
        f"(sends + read receipts, typing, sync) and a reconnect every 3 s per client process; "
        f"server log {logs / 'server.log'}"
    )
    rows = [(f"{t:.0f}", f"{r:.0f}", th) for t, r, th in samples[:: max(1, len(samples) // 12)]]
    rows.append((f"{samples[-1][0]:.0f}", f"{final:.0f}", samples[-1][2]))
    print_table(("seconds", "server RSS MiB", "threads"), rows)
    print()
    print_table(
        ("figure", "value", "target"),
        [
            ("sockets connected", f"{connected}/{n}", "all"),
            ("acked actions", events.get("acked", 0), ""),
            ("message:new received", events.get("message:new", 0), ""),
            ("typing received", events.get("typing", 0), ""),
            ("reconnects", events.get("reconnected", 0), ""),
            (f"RSS after warm-up ({warmup:.0f} s), MiB", f"{after_warmup:.0f}", ""),
            ("RSS at the end, MiB", f"{final:.0f}", ""),
            ("RSS growth after warm-up", f"{growth:.1f} %", "< 10 %"),
            ("errors (acks, drops, reconnects, tracebacks)", total_errors, "0"),
            ("  by kind", errors or "-", ""),
            ("server CPU % (100 = one core)", f"{cpu_pct:.0f}", ""),
            ("load average at the end", loadavg(), ""),
        ],
    )
    ok = growth < 10 and total_errors == 0
    print(
        f"RESULT minutes={args.minutes:g} sockets={connected} rss_growth_pct={growth:.1f} "
        f"errors={total_errors} target={'met' if ok else 'missed'}"
    )


if __name__ == "__main__":
    main()
