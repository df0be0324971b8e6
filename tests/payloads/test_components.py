"""The OpenAPI components are the code's shapes: real serializer output and real API
responses validate against them (jsonschema, 2020-12), so the document cannot drift."""

from __future__ import annotations

import io
import re
from typing import Any

import jsonschema
import pytest

from dashboard.extensions import db
from dashboard.models import Attachment, Message, Thread, User
from dashboard.payloads import Limits
from dashboard.payloads.schema import components
from dashboard.serializers import (
    attachment_json,
    message_json,
    presence_json,
    thread_json,
    user_json,
    user_summary,
)
from tests.api.tokens import bearer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def validator_for(root: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Validator:
    """A 2020-12 validator whose `#/components/...` refs resolve in `root`."""
    return jsonschema.Draft202012Validator({**root, **schema})


def check(root: dict[str, Any], name: str, instance: Any) -> None:
    validator_for(root, {"$ref": f"#/components/schemas/{name}"}).validate(instance)


@pytest.fixture
def doc(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def test_components_name_every_request_model_and_response_shape(app):
    with app.app_context():
        schemas = components(Limits.from_config(app.config))
    for name in ("CreateThread", "SendMessage", "ReportMessage", "Message", "ThreadList", "Error"):
        assert name in schemas
    assert schemas["SendMessage"]["properties"]["content"]["anyOf"][0]["maxLength"] == 10_000


def test_documented_body_limits_follow_the_settings(app, client):
    app.config.update(MAX_MESSAGE_CHARS=500, MAX_ATTACHMENTS=3, MAX_TITLE_CHARS=50)
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    send = schemas["SendMessage"]["properties"]
    assert send["content"]["anyOf"][0]["maxLength"] == 500
    assert send["attachments"]["anyOf"][0]["maxItems"] == 3
    assert schemas["CreateThread"]["properties"]["title"]["maxLength"] == 50


def test_serializer_output_matches_the_components(app, factory, doc):
    a, b = factory.user(first_name="Ann"), factory.user()
    t = factory.thread(a, [b], title="Refunds", name="refunds")
    m = factory.message(t, a, "hi", client_id="c1", mentions=(b,))
    att = factory.attachment(m, a, url="https://example.com/x", mime_type="text/html", size=10)
    with app.app_context():
        alice, bob = db.session.get(User, a.id), db.session.get(User, b.id)
        msg = db.session.get(Message, m.id)
        attachment = db.session.get(Attachment, att.id)
        check(doc, "User", user_json(alice))
        check(doc, "UserSummary", user_summary(bob))
        check(doc, "Attachment", attachment_json(attachment))
        check(doc, "Thread", thread_json(db.session.get(Thread, t.id), [alice, bob]))
        body = message_json(msg, author=alice, mentions=[b.id], attachments=[attachment])
        check(doc, "Message", body)
        msg.hidden_at = msg.created_at
        check(doc, "Message", message_json(msg, author=alice))
        check(doc, "PresenceInfo", presence_json(a.id, True, None))
        check(doc, "PresenceInfo", presence_json(a.id, False, msg.created_at))


def test_a_drifted_shape_is_caught(app, factory, doc):
    """The check can fail: a renamed key or a time without its Z is refused."""
    a = factory.user()
    with app.app_context():
        body = user_json(db.session.get(User, a.id))
    with pytest.raises(jsonschema.ValidationError):
        check(doc, "User", {**body, "is_active": body.pop("isActive")})
    with pytest.raises(jsonschema.ValidationError):
        check(doc, "User", {**user_json_of(app, a), "createdAt": "2026-11-26 14:30:18"})


def user_json_of(app, user):
    with app.app_context():
        return user_json(db.session.get(User, user.id))


def _operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    for template, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not documented")


def test_real_api_responses_match_the_document(app, client, factory, doc):
    alice, bob = factory.user(), factory.user()
    seen: list[tuple[str, str, int]] = []

    def call(method: str, path: str, user: Any = alice, **kw: Any) -> Any:
        resp = client.open("/api/v1" + path, method=method, headers=bearer(user), **kw)
        op = _operation(doc, method, path)
        documented = op["responses"].get(str(resp.status_code))
        assert documented, f"{method} {path} answered an undocumented {resp.status_code}"
        schema = documented.get("content", {}).get("application/json", {}).get("schema")
        if schema is not None:
            validator_for(doc, schema).validate(resp.get_json())
        seen.append((method, path, resp.status_code))
        return resp

    call("GET", "/me")
    call("GET", "/users", query_string={"q": bob.username[:3]})
    thread = call("POST", "/threads", json={"title": "T", "participantIds": [bob.id]}).get_json()
    tid = thread["id"]
    call("PATCH", f"/threads/{tid}", json={"name": "renamed", "metadata": {"k": [1, 2]}})
    carol = factory.user()
    call("POST", f"/threads/{tid}/participants", json={"userIds": [carol.id]})
    call("DELETE", f"/threads/{tid}/participants/{carol.id}")
    upload = call(
        "POST",
        "/uploads",
        data={"file": (io.BytesIO(PNG), "p.png")},
        content_type="multipart/form-data",
    ).get_json()
    body = {
        "clientId": "c1",
        "content": "hello @" + bob.username,
        "attachments": [{"type": "link", "url": "https://example.com"}, {"id": upload["id"]}],
        "metadata": {"a": {"b": None}},
    }
    msg = call("POST", f"/threads/{tid}/messages", json=body).get_json()
    call("POST", f"/threads/{tid}/messages", json=body)  # the replay: 200
    reply = {"content": "re", "parentId": msg["id"]}
    call("POST", f"/threads/{tid}/messages", bob, json=reply)
    call("GET", f"/threads/{tid}/messages")
    call("GET", f"/threads/{tid}/messages", query_string={"before": msg["id"], "limit": 1})
    call("GET", "/threads", bob)
    call("GET", f"/threads/{tid}")
    call("POST", f"/threads/{tid}/read", bob, json={"messageId": msg["id"]})
    call("PATCH", f"/messages/{msg['id']}", json={"content": "edited"})
    call("POST", f"/messages/{msg['id']}/reports", bob, json={"reason": "spam"})
    call("GET", "/search", query_string={"q": "edited"})
    call("GET", "/presence", query_string={"userIds": f"{alice.id},{bob.id}"})
    call("DELETE", f"/messages/{msg['id']}")
    # Refusals are documented too, each with the error shape.
    call("GET", "/threads/nope")
    call("POST", "/threads", json={"title": ""})
    call("POST", f"/threads/{tid}/messages", data="{", content_type="application/json")
    call("GET", "/threads", query_string={"limit": "0"})
    statuses = {s for _, _, s in seen}
    assert {200, 201, 400, 404, 422} <= statuses
