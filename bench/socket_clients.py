"""A client process for bench.sockets and bench.soak: many /chat WebSockets on gevent.

Run by the benches (`python -m bench.socket_clients`), never by hand. It speaks just enough
Engine.IO 4 / Socket.IO 5 over one WebSocket per client (open, namespace connect with a token,
ping/pong, events, acks), so one process holds thousands of clients cheaply. Commands arrive as
JSON lines on stdin; each answer is one JSON line on stdout.
"""

from gevent import monkey

monkey.patch_all()  # first: the clients below are greenlets

import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import defaultdict  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import gevent.pool  # noqa: E402
import websocket  # noqa: E402
from gevent.fileobject import FileObjectThread  # noqa: E402

NS = "/chat"


class Client:
    """One /chat socket: records `message:new` arrivals; can emit events with acks."""

    def __init__(self, base: str, user_id: str, token: str, fleet: "Fleet"):
        self.base, self.user_id, self.token, self.fleet = base, user_id, token, fleet
        self.ws: websocket.WebSocket | None = None
        self.acks: dict[int, gevent.event.AsyncResult] = {}
        self.ids = itertools.count(1)
        self.reader: gevent.Greenlet | None = None
        self.threads: list[str] = []
        self.closing = False

    def connect(self, timeout: float) -> None:
        url = self.base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        ws = websocket.create_connection(url, timeout=timeout, enable_multithread=True)
        opened = ws.recv()
        if not opened.startswith("0"):
            raise ConnectionError(f"no Engine.IO open packet: {opened[:80]}")
        ws.send(f"40{NS}," + json.dumps({"token": self.token}))
        answer = ws.recv()
        while answer == "2" or answer.startswith(f"42{NS},"):  # pings, early room events
            if answer == "2":
                ws.send("3")
            answer = ws.recv()
        if not answer.startswith(f"40{NS},"):
            ws.close()
            raise ConnectionError(f"refused: {answer[:120]}")
        ws.settimeout(None)
        self.closing = False
        self.ws = ws
        self.reader = gevent.spawn(self._read)

    def _read(self) -> None:
        ws = self.ws
        assert ws is not None
        prefix_event, prefix_ack = f"42{NS},", f"43{NS},"
        while True:
            try:
                msg = ws.recv()
            except Exception:
                if not (self.fleet.closing or self.closing):
                    self.fleet.dropped += 1
                return
            if msg == "2":
                ws.send("3")
            elif msg.startswith(prefix_event):
                name, *args = json.loads(msg[len(prefix_event) :])
                self.fleet.on_event(self, name, args[0] if args else None)
            elif msg.startswith(prefix_ack):
                rest = msg[len(prefix_ack) :]
                i = 0
                while rest[i].isdigit():
                    i += 1
                pending = self.acks.pop(int(rest[:i]), None)
                if pending is not None:
                    pending.set(json.loads(rest[i:])[0])
            elif msg.startswith("1") or msg.startswith(f"41{NS}"):
                return

    def call(self, event: str, data: Any, timeout: float = 20) -> Any:
        assert self.ws is not None
        n = next(self.ids)
        result: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self.acks[n] = result
        self.ws.send(f"42{NS},{n}" + json.dumps([event, data]))
        return result.get(timeout=timeout)

    def close(self) -> None:
        self.closing = True
        for pending in self.acks.values():  # our own close: not an error of the server's
            pending.set({"ok": False, "error": {"code": "client_closed"}})
        self.acks.clear()
        if self.ws is not None:
            try:
                self.ws.send(f"41{NS},")
                self.ws.close()
            except Exception:  # noqa: S110 - already gone
                pass
            self.ws = None


