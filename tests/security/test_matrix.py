"""The authorization matrix (see matrix.py), checked cell by cell on both databases.

One test per kind of caller builds one small world and walks every route and event, so app and
database set-up are shared across that caller's cells; every mismatch is reported at once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from dashboard.extensions import db, socketio
from dashboard.models import User
from tests.api.tokens import token_for
from tests.conftest import TEST_PASSWORD, get_csrf
from tests.images import png
from tests.views.pages_support import World, csrf_token

from .matrix import (
    BAD_REQUEST,
    FORBIDDEN,
    HTTP,
    LOGGED_OUT,
    LOGIN,
    NOT_FOUND,
    OK,
    REFUSED,
    ROLES,
    SOCKETS,
    events_of,
    handler_name,
)

PNG = png(8, 8)


def http_rules(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, method) of every rule in the URL map, HEAD and OPTIONS aside."""
    return sorted(
        {
            (rule.endpoint, method)
            for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}
        }
    )


def namespaces(app: Flask) -> dict[str, Any]:
    """Each registered Socket.IO namespace and its handler."""
    return dict(socketio.server.namespace_handlers)


def test_every_route_and_event_has_a_row(app):
    routes = http_rules(app)
    unlisted = [r for r in routes if r not in HTTP]
    assert not unlisted, f"routes without a matrix row: {unlisted}"
    gone = [r for r in HTTP if r not in routes]
    assert not gone, f"matrix rows for routes that are gone: {gone}"
    handlers = namespaces(app)
    assert set(handlers) == set(SOCKETS)
    for ns, handler in handlers.items():
        listed = {handler_name(e) for e in SOCKETS[ns]}
        missing = events_of(handler) - listed
        assert not missing, f"{ns} handles events without a matrix row: {missing}"
    for row in [*HTTP.values(), *(r for ev in SOCKETS.values() for r in ev.values())]:
        assert set(row) == set(ROLES)


@dataclass
class Caller:
    """One kind of caller: a cookie session for pages, a Clerk token for the API and sockets."""

    role: str
    client: FlaskClient
    user: User | None = None
    token: str | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


class Cells:
    """The world the cells act on: thread T (creator `owner`, participant) and fresh targets."""

    def __init__(self, app: Flask, factory: Any, caller: Caller):
        self.app, self.factory, self.caller = app, factory, caller
        self.pages = World(factory)
        self.owner = factory.user(password=TEST_PASSWORD)
        self.participant = (
            caller.user if caller.role == "participant" else factory.user(password=TEST_PASSWORD)
        )
        self.thread = factory.thread(self.owner, [self.participant])
        self.by_owner = factory.message(self.thread, self.owner, "the owner's message")
        self.by_participant = factory.message(self.thread, self.participant, "mine")
        self.upload = factory.attachment(
            self.by_owner,
            self.owner,
            type="image",
            url="/x",
            storage_name="matrix-upload",
            mime_type="image/png",
        )
        folder = app.config["UPLOAD_DIR"]
        import os

        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "matrix-upload"), "wb") as f:
            f.write(PNG)

    def url(self, endpoint: str, **kw: Any) -> str:
        with self.app.test_request_context():
            return url_for(endpoint, **kw)

    def fresh_thread(self) -> Any:
        return self.factory.thread(self.owner, [self.participant])

    def request(self, endpoint: str, method: str) -> tuple[str, dict[str, Any]]:
        """(path, client.open keyword arguments) for one cell."""
        t = self.thread
        if endpoint in ("dashboard.user_export_json", "dashboard.user_erase"):
            target = self.factory.user()
            form = {"reason": "matrix", "confirm": target.username, "csrf_token": self.csrf()}
            return self.url(endpoint, user_id=target.id), {"data": form}
        if endpoint == "webhooks.clerk":
            event = {"type": "user.deleted", "data": {"id": self.owner.id}}
            return self.url(endpoint), {"json": event}  # no Svix signature
        if endpoint.startswith(("dashboard.", "search.")):
            path, data = self.pages.request_for(endpoint)
            if method == "POST":
                return path, {"data": {**data, "csrf_token": self.csrf()}}
            return path, {}
        match endpoint:
            case "static":
                return self.url("static", filename="css/app.css"), {}
            case "auth.login" if method == "POST":
                user = self.caller.user or self.factory.user(password=TEST_PASSWORD)
                form = {"username": user.username, "password": TEST_PASSWORD}
                return "/login", {"data": {**form, "csrf_token": self.csrf()}}
            case "auth.logout" if method == "POST":
                return "/logout", {"data": {"csrf_token": self.csrf()}}
            case "api.create_thread":
                return self.url(endpoint), {"json": {"title": "matrix"}}
            case "api.search_messages":
                return self.url(endpoint, q="hello"), {}
            case "api.get_presence":
                return self.url(endpoint, userIds=self.owner.id), {}
            case "api.upload":
                files = {"file": (io.BytesIO(PNG), "dot.png")}
                return self.url(endpoint), {"data": files, "content_type": "multipart/form-data"}
            case "api.get_thread" | "api.list_messages":
                return self.url(endpoint, thread_id=t.id), {}
            case "api.update_thread":
                return self.url(endpoint, thread_id=t.id), {"json": {"title": "renamed"}}
            case "api.add_participants":
                other = self.factory.user()
                return self.url(endpoint, thread_id=t.id), {"json": {"userIds": [other.id]}}
            case "api.remove_participant":
                me = self.caller.user.id if self.caller.user else self.participant.id
                return self.url(endpoint, thread_id=self.fresh_thread().id, user_id=me), {}
            case "api.send_message":
                body = {"content": "matrix says hi", "parentId": self.by_owner.id}
                return self.url(endpoint, thread_id=t.id), {"json": body}
            case "api.mark_read":
                body = {"messageId": self.by_owner.id}
                return self.url(endpoint, thread_id=t.id), {"json": body}
            case "api.edit_message":
                return self.url(endpoint, message_id=self.by_participant.id), {
                    "json": {"content": "edited"}
                }
            case "api.delete_message":
                msg = self.factory.message(t, self.participant, "to delete")
                return self.url(endpoint, message_id=msg.id), {}
            case "api.report_message":
                return self.url(endpoint, message_id=self.by_owner.id), {
                    "json": {"reason": "matrix"}
                }
            case "api.get_upload" | "api.get_upload_thumbnail":
                return self.url(endpoint, upload_id=self.upload.id), {}
            case _:
                return self.url(endpoint), {}

    def csrf(self) -> str:
        return csrf_token(self.caller.client)


