"""Shared by bench.sockets and bench.soak: a fresh database with many users, Clerk-style
tokens, server processes started with a given command, and the client processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dashboard.config import normalize_database_url

from .common import log

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = normalize_database_url(
    os.environ.get("BENCH_PG_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
)
ISSUER = "https://clerk.bench.test"
PARTY = "https://bench.test"
PRODUCTION = ["gunicorn", "wsgi:app"]
# The command the README documented before gevent: 100 threads in one process.
THREADS = ["gunicorn", "--config", "bench/gunicorn_threads.conf.py", "wsgi:app"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(
    name: str, n_users: int, groups: list[int], *, chunk: int = 0
) -> tuple[str, list[str], list[str]]:
    """Database `name` afresh: `n_users` users and one thread per size in `groups` (the first
    users are its members), plus, with `chunk`, threads of `chunk` consecutive users each.
    Returns the URL, the user ids and the thread ids (the `groups` ones first)."""
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)

    from flask_migrate import upgrade

    from dashboard import create_app
    from dashboard.extensions import db
    from dashboard.models import Participant, Thread, User, new_id, utcnow

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        now = utcnow()
        ids = [new_id() for _ in range(n_users)]
        rows = [
            {
                "id": uid,
                "username": f"sock{i}",
                "email": f"sock{i}@bench.test",
                "role": "user",
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i, uid in enumerate(ids)
        ]
        for k in range(0, len(rows), 2000):
            db.session.execute(sa.insert(User), rows[k : k + 2000])
        thread_ids = []
        member_lists = [ids[:size] for size in groups]
        if chunk:
            member_lists += [ids[k : k + chunk] for k in range(0, n_users, chunk)]
        for members in member_lists:
            size = len(members)
            tid = new_id()
            db.session.execute(
                sa.insert(Thread),
                [
                    {
                        "id": tid,
                        "title": f"{size} members",
                        "creator_id": ids[0],
                        "created_at": now,
                        "updated_at": now,
                        "last_activity_at": now,
                        "meta": {},
                    }
                ],
            )
            db.session.execute(
                sa.insert(Participant),
                [{"thread_id": tid, "user_id": u, "joined_at": now} for u in members],
            )
            thread_ids.append(tid)
        db.session.commit()
        db.engine.dispose()
    return url, ids, thread_ids


class Tokens:
    """A key pair of the bench's own and session tokens for the seeded users."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def token(self, i: int, uid: str) -> str:
        now = int(time.time())
        claims = {
            "sub": uid,
            "iss": ISSUER,
            "azp": PARTY,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 6 * 3600,
            "username": f"sock{i}",
            "email": f"sock{i}@bench.test",
        }
        return jwt.encode(claims, self.key, algorithm="RS256")

    def env(self) -> dict[str, str]:
        return {
            "CLERK_JWT_KEY": self.pem,
            "CLERK_ISSUER": ISSUER,
            "CLERK_AUTHORIZED_PARTIES": PARTY,
        }


class Server:
    """A server process started with `command` from the project root; measures its worker."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = [sys.executable, "-m", command[0], *command[1:]]
        full = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        if not env.get("REDIS_URL"):
            full.pop("REDIS_URL", None)
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(
            exe, cwd=ROOT, env=full, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server {' '.join(command)} did not start; see {log_path}")
            time.sleep(0.3)
        self.worker = self._worker_pid()

    def _worker_pid(self) -> int:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        kids = [int(p) for p in path.read_text().split()] if path.exists() else []
        return kids[0] if kids else self.proc.pid

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.worker}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.worker}/task"))

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.worker}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


class ClientProcs:
    """Several bench.socket_clients processes, so the clients are not the bottleneck."""

    def __init__(self, url: str, n: int):
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.socket_clients", url],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(n)
        ]

    def ask(self, i: int, cmd: dict[str, Any]) -> Any:
        p = self.procs[i]
        assert p.stdin is not None and p.stdout is not None
        p.stdin.write(json.dumps(cmd) + "\n")
        p.stdin.flush()
        line = p.stdout.readline()
        if not line:
            raise SystemExit("a client process died")
        return json.loads(line)

    def all(self, cmds: list[dict[str, Any]]) -> list[Any]:
        """Send one command to each process at once, then read every answer."""
        for p, cmd in zip(self.procs, cmds, strict=True):
            assert p.stdin is not None
            p.stdin.write(json.dumps(cmd) + "\n")
            p.stdin.flush()
        out = []
        for p in self.procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line:
                raise SystemExit("a client process died")
            out.append(json.loads(line))
        return out

    def close(self) -> None:
        for i in range(len(self.procs)):
            with contextlib.suppress(SystemExit, BrokenPipeError, OSError):  # already gone
                self.ask(i, {"op": "close", "exit": True})
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


__all__ = ["PRODUCTION", "THREADS", "ClientProcs", "Server", "Tokens", "loadavg", "log"]
