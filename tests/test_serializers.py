"""Each serializer gives exactly SPEC §2's fields, camelCase, with ISO UTC times ending in Z."""

import re
from datetime import datetime

from dashboard.extensions import db
from dashboard.models import Attachment, Message, Thread, User
from dashboard.serializers import (
    iso,
    message_json,
    presence_json,
    thread_json,
    typing_json,
    user_json,
)

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

USER_FIELDS = {
    "id",
    "username",
    "email",
    "firstName",
    "lastName",
    "imageUrl",
    "createdAt",
    "updatedAt",
    "lastLoginAt",
    "isActive",
    "role",
}
THREAD_FIELDS = {
    "id",
    "name",
    "title",
    "createdAt",
    "updatedAt",
    "lastMessageAt",
    "creatorId",
    "participants",
    "isArchived",
    "metadata",
}
MESSAGE_FIELDS = {
    "id",
    "clientId",
    "content",
    "threadId",
    "userId",
    "parentId",
    "createdAt",
    "updatedAt",
    "status",
    "mentions",
    "attachments",
    "metadata",
    "user",
}
ATTACHMENT_FIELDS = {"id", "type", "url", "mimeType", "size", "metadata"}


def test_iso_times():
    assert iso(datetime(2026, 11, 26, 14, 30, 18, 123456)) == "2026-11-26T14:30:18.123Z"
    assert iso(None) is None


def test_user_json_has_spec_fields_and_never_the_password(app, factory):
    user = factory.user(password="secret password", first_name="Ada")
    body = user_json(user)
    assert set(body) == USER_FIELDS
    assert body["firstName"] == "Ada" and body["isActive"] is True and body["role"] == "user"
    assert ISO_Z.match(body["createdAt"]) and body["lastLoginAt"] is None
    assert "secret" not in repr(body) and "password" not in repr(body).lower()


def test_thread_json(app, factory):
    a, b = factory.user(), factory.user()
    t = factory.thread(a, [b], title="Refunds", name="refunds")
    factory.message(t, a)
    with app.app_context():
        thread = db.session.get(Thread, t.id)
        body = thread_json(thread, [db.session.get(User, a.id), db.session.get(User, b.id)])
    assert set(body) == THREAD_FIELDS
    assert body["creatorId"] == a.id and body["isArchived"] is False
    assert [p["id"] for p in body["participants"]] == [a.id, b.id]
    assert "email" not in body["participants"][0]
    assert ISO_Z.match(body["lastMessageAt"]) and body["metadata"] == {}


def test_message_json_and_attachments(app, factory):
    a, b = factory.user(), factory.user()
    t = factory.thread(a, [b])
    m = factory.message(t, a, "hi @x", client_id="c1", mentions=(b,))
    att = factory.attachment(m, a, url="https://example.com/x", mime_type="text/html", size=10)
    with app.app_context():
        msg = db.session.get(Message, m.id)
        atts = [db.session.get(Attachment, att.id)]
        body = message_json(
            msg,
            author=db.session.get(User, a.id),
            mentions=[b.id],
            attachments=atts,
            status="delivered",
        )
    assert set(body) == MESSAGE_FIELDS
    assert body["clientId"] == "c1" and body["status"] == "delivered" and body["mentions"] == [b.id]
    assert set(body["attachments"][0]) == ATTACHMENT_FIELDS
    assert body["attachments"][0]["mimeType"] == "text/html"
    assert body["user"]["id"] == a.id and "email" not in body["user"]


def test_removed_message_is_emptied_for_end_users_but_not_for_staff(app, factory):
    a = factory.user()
    t = factory.thread(a)
    m = factory.message(t, a, "rude words", hidden_reason="abuse")
    with app.app_context():
        msg = db.session.get(Message, m.id)
        msg.hidden_at = msg.created_at
        author = db.session.get(User, a.id)
        public = message_json(msg, author=author, mentions=[a.id])
        staff = message_json(msg, author=author, reveal_removed=True)
        msg.hidden_at = None
        msg.deleted_at = msg.created_at
        deleted = message_json(msg, author=author)
    assert public["content"] == "" and public["metadata"]["removed"] == "moderator"
    assert public["mentions"] == []
    assert staff["content"] == "rude words" and staff["metadata"]["removed"] == "moderator"
    assert deleted["content"] == "" and deleted["metadata"]["removed"] == "author"


def test_presence_and_typing():
    p = presence_json("u1", True, datetime(2026, 1, 2, 3, 4, 5))
    assert p == {"userId": "u1", "status": "online", "lastSeen": "2026-01-02T03:04:05.000Z"}
    assert presence_json("u1", False, None)["status"] == "offline"
    t = typing_json("u1", "t1", datetime(2026, 1, 2), True)
    assert set(t) == {"userId", "threadId", "timestamp", "isTyping"}
