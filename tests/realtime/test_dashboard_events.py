"""Dashboard actions reach the end users' open chats: hidden messages and archived threads."""

from __future__ import annotations

from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import moderation, threads
from tests.realtime.conftest import events


def test_hiding_a_message_sends_it_emptied_to_the_threads_sockets(app, factory, socket_client):
    mod = factory.user(role="moderator")
    alice, bob = factory.user(), factory.user()
    t = factory.thread(alice, [bob])
    m = factory.message(t, alice, "my phone number is five-five-five")
    bob_socket = socket_client(bob)
    events(bob_socket, "message:updated")  # drop anything from connecting
    with app.app_context():
        moderation.hide_message(db.session.get(User, mod.id), m.id, "personal data")
    [updated] = events(bob_socket, "message:updated")
    assert updated["id"] == m.id and updated["threadId"] == t.id
    assert updated["content"] == "" and updated["metadata"]["removed"] == "moderator"
    assert "five-five-five" not in repr(updated)
    with app.app_context():
        moderation.restore_message(db.session.get(User, mod.id), m.id, "false alarm")
    [restored] = events(bob_socket, "message:updated")
    assert restored["content"] == "my phone number is five-five-five"
    assert "removed" not in restored["metadata"]


def test_archiving_from_the_dashboard_tells_the_participants(app, factory, socket_client):
    mod = factory.user(role="moderator")
    alice, bob, outsider = factory.user(), factory.user(), factory.user()
    t = factory.thread(alice, [bob])
    bob_socket = socket_client(bob)
    outsider_socket = socket_client(outsider)
    events(bob_socket, "thread:updated")
    with app.app_context():
        threads.archive_thread(db.session.get(User, mod.id), t.id, "resolved")
    [thread] = events(bob_socket, "thread:updated")
    assert thread["id"] == t.id and thread["isArchived"] is True
    assert {p["id"] for p in thread["participants"]} == {alice.id, bob.id}
    assert events(outsider_socket, "thread:updated") == []
    # And the archived thread is now read-only for them.
    ack = bob_socket.emit(
        "message:send",
        {"clientId": "c-1", "threadId": t.id, "content": "hello?"},
        callback=True,
        namespace="/chat",
    )
    assert ack["ok"] is False and ack["error"]["code"] == "thread_archived"
