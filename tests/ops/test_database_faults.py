"""PostgreSQL stops under load and comes back: 503/unavailable meanwhile, never a 500, then
everything succeeds again without a restart, and every acked message is stored exactly once."""

from __future__ import annotations

import re
import time
from collections import Counter

import requests
import sqlalchemy as sa

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import Message
from tests.conftest import TEST_PASSWORD, _migrate
from tests.factories import Factory
from tests.realtime.clients import ChatClient

from .load import Load
from .servers import server_env

ALLOWED_DURING_OUTAGE = {"ok", "unavailable", "unavailable:503"}


def staff_session(url: str, username: str) -> requests.Session:
    """A browser-like session logged in through the login form."""
    s = requests.Session()
    html = s.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    resp = s.post(
        url + "/login",
        data={"username": username, "password": TEST_PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 302
    return s


def wait_all_ok(load: Load, since: float, timeout: float) -> float:
    """The moment after `since` from which the last few answers of each kind all succeeded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recent = load.since(since)
        kinds = {o.kind for o in load.outcomes}
        tails = {k: [o for o in recent if o.kind == k][-5:] for k in kinds}
        if all(len(t) == 5 and all(o.result == "ok" for o in t) for t in tails.values()):
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"not everything succeeded within {timeout} s of the restart")


def test_postgresql_restart_under_load(pg_cluster, servers, tmp_path):
    _migrate(pg_cluster.url)
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": pg_cluster.url}
    )
    factory = Factory(app)
    alice, bob, carol = (factory.user() for _ in range(3))
    staff = factory.user(role="moderator", password=TEST_PASSWORD)
    thread = factory.thread(alice, [bob, carol])

    server = servers(server_env(pg_cluster.url))
    sockets = [ChatClient(server.url, u).connect() for u in (bob, carol)]
    moderator = staff_session(server.url, staff.username)
    load = Load(server.url, alice, thread.id, sockets).start()
    try:
        time.sleep(2)
        pg_cluster.stop()
        time.sleep(4)  # the load keeps going against a stopped database

        ready = requests.get(server.url + "/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["ok"] is False
        page = moderator.get(server.url + "/dashboard", timeout=10)
        assert page.status_code == 503
        assert "Briefly unavailable" in page.text and "<nav" in page.text  # the app's layout
        api = requests.get(server.url + "/api/v1/threads", headers=_bearer(alice), timeout=10)
        assert api.status_code == 503
        assert api.json()["error"]["code"] == "unavailable"

        pg_cluster.start()
        restarted = time.monotonic()
        all_ok = wait_all_ok(load, restarted, timeout=30)
        time.sleep(2)
        after = load.since(all_ok)
        assert all(c.sio.connected for c in sockets)  # the sockets lived through it
    finally:
        outcomes = load.stop()
        for c in sockets:
            c.disconnect()

    results = Counter(o.result for o in outcomes)
    assert results["ok"] > 0 and results["unavailable"] + results["unavailable:503"] > 0, results
    odd = [(o.kind, o.result) for o in outcomes if o.result not in ALLOWED_DURING_OUTAGE]
    assert not odd, (results, odd, server.log()[-6000:])  # never a 500, never a hang
    assert after and all(o.result == "ok" for o in after)
    assert requests.get(server.url + "/readyz", timeout=10).status_code == 200
    assert moderator.get(server.url + "/dashboard", timeout=10).status_code == 200
    assert server.alive()
    assert "Traceback" not in server.log()

    acked = load.acked_ids()
    with app.app_context():
        stored = Counter(
            db.session.scalars(sa.select(Message.client_id).where(Message.client_id.in_(acked)))
        )
        db.engine.dispose()
    assert {cid: stored[cid] for cid in acked if stored[cid] != 1} == {}


def _bearer(user):  # type: ignore[no-untyped-def]
    from tests.api.tokens import bearer

    return bearer(user)
