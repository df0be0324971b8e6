"""Clerk webhooks at POST /webhooks/clerk: Svix-verified, idempotent, ordered, audited as clerk."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Message, User, WebhookEvent
from tests.api.tokens import CLERK_CONFIG
from tests.realtime.clients import ChatClient, wait_for

from .conftest import WEBHOOK_SECRET, clerk_event, clerk_user, session_data, svix_headers

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Webhooks on, and the test key's tokens accepted (for the socket test)."""
    app_config.update(CLERK_CONFIG, CLERK_WEBHOOK_SECRET=WEBHOOK_SECRET)
    return app_config


def deliver(client, kind: str, data: dict[str, Any], **headers_kw: Any):  # type: ignore[no-untyped-def]
    body = clerk_event(kind, data)
    return client.post("/webhooks/clerk", data=body, headers=svix_headers(body, **headers_kw))


def stored(app, user_id: str) -> User | None:  # type: ignore[no-untyped-def]
    with app.app_context():
        user = db.session.get(User, user_id)
        if user is not None:
            db.session.expunge(user)
        return user


def clerk_audit(app) -> list[tuple[str, str, dict]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id))
        return [
            (r.action, r.target_id, r.details) for r in rows if r.details.get("actor") == "clerk"
        ]


def test_user_created_makes_the_user_from_clerks_user_object(app, client):
    data = clerk_user(last_sign_in_at=T0, created_at=T0 - timedelta(days=3), updated_at=T0)
    resp = deliver(client, "user.created", data)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["outcome"] == "applied"
    user = stored(app, "user_2clerkWEBHOOK")
    assert user is not None
    assert (user.username, user.email) == ("clerkuser", "clerk.user@example.test")  # primary
    assert (user.first_name, user.last_name) == ("Cleo", "Clerkson")
    assert user.image_url == "https://img.clerk.com/user_2clerkWEBHOOK.png"
    assert user.created_at == (T0 - timedelta(days=3)).replace(tzinfo=None)
    assert user.updated_at == T0.replace(tzinfo=None)
    assert user.last_login_at == T0.replace(tzinfo=None)
    assert user.is_active and user.role == "user"
    [(action, target, details)] = clerk_audit(app)
    assert (action, target, details["outcome"]) == ("clerk.user.created", user.id, "applied")
    assert details["svixId"].startswith("msg_")


def test_null_username_is_derived_and_a_clash_is_resolved(app, client, factory):
    factory.user(username="taken")
    resp = deliver(
        client, "user.created", clerk_user("user_2a", username=None, email="nomen@x.test")
    )
    assert resp.status_code == 200
    assert stored(app, "user_2a").username == "nomen"  # from the email, as for tokens
    resp = deliver(
        client, "user.created", clerk_user("user_2b", username="taken", email="b@x.test")
    )
    assert resp.status_code == 200  # the clash does not fail the event
    assert stored(app, "user_2b").username == "taken2"
    assert stored(app, "user_2b").email == "b@x.test"


def test_updates_out_of_order_never_let_an_older_one_win(app, client):
    deliver(client, "user.created", clerk_user(updated_at=T0))
    newer = clerk_user(first_name="Newest", updated_at=T0 + timedelta(minutes=10))
    older = clerk_user(first_name="Older", updated_at=T0 + timedelta(minutes=5))
    assert deliver(client, "user.updated", newer).get_json()["outcome"] == "applied"
    resp = deliver(client, "user.updated", older)
    assert resp.status_code == 200 and resp.get_json()["outcome"] == "stale"
    user = stored(app, "user_2clerkWEBHOOK")
    assert user.first_name == "Newest"
    assert user.updated_at == (T0 + timedelta(minutes=10)).replace(tzinfo=None)


def test_a_replayed_svix_id_changes_nothing(app, client):
    first = deliver(client, "user.created", clerk_user(updated_at=T0), msg_id="msg_replay")
    assert first.get_json()["outcome"] == "applied"
    again = deliver(
        client,
        "user.updated",
        clerk_user(first_name="Replayed", updated_at=T0 + timedelta(hours=1)),
        msg_id="msg_replay",
    )
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    assert stored(app, "user_2clerkWEBHOOK").first_name == "Cleo"
    assert len(clerk_audit(app)) == 1


@pytest.mark.parametrize("defect", ["signature", "stale", "secret", "missing"])
def test_unverified_deliveries_get_400_and_change_nothing(app, client, defect):
    body = clerk_event("user.created", clerk_user())
    if defect == "stale":  # correctly signed, but outside Svix's five-minute tolerance
        headers = svix_headers(body, at=datetime.now(UTC) - timedelta(minutes=10))
    elif defect == "secret":
        headers = svix_headers(body, secret="whsec_" + "QUJD" * 8)
    else:
        headers = svix_headers(body)
        if defect == "signature":
            headers["svix-signature"] = "v1,AAAA" + headers["svix-signature"][7:]
        else:
            del headers["svix-signature"]
    resp = client.post("/webhooks/clerk", data=body, headers=headers)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "bad_request"
    assert stored(app, "user_2clerkWEBHOOK") is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_a_tampered_body_fails_verification(app, client):
    body = clerk_event("user.created", clerk_user())
    headers = svix_headers(body)
    tampered = body.replace("clerkuser", "attacker")
    assert client.post("/webhooks/clerk", data=tampered, headers=headers).status_code == 400
    assert stored(app, "user_2clerkWEBHOOK") is None


