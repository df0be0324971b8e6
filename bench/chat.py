"""Chat throughput and latency: `python -m bench.chat`.

One Chatdesk server process (by default the production command `gunicorn wsgi:app`, gevent;
`--server threading` for the threaded server; PostgreSQL database `bench_chat`, created and
seeded small on each run) and, as the baseline, a bare Flask-SocketIO echo server in the same
async mode without a database. The same 50 python-socketio clients
(WebSocket transport, threads of 5 participants) drive both:

1. max rate: every client sends in a closed loop (send, wait for the ack, send again);
   sustained messages/s = messages persisted (counted in the database) per second;
2. half rate: an open loop at half of the chat server's max rate, for latency.

Send-to-receive latency is measured from the send to each other participant's `message:new`.
Targets (issue 4): chat rate ≥ 50% of the echo rate; chat p95 ≤ 100 ms at half the max rate.

`--watched-words 500` (issue 13) sends support-chat sentences instead of bare ids, runs the
chat server a second time with 500 watched-word rules installed (words, phrases, regexes and
punctuated literals that the messages do not hit, so every message is scanned in full), and
times the matcher itself over the same messages: per-message cost beside the run without
rules (target: under 1 ms per message).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import requests
import socketio
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dashboard.config import normalize_database_url

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = normalize_database_url(
    os.environ.get("BENCH_PG_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
)
DB_NAME = "bench_chat"
ISSUER = "https://clerk.bench.test"
PARTY = "https://bench.test"

CHAT_SERVER = """
from dashboard import create_app
from dashboard.extensions import socketio
app = create_app({"RATELIMIT_ENABLED": False})
socketio.run(app, host="127.0.0.1", port=app.config["PORT"], allow_unsafe_werkzeug=True)
"""

ECHO_SERVER = """{patch}
import os
from flask import Flask, request
from flask_socketio import SocketIO, join_room, emit
app = Flask(__name__)
sio = SocketIO(app, async_mode="{mode}", logger=False, engineio_logger=False)

@sio.on("connect", namespace="/chat")
def connect(auth):
    join_room("thread:" + auth["room"])

@sio.on("message:send", namespace="/chat")
def send(data):
    msg = {"clientId": data["clientId"], "threadId": data["threadId"], "content": data["content"],
           "userId": data["userId"]}
    emit("message:new", msg, to="thread:" + data["threadId"])
    return {"ok": True, "message": msg}

sio.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), allow_unsafe_werkzeug=True)
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_url(name: str) -> str:
    return sa.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


def prepare_database(n_users: int, group: int) -> tuple[str, list[tuple[str, str]], list[str]]:
    """Create `bench_chat` afresh, migrate it, seed users and threads of `group` participants."""
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    url = pg_url(DB_NAME)

    from flask_migrate import upgrade

    from dashboard import create_app
    from dashboard.extensions import db
    from dashboard.models import Participant, Thread, User, new_id, utcnow

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    users: list[tuple[str, str]] = []
    thread_of: list[str] = []
    with app.app_context():
        upgrade()
        now = utcnow()
        for i in range(n_users):
            u = User(id=new_id(), username=f"bench{i}", email=f"bench{i}@bench.test")
            db.session.add(u)
            users.append((u.id, u.username))
        db.session.flush()
        for g in range(0, n_users, group):
            t = Thread(
                id=new_id(),
                title=f"Bench {g // group}",
                creator_id=users[g][0],
                created_at=now,
                updated_at=now,
                last_activity_at=now,
                meta={},
            )
            db.session.add(t)
            db.session.flush()
            for uid, _ in users[g : g + group]:
                db.session.add(Participant(thread_id=t.id, user_id=uid, joined_at=now))
                thread_of.append(t.id)
        db.session.commit()
        db.engine.dispose()
    return url, users, thread_of


def count_messages(url: str) -> int:
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM messages")).scalar_one()
    eng.dispose()
    return int(n)


SENTENCES = (
    "Hi, I was charged twice for order A-1042 and would like a refund of one payment.",
    "The app crashes on my Pixel 7 when I open the invoices page, since this morning's update.",
    "Thanks! Could you tell me when the parcel ships? The tracking link says label created.",
    "I can't log in with kim.jones9164@example.com, the reset email never arrives.",
    "Our team plan renews on Friday; please move us to Business before then.",
    "Sorry for the wait. I've escalated this to billing, you'll hear back within a day.",
    "ok",
    "Is there a way to export all our tickets as CSV for the audit next week?",
)


