"""Text is valid Unicode without lone surrogates or NUL, and within its column.

Before the payload boundary, "\\ud800" in content or a title gave a 500 on the API and an
`internal_error` ack on the socket; Clerk claims longer than their columns, or with NUL,
gave a 500 on every request with that token on PostgreSQL.
"""

from __future__ import annotations

import pytest

from dashboard.extensions import db
from dashboard.models import User
from dashboard.payloads.limits import EMAIL_MAX, FIRST_NAME_MAX, ID_MAX, LAST_NAME_MAX

from ..auth.test_clerk import ISSUER, PARTY, PUBLIC_PEM, token
from .conftest import assert_refused, assert_refused_ack, counts, emit_raw, post_raw

SURROGATE = "\\ud800"
LOW_SURROGATE = "\\udfff"
NUL = "\\u0000"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/threads/{tid}/messages", f'{{"clientId": "u1", "content": "a{SURROGATE}b"}}'),
        ("/threads", f'{{"title": "{SURROGATE}", "participantIds": []}}'),
        ("/threads/{tid}/messages", f'{{"clientId": "c{LOW_SURROGATE}", "content": "x"}}'),
        ("/messages/{mid}/reports", f'{{"reason": "spam {SURROGATE}"}}'),
        ("/threads/{tid}/messages", f'{{"content": "x", "metadata": {{"k{SURROGATE}": 1}}}}'),
        ("/threads/{tid}/messages", f'{{"content": "x", "metadata": {{"k": "{NUL}"}}}}'),
        ("/threads", f'{{"title": "ok", "name": "n{NUL}", "participantIds": []}}'),
    ],
)
def test_api_text_that_is_not_clean_unicode_is_refused(app, api, factory, path, body):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    msg = factory.message(thread, bob, "hello")
    before = counts(app)
    path = path.format(tid=thread.id, mid=msg.id)
    error = assert_refused(post_raw(api.client, path, alice, body))
    assert error["details"]["reason"] in ("surrogate", "nul_character")
    assert counts(app) == before


def test_api_title_patch_with_a_surrogate_changes_nothing(app, api, factory):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()], title="before")
    body = f'{{"title": "after {SURROGATE}"}}'
    assert_refused(post_raw(api.client, f"/threads/{thread.id}", alice, body, method="PATCH"))
    assert api.get(f"/threads/{thread.id}", alice).get_json()["title"] == "before"


@pytest.mark.parametrize(
    "event, payload",
    [
        ("message:send", f'{{"clientId": "x", "threadId": "{{tid}}", "content": "{SURROGATE}"}}'),
        ("message:send", f'{{"clientId": "{SURROGATE}", "threadId": "{{tid}}", "content": "x"}}'),
        ("message:send", f'{{"threadId": "{{tid}}", "content": "x", "metadata": {{"{NUL}": 1}}}}'),
        ("typing:start", f'{{"threadId": "{{tid}}{LOW_SURROGATE}"}}'),
        ("message:edit", f'{{"messageId": "{{mid}}", "content": "{NUL}"}}'),
        ("presence:query", f'{{"userIds": ["{SURROGATE}"]}}'),
    ],
)
def test_socket_text_that_is_not_clean_unicode_is_refused(
    app, factory, socket_client, event, payload
):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    msg = factory.message(thread, alice, "mine")
    a = socket_client(alice)
    before = counts(app)
    ack = emit_raw(a, event, payload.replace("{tid}", thread.id).replace("{mid}", msg.id))
    assert assert_refused_ack(ack)["details"]["reason"] in ("surrogate", "nul_character")
    assert counts(app) == before
    with app.app_context():
        from dashboard.models import Message

        assert db.session.get(Message, msg.id).content == "mine"


@pytest.mark.parametrize(
    "field, limit",
    [("clientId", 64), ("parentId", ID_MAX)],
)
def test_ids_longer_than_their_column_are_422_on_both_surfaces(
    app, api, factory, socket_client, field, limit
):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    body = {"content": "x", field: "i" * (limit + 1)}
    resp = api.post(f"/threads/{thread.id}/messages", alice, json=body)
    assert assert_refused(resp, 422)["details"]["fields"].keys() == {field}
    ack = socket_client(alice).emit(
        "message:send", {**body, "threadId": thread.id}, namespace="/chat", callback=True
    )
    assert field in assert_refused_ack(ack)["details"]["fields"]
    assert counts(app)["Message"] == 0


# --- Clerk token claims ----------------------------------------------------------------------


@pytest.fixture
def clerk_app_config(app_config):
    app_config.update(
        CLERK_JWT_KEY=PUBLIC_PEM, CLERK_ISSUER=ISSUER, CLERK_AUTHORIZED_PARTIES=[PARTY]
    )
    return app_config


def _me(client, tok):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {tok}"})


def _stored(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id)


def test_overlong_name_claims_are_cut_to_their_columns(clerk_app_config, app, client):
    tok = token(first_name="F" * 500, last_name="L" * (LAST_NAME_MAX + 1), username="u" * 300)
    for _ in range(2):  # the first call creates, the second updates from the same claims
        resp = _me(client, tok)
        assert resp.status_code == 200, resp.get_data(as_text=True)
    user = _stored(app, "user_2abcDEF")
    assert user.first_name == "F" * FIRST_NAME_MAX
    assert user.last_name == "L" * LAST_NAME_MAX
    assert 1 <= len(user.username) <= 64


def test_email_and_image_claims_that_cannot_be_stored_are_dropped(clerk_app_config, app, client):
    long_email = "a" * 60 + "@" + "b" * (EMAIL_MAX - 60) + ".test"
    for email in ("nul\x00@example.test", long_email):
        resp = _me(client, token(email=email, image_url="https://i.test/" + "x" * 3000))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        user = _stored(app, "user_2abcDEF")
        assert user.email is None or user.email == "clerky@example.test"
        assert user.image_url is None


def test_claims_with_surrogates_or_nul_are_left_out(clerk_app_config, app, client):
    resp = _me(client, token(first_name="Cl\ud800ra", last_name="K\x00err", username="c\x00l"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    user = _stored(app, "user_2abcDEF")
    assert user.first_name is None and user.last_name is None
    assert "\x00" not in user.username


@pytest.mark.parametrize("sub", ["user_" + "x" * ID_MAX, "user_\x00abc", "user_\udc80"])
def test_a_subject_that_cannot_be_an_id_refuses_the_token(clerk_app_config, app, client, sub):
    resp = _me(client, token(sub=sub))
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