def test_session_created_sets_last_login(app, client):
    deliver(client, "user.created", clerk_user())
    at = T0 + timedelta(days=2)
    resp = deliver(client, "session.created", session_data("user_2clerkWEBHOOK", at))
    assert resp.get_json()["outcome"] == "applied"
    assert stored(app, "user_2clerkWEBHOOK").last_login_at == at.replace(tzinfo=None)
    actions = [a for a, _, _ in clerk_audit(app)]
    assert actions == ["clerk.user.created", "clerk.session.created"]


def test_unknown_event_types_are_ignored_with_200(app, client):
    resp = deliver(client, "organization.created", {"id": "org_1", "object": "organization"})
    assert resp.status_code == 200 and resp.get_json()["outcome"] == "ignored"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_a_malformed_but_signed_payload_is_400(app, client):
    body = json.dumps({"type": "user.created", "data": {"id": 42}})
    resp = client.post("/webhooks/clerk", data=body, headers=svix_headers(body))
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0


@pytest.mark.parametrize(
    "bad_name",
    ["NaN", '"Cleo\\u0000"', '"\\ud800"', "1e999"],
    ids=["nan", "nul", "lone-surrogate", "overflow"],
)
def test_a_signed_payload_that_is_not_strict_json_is_400(app, client, bad_name):
    """Clerk's signature proves the sender, not the JSON: the payload rules hold here too."""
    good = clerk_event("user.created", clerk_user())
    body = good.replace('"first_name": "Cleo"', f'"first_name": {bad_name}')
    assert body != good
    resp = client.post("/webhooks/clerk", data=body, headers=svix_headers(body))
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0


def test_webhooks_are_off_without_a_secret(app, client):
    app.config["CLERK_WEBHOOK_SECRET"] = None
    resp = deliver(client, "user.created", clerk_user())
    assert resp.status_code == 404
    assert stored(app, "user_2clerkWEBHOOK") is None


def test_user_deleted_deactivates_erases_and_drops_the_open_socket(app, factory, live_server):
    client = app.test_client()
    deliver(client, "user.created", clerk_user(updated_at=T0))
    member = stored(app, "user_2clerkWEBHOOK")
    friend = factory.user()
    thread = factory.thread(member, [friend])
    factory.message(thread, member, "my zanzibarquokka secret")
    chat = ChatClient(live_server.url, member).connect()
    assert chat.sio.connected
    resp = deliver(client, "user.deleted", {"id": member.id, "object": "user", "deleted": True})
    assert resp.status_code == 200 and resp.get_json()["outcome"] == "applied"
    wait_for(lambda: not chat.sio.connected)
    assert chat.received("session:ended")
    user = stored(app, member.id)
    assert not user.is_active and user.erased_at is not None
    assert user.email is None and user.username.startswith("erased-")
    with app.app_context():
        msg = db.session.scalar(sa.select(Message).where(Message.user_id == member.id))
        assert msg.content == "" and msg.erased_at is not None
    # A late update from before the deletion does not bring the profile back.
    late = deliver(client, "user.updated", clerk_user(updated_at=T0 + timedelta(minutes=1)))
    assert late.get_json()["outcome"] == "erased"
    assert stored(app, member.id).email is None
    signed_in = deliver(client, "session.created", session_data(member.id, T0))
    assert signed_in.get_json()["outcome"] == "erased"
    assert stored(app, member.id).last_login_at is None
    chat.disconnect()


def test_user_deleted_only_deactivates_when_erasure_is_off(app, client):
    app.config["CLERK_DELETE_ERASES"] = False
    deliver(client, "user.created", clerk_user())
    resp = deliver(client, "user.deleted", {"id": "user_2clerkWEBHOOK", "deleted": True})
    assert resp.status_code == 200
    user = stored(app, "user_2clerkWEBHOOK")
    assert not user.is_active and user.erased_at is None
    assert user.email == "clerk.user@example.test"


def test_the_endpoint_is_exempt_from_csrf_only(app, client):
    # No CSRF token was sent with any delivery above; a form route still demands one.
    resp = client.post("/login", data={"username": "x", "password": "y"})
    assert resp.status_code == 400


def test_retention_forgets_delivery_ids_older_than_any_retry(app, client, runner):
    deliver(client, "user.created", clerk_user(), msg_id="msg_old")
    deliver(client, "user.updated", clerk_user(), msg_id="msg_new")
    with app.app_context():
        db.session.execute(
            sa.update(WebhookEvent)
            .where(WebhookEvent.svix_id == "msg_old")
            .values(received_at=datetime(2020, 1, 1))
        )
        db.session.commit()
    result = runner.invoke(args=["chatdesk", "retention"])
    assert "Forgot 1 webhook deliveries" in result.output
    with app.app_context():
        assert list(db.session.scalars(sa.select(WebhookEvent.svix_id))) == ["msg_new"]