def bench_rules(n: int) -> list[dict[str, str]]:
    """`n` watched-word rules in a realistic mix that the bench's messages never hit:
    70% words, 15% phrases, 10% regexes (some with capitals, so IGNORECASE), 5% literals."""
    from dashboard.services.word_matcher import normalize

    stems = ("promo", "casino", "crypto", "loan", "pill", "bonus", "jackpot", "forex")
    rules = []
    for i in range(n):
        stem = stems[i % len(stems)]
        slot = i % 20
        if slot < 14:
            kind, pattern = "word", f"{stem}{i}x"
        elif slot < 17:
            kind, pattern = "phrase", f"free {stem} {i}"
        elif slot < 19:
            kind = "regex"
            pattern = rf"\b{stem}{i}\d{{3,}}" if slot == 17 else rf"[A-Z]{{2}}{stem}{i}\S+"
        else:
            kind, pattern = "phrase", f"{stem}-{i}!"
        norm = pattern if kind == "regex" else normalize(pattern)
        rules.append({"kind": kind, "pattern": pattern, "normalized": norm, "action": "block"})
    return rules


def install_rules(url: str, rules: list[dict[str, str]]) -> None:
    """Write the rules straight into `watched_words` (the server compiles them on start)."""
    from dashboard.models import new_id, utcnow

    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO watched_words (id, kind, pattern, normalized, action, created_at) "
                "VALUES (:id, :kind, :pattern, :normalized, :action, :created_at)"
            ),
            [{**r, "id": new_id(), "created_at": utcnow()} for r in rules],
        )
    eng.dispose()


def time_matcher(rules: list[dict[str, str]], texts: list[str]) -> float:
    """The matcher's cost in µs per message over `texts`, best of 5 passes."""
    from dashboard.services.word_matcher import Matcher, Rule

    m = Matcher.build(
        Rule(str(i), r["kind"], r["pattern"], r["action"]) for i, r in enumerate(rules)
    )
    assert not any(m.match(t) for t in texts), "a bench message hits a rule"
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for t in texts:
            m.match(t)
        best = min(best, (time.perf_counter() - t0) / len(texts))
    return best * 1e6


