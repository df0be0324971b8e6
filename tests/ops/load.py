"""A light, steady load of API calls and socket sends that records every answer it gets."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.api.tokens import bearer
from tests.realtime.clients import ChatClient


@dataclass
class Outcome:
    """One answer: which call, its HTTP status or ack code, and the clientId it sent."""

    kind: str
    result: str  # "ok", or an error code ("unavailable", "internal_error", "timeout", …)
    client_id: str | None = None
    at: float = field(default_factory=time.monotonic)


class Load:
    """API `GET /me` and `POST …/messages` by one user, `message:send` by socket clients."""

    def __init__(self, url: str, api_user: Any, thread_id: str, sockets: list[ChatClient]):
        self.url = url
        self.api_user = api_user
        self.thread_id = thread_id
        self.sockets = sockets
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.threads: list[threading.Thread] = []
        self.pause = 0.05
        self.stop_on_transport_error = False

    def record(self, o: Outcome) -> None:
        with self.lock:
            self.outcomes.append(o)

    def api_loop(self) -> None:
        s = requests.Session()
        s.headers.update(bearer(self.api_user))
        while not self.stop_flag.is_set():
            self.record(Outcome("api:me", self._http(s, "get", "/api/v1/me")))
            cid = f"api-{uuid.uuid4()}"
            body = {"clientId": cid, "content": "load"}
            result = self._http(s, "post", f"/api/v1/threads/{self.thread_id}/messages", body)
            self.record(Outcome("api:send", result, cid))
            time.sleep(self.pause)

    def _http(self, s: requests.Session, method: str, path: str, body: Any = None) -> str:
        try:
            resp = s.request(method, self.url + path, json=body, timeout=15)
        except requests.RequestException as exc:
            return f"transport:{type(exc).__name__}"
        if resp.status_code < 300:
            return "ok"
        try:
            return str(resp.json()["error"]["code"]) + f":{resp.status_code}"
        except ValueError:
            return f"html:{resp.status_code}"

    def socket_loop(self, client: ChatClient) -> None:
        while not self.stop_flag.is_set():
            if not client.sio.connected:
                time.sleep(0.1)
                continue
            cid = f"ws-{uuid.uuid4()}"
            payload = {"clientId": cid, "threadId": self.thread_id, "content": "load"}
            try:
                ack = client.call("message:send", payload)
            except Exception as exc:  # a timeout or a dropped connection: not an answer
                self.record(Outcome("ws:send", f"transport:{type(exc).__name__}", cid))
                if self.stop_on_transport_error:
                    return
                time.sleep(0.1)
                continue
            result = "ok" if ack.get("ok") else ack["error"]["code"]
            self.record(Outcome("ws:send", result, cid))
            time.sleep(self.pause)

    def start(self) -> Load:
        self.threads = []
        if self.api_user is not None:
            self.threads.append(threading.Thread(target=self.api_loop, daemon=True))
        self.threads += [
            threading.Thread(target=self.socket_loop, args=(c,), daemon=True) for c in self.sockets
        ]
        for t in self.threads:
            t.start()
        return self

    def stop(self) -> list[Outcome]:
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)
        return list(self.outcomes)

    def since(self, t: float) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if o.at >= t]

    def acked_ids(self) -> list[str]:
        with self.lock:
            return [o.client_id for o in self.outcomes if o.result == "ok" and o.client_id]