class Fleet:
    """All clients of this process and what they saw."""

    def __init__(self, base: str):
        self.base = base
        self.clients: list[Client] = []
        self.arrivals: dict[str, list[float]] = defaultdict(list)  # content -> arrival times
        self.events: dict[str, int] = defaultdict(int)
        self.dropped = 0
        self.closing = False
        self.errors: dict[str, int] = defaultdict(int)
        self.mixed: gevent.Greenlet | None = None

    def on_event(self, client: Client, name: str, data: Any) -> None:
        self.events[name] += 1
        if name == "message:new" and isinstance(data, dict):
            self.arrivals[data.get("content", "")].append(time.monotonic())

    def connect(self, users: list[list[str]], concurrency: int, timeout: float) -> dict[str, Any]:
        pool = gevent.pool.Pool(concurrency)
        latencies: list[float] = []
        failures: dict[str, int] = defaultdict(int)

        def one(uid: str, token: str, threads: list[str]) -> None:
            c = Client(self.base, uid, token, self)
            c.threads = threads
            t0 = time.monotonic()
            try:
                c.connect(timeout)
            except Exception as exc:
                failures[f"{type(exc).__name__}: {str(exc)[:60]}"] += 1
                return
            latencies.append((time.monotonic() - t0) * 1000)
            self.clients.append(c)

        for u in users:
            pool.spawn(one, u[0], u[1], u[2] if len(u) > 2 else [])
        pool.join()
        return {
            "connected": len(latencies),
            "latencies": latencies,
            "failures": failures,
            "ids": [c.user_id for c in self.clients],
        }

    def send(self, user_id: str, thread_id: str, content: str) -> dict[str, Any]:
        """`message:send` from this user's socket; the send time, on the shared monotonic clock."""
        client = next(c for c in self.clients if c.user_id == user_id)
        t0 = time.monotonic()
        ack = client.call(
            "message:send",
            {"clientId": uuid.uuid4().hex, "threadId": thread_id, "content": content},
        )
        return {"t0": t0, "ok": bool(ack.get("ok")), "ackMs": (time.monotonic() - t0) * 1000}

    def arrivals_of(self, content: str) -> list[float]:
        return list(self.arrivals.get(content, []))

    def start_mixed(self, rate: float, reconnect_every: float) -> None:
        """Mixed traffic for the soak: sends, typing, read receipts, and reconnects."""

        def act(c: Client) -> None:
            if not c.threads or c.ws is None or c.closing:
                return
            tid = random.choice(c.threads)
            kind = random.random()
            try:
                if kind < 0.4:
                    ack = c.call(
                        "message:send",
                        {"clientId": uuid.uuid4().hex, "threadId": tid, "content": "soak"},
                    )
                    if ack.get("ok"):
                        gevent.spawn(read_back, c, tid, ack["message"]["id"])
                elif kind < 0.8:
                    ack = c.call("typing:start", {"threadId": tid})
                else:
                    ack = c.call("sync", {"since": "2020-01-01T00:00:00.000Z", "limit": 20})
            except (Exception, gevent.Timeout) as exc:
                self.errors[f"{type(exc).__name__}"] += 1
                return
            if ack.get("error", {}).get("code") == "client_closed":
                return
            if not ack.get("ok"):
                self.errors[ack.get("error", {}).get("code", "?")] += 1
            else:
                self.events["acked"] += 1

        def read_back(c: Client, tid: str, mid: str) -> None:
            try:
                ack = c.call("messages:read", {"threadId": tid, "messageId": mid})
            except (Exception, gevent.Timeout) as exc:
                self.errors[type(exc).__name__] += 1
                return
            if ack.get("error", {}).get("code") == "client_closed":
                return
            if not ack.get("ok"):
                self.errors[ack.get("error", {}).get("code", "?")] += 1

        def reconnect(c: Client) -> None:
            if c.closing or c.ws is None:
                return
            c.close()
            try:
                c.connect(20)
                self.events["reconnected"] += 1
            except Exception as exc:
                self.errors[f"reconnect:{type(exc).__name__}"] += 1
                c.closing = False  # try again at a later reconnect

        def loop() -> None:
            next_reconnect = time.monotonic() + reconnect_every
            while True:
                gevent.sleep(random.expovariate(rate) if rate > 0 else 1)
                if self.clients:
                    gevent.spawn(act, random.choice(self.clients))
                if time.monotonic() >= next_reconnect and self.clients:
                    next_reconnect += reconnect_every
                    gevent.spawn(reconnect, random.choice(self.clients))

        self.mixed = gevent.spawn(loop)

    def stats(self) -> dict[str, Any]:
        return {
            "open": sum(1 for c in self.clients if c.ws is not None),
            "dropped": self.dropped,
            "errors": dict(self.errors),
            "events": dict(self.events),
        }

    def close(self) -> None:
        self.closing = True
        if self.mixed is not None:
            self.mixed.kill()
        pool = gevent.pool.Pool(200)
        for c in self.clients:
            pool.spawn(c.close)
        pool.join()
        self.clients.clear()


def main() -> None:
    fleet = Fleet(sys.argv[1])
    stdin = FileObjectThread(sys.stdin)
    out = sys.stdout
    for line in stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "connect":
            reply: Any = fleet.connect(cmd["users"], cmd["concurrency"], cmd["timeout"])
        elif op == "arrivals":
            reply = {"times": fleet.arrivals_of(cmd["content"])}
        elif op == "send":
            reply = fleet.send(cmd["userId"], cmd["threadId"], cmd["content"])
        elif op == "mixed":
            fleet.start_mixed(cmd["rate"], cmd["reconnect_every"])
            reply = {"ok": True}
        elif op == "stats":
            reply = fleet.stats()
        elif op == "close":
            fleet.close()
            reply = {"ok": True}
        else:
            reply = {"error": f"unknown op {op}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if op == "close" and cmd.get("exit"):
            return


if __name__ == "__main__":
    main()
