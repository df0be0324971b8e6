"""Fixtures for tests that run the app as real server processes (tests/ops/servers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing_service

from .servers import PgCluster, RedisProcess, ServerProcess


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start server processes (`gunicorn wsgi:app` by default); all are stopped afterwards."""
    made: list[ServerProcess] = []

    def start(env: dict[str, str], *, wait: bool = True, **kw: Any) -> ServerProcess:
        server = ServerProcess(env, tmp_path, **kw)
        made.append(server)
        return server.start(wait=wait)

    yield start
    for server in made:
        server.stop()


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster of this test's own, started, on a free port."""
    try:
        cluster = PgCluster().init()
        cluster.start()
    except (FileNotFoundError, KeyError, OSError) as exc:
        missing_service(f"initdb/pg_ctl and a postgres user ({exc})")
    yield cluster
    cluster.destroy()


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    """A redis-server of this test's own, started, on a free port."""
    try:
        proc = RedisProcess()
        proc.start()
    except (FileNotFoundError, OSError) as exc:
        missing_service(f"redis-server ({exc})")
    yield proc
    proc.stop()
