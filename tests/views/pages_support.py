"""Helpers shared by the dashboard page tests: a small world of data and request helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dashboard.extensions import db
from dashboard.models import AuditLog, utcnow

HTMX = {"HX-Request": "true"}

XSS_USER = '<script>alert("u")</script>'
XSS_TITLE = "<script>alert('t')</script><img src=x onerror=alert(2)>"
XSS_CONTENT = '<script>alert("m")</script><b onclick="alert(3)">bold</b>'
XSS_REASON = "<script>alert('r')</script>"


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from any page's <body hx-headers>."""
    html = client.get("/").get_data(as_text=True)
    m = re.search(r'"X-CSRFToken": "([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert m, "no CSRF token on the home page"
    return m.group(1)


def audit_rows(app: Flask, **where: Any) -> list[AuditLog]:
    """Audit rows matching column=value filters, oldest first."""
    with app.app_context():
        q = sa.select(AuditLog).order_by(AuditLog.created_at, AuditLog.id)
        for k, v in where.items():
            q = q.where(getattr(AuditLog, k) == v)
        rows = list(db.session.scalars(q))
        db.session.expunge_all()
        return rows


def audit_count(app: Flask) -> int:
    """How many audit rows there are."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) or 0


@dataclass
class World:
    """Targets for every dashboard route: made fresh on demand so each action has its own."""

    factory: Any

    def __post_init__(self) -> None:
        self.owner = self.factory.user()
        self.other = self.factory.user()

    def thread(self, **kw: Any):  # type: ignore[no-untyped-def]
        return self.factory.thread(self.owner, [self.other], **kw)

    def message(self, **kw: Any):  # type: ignore[no-untyped-def]
        t = self.thread()
        return self.factory.message(t, self.other, "a message", at=utcnow() - timedelta(minutes=1))

    def hidden_message(self):  # type: ignore[no-untyped-def]
        t = self.thread()
        return self.factory.message(
            t, self.other, "hidden one", hidden_at=utcnow(), hidden_reason="spam"
        )

    def report(self):  # type: ignore[no-untyped-def]
        return self.factory.report(self.message(), self.owner, "spam")

    def watched_word(self):  # type: ignore[no-untyped-def]
        from dashboard.models import WatchedWord

        n = self.factory.user().username
        with self.factory.app.app_context():
            rule = WatchedWord(kind="word", pattern=n, normalized=n, action="flag")
            db.session.add(rule)
            db.session.commit()
            return rule.id

    def cleanup(self):  # type: ignore[no-untyped-def]
        """(user id, audit id) of a spam clean-up an admin made, ready to undo."""
        from dashboard.models import User
        from dashboard.services import cleanup

        admin = self.factory.user(role="admin")
        spammer = self.factory.user()
        self.factory.message(self.factory.thread(spammer), spammer, "spam")
        with self.factory.app.app_context():
            actor = db.session.get(User, admin.id)
            done = cleanup.clean_up(actor, spammer.id, window="all", reason="spam")
            return spammer.id, done.audit_id

    def request_for(self, endpoint: str) -> tuple[str, dict[str, Any]]:
        """(path, form data) for a request to `endpoint` that succeeds for an allowed role."""
        from flask import url_for

        def url(**kw: Any) -> str:
            with self.factory.app.test_request_context():
                return url_for(endpoint, **kw)

        reason = {"reason": "testing access"}
        match endpoint:
            case "dashboard.thread_detail":
                return url(thread_id=self.thread().id), {}
            case "dashboard.user_detail":
                return url(user_id=self.other.id), {}
            case "dashboard.report_resolve":
                return url(report_id=self.report().id), {"action": "dismiss", "note": "fine"}
            case "dashboard.user_create":
                n = self.factory.user().username  # a free sequence number for a new name
                return url(), {
                    "username": f"new{n}",
                    "email": f"new{n}@example.test",
                    "password": "long enough password",
                    "role": "support",
                }
            case "dashboard.user_deactivate":
                return url(user_id=self.factory.user().id), reason
            case "dashboard.user_reactivate":
                return url(user_id=self.factory.user(is_active=False).id), reason
            case "dashboard.user_role":
                return url(user_id=self.factory.user().id), {"role": "support", **reason}
            case "dashboard.threads_bulk":
                ids = [self.thread().id, self.thread().id]
                return url(), {"action": "archive", "ids": ids, "confirm": "1", **reason}
            case "dashboard.thread_archive":
                return url(thread_id=self.thread().id), reason
            case "dashboard.thread_unarchive":
                return url(thread_id=self.thread(is_archived=True).id), reason
            case "dashboard.message_hide":
                return url(message_id=self.message().id), reason
            case "dashboard.message_restore":
                return url(message_id=self.hidden_message().id), reason
            case "dashboard.user_export_json":
                return url(user_id=self.factory.user().id), {}
            case "dashboard.user_erase":
                target = self.factory.user()
                return url(user_id=target.id), {"confirm": target.username, **reason}
            case "dashboard.thread_export":
                return url(thread_id=self.thread().id), {"format": "json"}
            case "dashboard.watched_word_add":
                n = self.factory.user().username
                return url(), {"kind": "word", "pattern": f"w{n}", "action": "flag"}
            case "dashboard.user_cleanup":
                return url(user_id=self.message().user_id), {"window": "all", **reason}
            case "dashboard.user_cleanup_undo":
                user_id, audit_id = self.cleanup()
                return url(user_id=user_id, audit_id=audit_id), {}
            case "dashboard.watched_word_delete":
                return url(rule_id=self.watched_word()), {}
            case _:
                return url(), {}


def count_queries(app: Flask, fn: Any) -> tuple[int, Any]:
    """(number of SQL statements run by fn(), its result)."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        result = fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return len(statements), result