def make_caller(app: Flask, factory: Any, role: str) -> Caller:
    client = app.test_client()
    if role == "anonymous":
        return Caller(role, client)
    user = factory.user(
        role=role if role in ("support", "moderator", "admin") else "user", password=TEST_PASSWORD
    )
    form = {"username": user.username, "password": TEST_PASSWORD}
    resp = client.post("/login", data={**form, "csrf_token": get_csrf(client, "/login")})
    assert resp.status_code == 302
    if role == "deactivated":
        with app.app_context():
            u = db.session.get(User, user.id)
            u.is_active = False
            u.session_version += 1
            db.session.commit()
    return Caller(role, client, user, token_for(user))


def outcome_of(resp: Any, is_api: bool) -> str:
    """What a response means, in the matrix's words."""
    status = resp.status_code
    location = resp.headers.get("Location", "")
    if status == 401:
        return LOGIN if is_api else REFUSED
    if status in (301, 302, 303) and location.startswith("/login"):
        return LOGIN
    outcomes = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND}
    return outcomes.get(status, OK if status < 400 else f"http {status}")


def check_http(cells: Cells, caller: Caller) -> int:
    """Walk every route for this caller; returns the number of cells checked."""
    # Logging out and in change the caller's session: those cells go last, logging in last of all.
    last = [("auth.login", "GET"), ("auth.logout", "GET"), ("auth.logout", "POST")]
    last.append(("auth.login", "POST"))
    rules = [r for r in http_rules(cells.app) if r not in last] + last
    n = 0
    for endpoint, method in rules:
        expected = HTTP[(endpoint, method)][caller.role]
        path, kw = cells.request(endpoint, method)
        is_api = path.startswith("/api/")
        headers = caller.headers if is_api else {}
        resp = caller.client.open(path, method=method, headers=headers, **kw)
        resp.get_data()  # an export streams: read it to the end, then close it
        resp.close()
        n += 1
        got = outcome_of(resp, is_api)
        where = f"{caller.role} {method} {path}"
        assert resp.status_code < 500, f"{where}: {resp.status_code}"
        if is_api and resp.status_code >= 400:
            assert resp.is_json and resp.get_json()["error"]["code"], where
        if expected == LOGGED_OUT:
            still_in = caller.client.get("/chat/").status_code == 200
            got = LOGGED_OUT if resp.status_code == 302 and not still_in else got
            if caller.user is not None and caller.role != "deactivated":
                make_caller_login(caller)
        if got != expected:
            caller.failures.append(f"{where}: expected {expected}, got {got} ({resp.status_code})")
    return n


def make_caller_login(caller: Caller) -> None:
    client = caller.client
    form = {"username": caller.user.username, "password": TEST_PASSWORD}
    client.post("/login", data={**form, "csrf_token": get_csrf(client, "/login")})


@pytest.mark.parametrize("role", ROLES)
def test_matrix_http(app, factory, role):
    caller = make_caller(app, factory, role)
    cells = Cells(app, factory, caller)
    n = check_http(cells, caller)
    assert n == len(HTTP)
    if caller.failures:
        pytest.fail("\n".join(caller.failures), pytrace=False)