def start(argv: list[str], env: dict[str, str], port: int, ready_path: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env={**os.environ, **env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code < 500:
                return proc
        except requests.RequestException:  # not listening yet, or still booting its worker
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server on port {port} did not start")
        time.sleep(0.2)


class Fleet:
    """N socket clients; records send times and each other participant's receive time."""

    def __init__(
        self,
        url: str,
        users: list[tuple[str, str]],
        thread_of: list[str],
        auth: Callable[[int], dict[str, Any]],
        realistic: bool = False,
    ):
        self.url, self.users, self.thread_of = url, users, thread_of
        self.realistic = realistic
        self.contents: list[str] = []
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.acked = 0
        self.errors = 0
        self.lock = threading.Lock()
        self.recording = False
        self.clients: list[socketio.Client] = []
        for i in range(len(users)):
            c = socketio.Client(reconnection=False)
            c.on("message:new", self._receiver(users[i][0]), namespace="/chat")
            c.connect(
                url, namespaces=["/chat"], transports=["websocket"], auth=auth(i), wait_timeout=20
            )
            self.clients.append(c)

    def _receiver(self, me: str) -> Callable[[Any], None]:
        def on_message(msg: dict[str, Any]) -> None:
            now = time.perf_counter()
            if msg.get("userId") == me:
                return
            t0 = self.sent.get(msg.get("clientId") or "")
            if t0 is not None and self.recording:
                with self.lock:
                    self.latencies.append(now - t0)

        return on_message

    def _payload(self, i: int) -> dict[str, Any]:
        cid = uuid.uuid4().hex
        self.sent[cid] = time.perf_counter()
        content = f"bench {cid[:8]}"
        if self.realistic:
            content += " " + SENTENCES[int(cid[:4], 16) % len(SENTENCES)]
        if len(self.contents) < 5000:
            self.contents.append(content)
        return {
            "clientId": cid,
            "threadId": self.thread_of[i],
            "content": content,
            "userId": self.users[i][0],
        }

    def _on_ack(self, res: Any = None) -> None:
        with self.lock:
            if isinstance(res, dict) and res.get("ok"):
                self.acked += 1
            else:
                self.errors += 1

    def reset(self) -> None:
        with self.lock:
            self.latencies.clear()
            self.acked = 0
            self.errors = 0

    def closed_loop(self, seconds: float) -> None:
        stop = time.monotonic() + seconds

        def run(i: int) -> None:
            c = self.clients[i]
            while time.monotonic() < stop:
                try:
                    self._on_ack(
                        c.call("message:send", self._payload(i), namespace="/chat", timeout=30)
                    )
                except Exception:
                    self._on_ack(None)

        self._threads(run)

    def open_loop(self, seconds: float, rate: float) -> None:
        n = len(self.clients)
        interval = n / rate
        start = time.monotonic()
        stop = start + seconds

        def run(i: int) -> None:
            c = self.clients[i]
            nxt = start + interval * i / n
            while nxt < stop:
                delay = nxt - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                c.emit("message:send", self._payload(i), namespace="/chat", callback=self._on_ack)
                nxt += interval

        self._threads(run)
        time.sleep(1.0)  # let the last messages arrive

    def _threads(self, fn: Callable[[int], None]) -> None:
        ts = [threading.Thread(target=fn, args=(i,)) for i in range(len(self.clients))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    def close(self) -> None:
        for c in self.clients:
            with contextlib.suppress(Exception):  # the bench is ending anyway
                c.disconnect()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k] * 1000


def serving_pid(proc: subprocess.Popen) -> int:
    """The process that serves: gunicorn's worker (the master's child), else `proc` itself."""
    path = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    kids = path.read_text().split() if path.exists() else []
    return int(kids[0]) if kids else proc.pid


def cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    fleet: Fleet,
    seconds: float,
    rate: float | None,
    persisted: Callable[[], int] | None,
    pid: int,
) -> dict[str, float]:
    fleet.reset()
    fleet.recording = True
    before = persisted() if persisted else 0
    cpu0 = cpu_seconds(pid)
    t0 = time.monotonic()
    if rate is None:
        fleet.closed_loop(seconds)
    else:
        fleet.open_loop(seconds, rate)
    elapsed = time.monotonic() - t0
    fleet.recording = False
    stored = (persisted() - before) if persisted else fleet.acked
    cpu = cpu_seconds(pid) - cpu0
    return {
        "cpu_ms": cpu * 1000 / max(1, fleet.acked),
        "cpu_util": cpu / elapsed * 100,
        "rate": stored / (seconds if rate is not None else elapsed),
        "acked": fleet.acked,
        "errors": fleet.errors,
        "p50": pct(fleet.latencies, 50),
        "p95": pct(fleet.latencies, 95),
        "received": len(fleet.latencies),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--group", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument(
        "--server",
        choices=["production", "threading"],
        default="production",
        help="production: gunicorn wsgi:app (gevent) and a gevent echo; threading: python "
        "wsgi.py-style threads for both (the figures before gevent)",
    )
    ap.add_argument(
        "--watched-words",
        type=int,
        default=0,
        metavar="N",
        help="also run the chat server with N watched-word rules (500 for issue 13) and time "
        "the matcher per message beside the run without rules",
    )
    args = ap.parse_args()
    n_rules = args.watched_words
    gevent_mode = args.server == "production"
    mode = "gevent" if gevent_mode else "threading"
    chat_argv = (
        [sys.executable, "-m", "gunicorn", "wsgi:app"]
        if gevent_mode
        else [sys.executable, "-c", CHAT_SERVER]
    )
    echo_script = ECHO_SERVER.replace(
        "{patch}", "from gevent import monkey\nmonkey.patch_all()" if gevent_mode else ""
    ).replace("{mode}", mode)

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    url, users, thread_of = prepare_database(args.clients, args.group)

    def token(i: int) -> dict[str, Any]:
        now = int(time.time())
        uid, name = users[i]
        claims = {
            "sub": uid,
            "iss": ISSUER,
            "azp": PARTY,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 3600,
            "username": name,
            "email": f"{name}@bench.test",
        }
        return {"token": jwt.encode(claims, key, algorithm="RS256")}

    results: dict[str, dict[str, dict[str, float]]] = {}
    echo_port = free_port()
    contents: list[str] = []

    def run_chat(label: str) -> None:
        chat_port = free_port()
        chat = start(
            chat_argv,
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "CLERK_JWT_KEY": pem,
                "CLERK_ISSUER": ISSUER,
                "CLERK_AUTHORIZED_PARTIES": PARTY,
                "REDIS_URL": "",
                "LOG_LEVEL": "WARNING",
                "SEND_RATE_LIMIT": "1000000/minute",
                "HOST": "127.0.0.1",
            },
            chat_port,
            "/api/v1/openapi.json",
        )
        chat_pid = serving_pid(chat)
        try:
            fleet = Fleet(
                f"http://127.0.0.1:{chat_port}", users, thread_of, token, realistic=n_rules > 0
            )
            measure(fleet, 2.0, None, None, chat_pid)  # warm-up
            mx = measure(fleet, args.seconds, None, lambda: count_messages(url), chat_pid)
            half = measure(
                fleet, args.seconds, mx["rate"] / 2, lambda: count_messages(url), chat_pid
            )
            results[label] = {"max": mx, "half": half}
            contents.extend(fleet.contents[: 5000 - len(contents)])
            fleet.close()
        finally:
            chat.terminate()
            chat.wait(timeout=10)

    run_chat("chat")
    rules = bench_rules(n_rules) if n_rules else []
    if rules:
        install_rules(url, rules)
        run_chat("rules")

    echo = start(
        [sys.executable, "-c", echo_script], {}, echo_port, "/socket.io/?EIO=4&transport=polling"
    )
    try:
        fleet = Fleet(
            f"http://127.0.0.1:{echo_port}", users, thread_of, lambda i: {"room": thread_of[i]}
        )
        measure(fleet, 2.0, None, None, echo.pid)
        mx = measure(fleet, args.seconds, None, None, echo.pid)
        # Same offered load as the chat server's half rate, for a like-for-like latency.
        half = measure(fleet, args.seconds, results["chat"]["max"]["rate"] / 2, None, echo.pid)
        results["echo"] = {"max": mx, "half": half}
        fleet.close()
    finally:
        echo.terminate()
        echo.wait(timeout=10)

    c, e = results["chat"], results["echo"]
    ratio = c["max"]["rate"] / e["max"]["rate"] if e["max"]["rate"] else float("nan")
    rows = [
        ("max rate, messages/s (chat: persisted)", c["max"]["rate"], e["max"]["rate"], ""),
        ("  errors (failed acks)", c["max"]["errors"], e["max"]["errors"], ""),
        ("  server CPU ms per message at max", c["max"]["cpu_ms"], e["max"]["cpu_ms"], ""),
        ("  server CPU % at max (100 = one core)", c["max"]["cpu_util"], e["max"]["cpu_util"], ""),
        ("  latency p50 ms at max", c["max"]["p50"], e["max"]["p50"], ""),
        ("  latency p95 ms at max", c["max"]["p95"], e["max"]["p95"], ""),
        ("offered rate at half, messages/s", c["half"]["rate"], e["half"]["rate"], ""),
        ("  latency p50 ms at half", c["half"]["p50"], e["half"]["p50"], ""),
        ("  latency p95 ms at half", c["half"]["p95"], e["half"]["p95"], "target <= 100"),
        ("chat rate / echo rate", ratio * 100, 100.0, "target >= 50 %"),
    ]
    print(
        f"\nbench.chat: {args.clients} clients in threads of {args.group}, "
        f"{args.seconds:.0f} s per phase, async_mode {mode} "
        f"({' '.join(chat_argv[1:]) if gevent_mode else 'threads'}), PostgreSQL {DB_NAME}, "
        f"load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
    )
    print(f"{'figure':42} {'chatdesk':>12} {'echo baseline':>14}  note")
    for name, a, b, note in rows:
        print(f"{name:42} {a:12.1f} {b:14.1f}  {note}")
    ok_rate = ratio >= 0.5
    ok_p95 = c["half"]["p95"] <= 100
    extra = ""
    if rules:
        r = results["rules"]
        bare_us = time_matcher([], contents)
        rules_us = time_matcher(rules, contents)
        support = [f"bench 0f3a9c21 {text}" for text in SENTENCES]
        support_us = time_matcher(rules, support * 50)
        kinds = {k: sum(1 for x in rules if x["kind"] == k) for k in ("word", "phrase", "regex")}
        print(
            f"\nwatched words: {len(rules)} rules ({kinds['word']} words, {kinds['phrase']} "
            f"phrases incl. punctuated literals, {kinds['regex']} regexes), none hit"
        )
        print(f"{'figure':42} {'no rules':>12} {f'{len(rules)} rules':>14}  note")
        ww_rows = [
            ("max rate, messages/s (persisted)", c["max"]["rate"], r["max"]["rate"], ""),
            ("  server CPU ms per message at max", c["max"]["cpu_ms"], r["max"]["cpu_ms"], ""),
            ("  latency p95 ms at half", c["half"]["p95"], r["half"]["p95"], ""),
            (f"matcher µs per message ({len(contents)} sent)", bare_us, rules_us, "target < 1000"),
            ("matcher µs per support sentence", 0.0, support_us, "target < 1000"),
        ]
        for name, a, b, note in ww_rows:
            print(f"{name:42} {a:12.1f} {b:14.1f}  {note}")
        delta = r["max"]["cpu_ms"] - c["max"]["cpu_ms"]
        extra = (
            f" ww_rules={len(rules)} ww_match_us={rules_us:.1f} ww_bare_us={bare_us:.2f} "
            f"ww_cpu_ms_delta={delta:.2f} ww_rate={r['max']['rate']:.0f} "
            f"ww_target={'met' if rules_us < 1000 else 'missed'}"
        )
    print(
        f"RESULT chat_rate={c['max']['rate']:.0f} echo_rate={e['max']['rate']:.0f} "
        f"ratio={ratio:.2f} p50_half_ms={c['half']['p50']:.1f} "
        f"p95_half_ms={c['half']['p95']:.1f} rate_target={'met' if ok_rate else 'missed'} "
        f"p95_target={'met' if ok_p95 else 'missed'}{extra}"
    )


if __name__ == "__main__":
    main()
