"""The chat page in a real Chromium: two users in two browser contexts against the live server."""

from __future__ import annotations

import json
import re
import struct
import uuid
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Message, Participant
from tests.browser.chat_steps import bubble, open_thread, send, wait_connected, wait_status
from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

XSS = "<img src=x onerror=alert(1)>"


def status_of(page: Any, text: str) -> str:
    return bubble(page, text).get_attribute("data-status")


UNLABELLED = """() => [...document.querySelectorAll(
    "#chat button, #chat input, #chat textarea, #new-thread-dialog button, #new-thread-dialog input"
  )].filter(el => el.getAttribute("aria-hidden") !== "true" && el.type !== "hidden")
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                  && !el.getAttribute("aria-labelledby") && !el.textContent.trim())
    .map(el => el.outerHTML)"""


def unlabelled_controls(page: Any) -> list[str]:
    """Controls a screen reader could not name (run through DevTools, outside the page's CSP)."""
    return page.evaluate(UNLABELLED)


def bodies(page: Any) -> list[str]:
    return page.locator("#messages li.msg .msg-body").all_inner_texts()


def test_two_users_chat_with_read_marks_and_a_reload(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    alice = factory.user(username="alice", first_name="Alice", password=TEST_PASSWORD)
    bob = factory.user(username="bob", first_name="Bob", password=TEST_PASSWORD)
    thread = factory.thread(alice, [bob], title="Lunch plans")

    pa = open_user(alice)
    pb = open_user(bob)
    open_thread(pa, "Lunch plans")

    # Alice writes; she sees it at once, then the server's tick; Bob's list counts it unread,
    # and since his browser received it, Alice's mark moves to delivered.
    send(pa, "Hi Bob, noodles at noon?")
    assert bubble(pa, "Hi Bob, noodles at noon?").count() == 1
    pb.get_by_role("button", name=re.compile("Lunch plans")).locator(
        ".badge", has_text="1"
    ).wait_for()
    wait_status(pa, "Hi Bob, noodles at noon?", "delivered")
    assert pa.locator("#messages .msg-status-text").last.inner_text() == "Delivered"

    # Bob opens the thread: he reads it, and Alice sees the read mark.
    open_thread(pb, "Lunch plans")
    assert bubble(pb, "Hi Bob, noodles at noon?").count() == 1
    wait_status(pa, "Hi Bob, noodles at noon?", "read")
    assert pa.locator("#messages .msg-status-text").last.inner_text() == "Read"
    assert pb.get_by_role("button", name=re.compile("Lunch plans")).locator(".badge").count() == 0

    # Bob answers (Shift+Enter makes a second line); Alice has the thread open, so it is read.
    pb.fill("#composer-input", "Sure!")
    pb.press("#composer-input", "Shift+Enter")
    pb.type("#composer-input", "See you there")
    pb.press("#composer-input", "Enter")
    bubble(pa, "Sure!\nSee you there").wait_for()
    wait_status(pb, "Sure!\nSee you there", "read")

    # Hostile content stays text: no element is made from it and no dialog fires.
    send(pb, XSS)
    bubble(pa, XSS).wait_for()
    assert pa.locator("#messages img").count() == 0
    assert pb.locator("#messages img").count() == 0
    pa.wait_for_timeout(300)  # give a would-be onerror handler its chance

    expected = ["Hi Bob, noodles at noon?", "Sure!\nSee you there", XSS]
    assert bodies(pa) == expected
    assert bodies(pb) == expected

    screenshot(pa, "chat-desktop-alice")
    pb.set_viewport_size({"width": 390, "height": 844})
    screenshot(pb, "chat-390-bob-conversation")

    # A reload keeps everything: the same messages, once each, with their statuses.
    pa.reload()
    wait_connected(pa)
    open_thread(pa, "Lunch plans")
    assert bodies(pa) == expected
    assert status_of(pa, "Hi Bob, noodles at noon?") == "read"
    pb.reload()  # at 390 px, on the thread's own URL: the conversation fills the screen
    wait_connected(pb)
    pb.wait_for_selector("#messages[data-loaded=true]")
    assert bodies(pb) == expected
    assert pb.locator("#thread-list").is_hidden()
    pb.get_by_role("button", name="Back to the thread list").click()
    assert pb.locator("#conversation").is_hidden()
    screenshot(pb, "chat-390-bob-list")
    open_thread(pb, "Lunch plans")
    assert bodies(pb) == expected
    assert status_of(pb, XSS) == "read"

    with app.app_context():
        rows = db.session.scalars(
            sa.select(Message.content).where(Message.thread_id == thread.id).order_by(Message.id)
        ).all()
        assert rows == expected
        read_marks = dict(
            db.session.execute(
                sa.select(Participant.user_id, Participant.read_through).where(
                    Participant.thread_id == thread.id
                )
            ).all()
        )
    last_id = pa.locator("#messages li.msg").last.get_attribute("data-id")
    assert read_marks[alice.id] == last_id


def thread_button(page: Any, title: str) -> Any:
    return page.locator("#thread-list [data-thread-id]").filter(has_text=title)


def test_reconnect_backfills_each_message_exactly_once(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    carol = factory.user(username="carol", first_name="Carol", password=TEST_PASSWORD)
    dave = factory.user(username="dave", first_name="Dave", password=TEST_PASSWORD)
    factory.thread(carol, [dave], title="Release")
    factory.thread(carol, [dave], title="Ops")

    pc = open_user(carol)
    pd = open_user(dave)
    open_thread(pd, "Release")
    open_thread(pc, "Release")
    send(pc, "before the outage")
    bubble(pd, "before the outage").wait_for()

    # Dave's browser drops off the network while Carol keeps writing in both threads.
    pd.context.set_offline(True)
    pd.wait_for_selector("#connection[data-state=reconnecting]", timeout=60_000)
    missed = [f"while you were away {i:02d}" for i in range(1, 61)]
    for text in missed[:5]:
        send(pc, text)
        wait_status(pc, text, "sent")
    # More than a page of them: the rest through the API, as Carol's other client would.
    release_id = pc.locator("#messages").get_attribute("data-thread-id")
    csrf = json.loads(pc.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    for text in missed[5:]:
        resp = pc.request.post(
            f"{pc.url.split('/chat/')[0]}/api/v1/threads/{release_id}/messages",
            data={"clientId": str(uuid.uuid4()), "content": text},
            headers={"X-CSRFToken": csrf},
        )
        assert resp.status == 201, resp.text()
    bubble(pc, missed[-1]).wait_for()
    open_thread(pc, "Ops")
    for text in ("ops one", "ops two", "ops three"):
        send(pc, text)
        wait_status(pc, text, "sent")
    assert pd.locator("#messages li.msg").count() == 1

    # Back online: the client syncs from its cursor; every message shows up exactly once,
    # and the thread that is not open counts what it missed (that only comes from the sync).
    pd.context.set_offline(False)
    wait_connected(pd)
    bubble(pd, missed[-1]).wait_for(timeout=30_000)
    thread_button(pd, "Ops").locator(".badge", has_text="3").wait_for()
    assert bodies(pd) == ["before the outage", *missed]
    # Dave has "Release" open, so Carol's marks there catch up to read.
    open_thread(pc, "Release")
    wait_status(pc, missed[-1], "read")
    open_thread(pd, "Ops")
    assert bodies(pd) == ["ops one", "ops two", "ops three"]
    pd.reload()
    wait_connected(pd)
    pd.wait_for_selector("#messages[data-loaded=true]")
    assert bodies(pd) == ["ops one", "ops two", "ops three"]


def test_failed_send_shows_retry_and_retry_reuses_the_client_id(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    erin = factory.user(username="erin", first_name="Erin", password=TEST_PASSWORD)
    frank = factory.user(username="frank", first_name="Frank", password=TEST_PASSWORD)
    thread = factory.thread(erin, [frank], title="Flaky wifi")
    pe = open_user(erin)
    pf = open_user(frank)
    open_thread(pe, "Flaky wifi")
    open_thread(pf, "Flaky wifi")

    pe.context.set_offline(True)
    send(pe, "are you there?")
    # Shown at once as sending, then failed with a Retry button when no ack comes.
    assert bubble(pe, "are you there?").get_attribute("data-status") == "sending"
    wait_status(pe, "are you there?", "failed", timeout=20_000)  # the ack waits 10 s
    retry = bubble(pe, "are you there?").get_by_role("button", name="Retry sending this message")
    assert retry.is_visible()
    client_id = bubble(pe, "are you there?").get_attribute("data-key")

    pe.context.set_offline(False)
    wait_connected(pe)
    # Nothing resends a failed message behind the user's back; Retry does, with its clientId.
    assert bubble(pe, "are you there?").get_attribute("data-status") == "failed"
    retry.click()
    wait_status(pe, "are you there?", "read")  # Frank has the thread open
    bubble(pf, "are you there?").wait_for()
    assert bodies(pe) == ["are you there?"]
    assert bodies(pf) == ["are you there?"]
    # The same element (keyed by the clientId) went from failed to read: one message.
    assert bubble(pe, "are you there?").get_attribute("data-key") == client_id
    with app.app_context():
        rows = db.session.execute(
            sa.select(Message.client_id).where(Message.thread_id == thread.id)
        ).all()
    assert len(rows) == 1
    assert client_id == f"c:{erin.id}:{rows[0][0]}"


def test_new_thread_mentions_links_typing_reply_edit_and_delete(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    gina = factory.user(username="gina", first_name="Gina", password=TEST_PASSWORD)
    hank = factory.user(username="hank", first_name="Hank", password=TEST_PASSWORD)
    pg = open_user(gina)
    ph = open_user(hank)

    # Gina starts a thread with Hank through the user picker; it shows up in Hank's list live.
    pg.get_by_role("button", name="New thread").click()
    pg.get_by_label("Title").fill("Road trip")
    pg.get_by_label("Add people").fill("ha")
    pg.get_by_role("button", name="Add Hank (@hank)").click()
    pg.get_by_role("button", name="Create thread").click()
    pg.wait_for_selector("#messages[data-loaded=true]")
    assert pg.locator("#conv-title").inner_text() == "Road trip"
    thread_button(ph, "Road trip").wait_for()
    open_thread(ph, "Road trip")

    # @mention autocomplete from the participants, and a link attached to the message.
    pg.fill("#composer-input", "")
    pg.type("#composer-input", "@ha")
    option = pg.get_by_role("option", name=re.compile("@hank"))
    option.wait_for()
    pg.press("#composer-input", "Enter")
    assert pg.input_value("#composer-input") == "@hank "
    pg.type("#composer-input", "bring the map")
    pg.get_by_role("button", name="Attach a link").click()
    pg.get_by_label("Link to attach").fill("https://example.com/map")
    pg.press("#link-input", "Enter")
    pg.locator("#pending-attachments", has_text="https://example.com/map").wait_for()
    pg.press("#composer-input", "Enter")
    msg = bubble(ph, "@hank bring the map")
    msg.wait_for()
    assert msg.locator(".mention").inner_text() == "@hank"
    assert msg.locator("a[href='https://example.com/map']").count() == 1

    # Typing shows on the other side, and goes away once the message is sent.
    ph.type("#composer-input", "will")
    pg.locator("#typing", has_text="Hank is typing…").wait_for()

    # Hank replies to Gina's message (Esc cancels a reply; Reply again and send).
    msg.get_by_role("button", name="Reply to Gina").click()
    assert ph.locator("#composer-context").is_visible()
    ph.press("#composer-input", "Escape")
    assert ph.locator("#composer-context").is_hidden()
    msg.get_by_role("button", name="Reply to Gina").click()
    ph.fill("#composer-input", "")
    ph.type("#composer-input", "@gi")  # right after the click: the mention list still opens
    ph.get_by_role("option", name=re.compile("@gina")).wait_for()
    ph.press("#composer-input", "Tab")
    ph.type("#composer-input", "will do")
    ph.press("#composer-input", "Enter")
    reply = bubble(pg, "@gina will do")
    reply.wait_for()
    assert "Reply to Gina: @hank bring the map" in reply.locator(".msg-parent").inner_text()
    expect(pg.locator("#typing")).to_have_text("")

    # Gina edits her message; Hank sees the new text, marked edited.
    mine = bubble(pg, "@hank bring the map")
    mine.get_by_role("button", name="Edit your message").click()
    assert pg.input_value("#composer-input") == "@hank bring the map"
    pg.fill("#composer-input", "@hank bring the big map")
    pg.press("#composer-input", "Enter")
    edited = bubble(ph, "@hank bring the big map")
    edited.wait_for()
    assert edited.locator(".msg-edited").inner_text() == "(edited)"
    assert bubble(ph, "@hank bring the map").count() == 0

    # Gina deletes it (with a second click to confirm); Hank sees it go, the reply stays.
    mine = bubble(pg, "@hank bring the big map")
    mine.get_by_role("button", name="Delete your message").click()
    mine.get_by_role("button", name="Really delete your message").click()
    ph.locator("#messages .msg-removed-note", has_text="This message was deleted.").wait_for()
    assert bodies(ph) == ["This message was deleted.", "@gina will do"]
    assert "(removed message)" in bubble(ph, "@gina will do").locator(".msg-parent").inner_text()
    screenshot(pg, "chat-desktop-features")
    assert unlabelled_controls(pg) == []
    assert unlabelled_controls(ph) == []


def test_archived_thread_is_read_only(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    ivy = factory.user(username="ivy", first_name="Ivy", password=TEST_PASSWORD)
    jon = factory.user(username="jon", first_name="Jon", password=TEST_PASSWORD)
    old = factory.thread(ivy, [jon], title="Old project", is_archived=True)
    factory.message(old, jon, "final words")
    pi = open_user(ivy)
    assert thread_button(pi, "Old project").count() == 0
    pi.get_by_label("Show archived threads").check()
    open_thread(pi, "Old project")
    assert bodies(pi) == ["final words"]
    assert pi.get_by_text("This thread is archived: it is read-only.").is_visible()
    assert pi.locator("#composer-input").is_disabled()
    assert pi.get_by_role("button", name="Send").is_disabled()
    assert pi.locator("#messages [data-action=reply]").count() == 0


def test_older_messages_load_when_scrolling_up(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    kim = factory.user(username="kim", first_name="Kim", password=TEST_PASSWORD)
    lee = factory.user(username="lee", first_name="Lee", password=TEST_PASSWORD)
    thread = factory.thread(kim, [lee], title="Long history")
    start = datetime(2026, 11, 1, 9, 0)
    for i in range(130):
        factory.message(
            thread, lee if i % 2 else kim, f"line {i:03d}", at=start + timedelta(minutes=i)
        )
    pk = open_user(kim)
    open_thread(pk, "Long history")
    assert len(bodies(pk)) == 50
    assert bodies(pk)[-1] == "line 129"

    pk.locator("#messages-scroll").hover()
    pk.mouse.wheel(0, -100_000)
    pk.locator("#messages .msg-body", has_text="line 079").wait_for()
    # The keyboard path: Enter on the button loads the rest. Focus it without scrolling: a
    # scroll to the top loads by itself, and the button may vanish under a click that scrolled.
    older = pk.get_by_role("button", name="Load earlier messages")
    settled = "() => !document.getElementById('load-older').disabled"
    for _ in range(10):
        pk.wait_for_function(settled)
        if not older.is_visible():
            break
        pk.evaluate("document.getElementById('load-older').focus({preventScroll: true})")
        pk.keyboard.press("Enter")
    pk.locator("#messages .msg-body", has_text="line 000").wait_for()
    assert bodies(pk) == [f"line {i:03d}" for i in range(130)]


def tiny_png(width: int = 24, height: int = 16) -> bytes:
    """A valid red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes([200, 60, 60]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_image_and_file_attachments(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    max_ = factory.user(username="max", first_name="Max", password=TEST_PASSWORD)
    nia = factory.user(username="nia", first_name="Nia", password=TEST_PASSWORD)
    factory.thread(max_, [nia], title="Photos")
    pm = open_user(max_)
    pn = open_user(nia)
    open_thread(pm, "Photos")
    open_thread(pn, "Photos")

    pm.set_input_files(
        "#file-input",
        files=[
            {"name": "dot.png", "mimeType": "image/png", "buffer": tiny_png()},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"plain notes"},
        ],
    )
    pm.locator("#pending-attachments li", has_text="notes.txt").wait_for()
    assert pm.locator("#pending-attachments li", has_text="Image: dot.png").count() == 1
    pm.press("#composer-input", "Enter")  # no text: attachments alone are a message

    img = pn.locator("#messages .att-image img")
    img.wait_for()
    src = img.get_attribute("src")
    assert src.startswith("/api/v1/uploads/")
    assert pn.request.get(pn.url.split("/chat/")[0] + src).status == 200
    expect(img).to_have_js_property("naturalWidth", 24)  # the browser decoded the upload
    link = pn.locator("#messages .att-file a", has_text="notes.txt")
    assert link.get_attribute("download") == "notes.txt"
    pm.locator("#messages li.msg[data-status=read]").wait_for()
    screenshot(pn, "chat-desktop-attachments")


def test_unread_badges_count_each_message_once_and_follow_presence(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    olga = factory.user(username="olga", first_name="Olga", password=TEST_PASSWORD)
    pete = factory.user(username="pete", first_name="Pete", password=TEST_PASSWORD)
    thread = factory.thread(olga, [pete], title="Standup")
    factory.thread(olga, [pete], title="Quiet one")
    factory.message(thread, olga, "first")
    factory.message(thread, olga, "second")

    pp = open_user(pete)  # its first sync overlaps the list it loaded: no double count
    badge = thread_button(pp, "Standup").locator(".badge")
    assert badge.inner_text() == "2"
    assert badge.get_attribute("aria-label") == "2 unread"
    assert thread_button(pp, "Quiet one").locator(".badge").count() == 0
    dot = thread_button(pp, "Standup").locator(".presence-dot")
    assert dot.get_attribute("data-status") == "offline"

    po = open_user(olga)
    expect(dot).to_have_attribute("data-status", "online")
    expect(dot).to_have_attribute("aria-label", "Olga is online")
    open_thread(po, "Standup")
    send(po, "third")
    expect(badge).to_have_text("3")
    open_thread(pp, "Standup")
    expect(badge).to_have_count(0)
    wait_status(po, "third", "read")

    po.context.close()
    expect(dot).to_have_attribute("data-status", "offline")
    assert pp.locator("#conv-participants .presence-dot").first.get_attribute("data-status") == (
        "offline"
    )


def test_a_thread_archived_elsewhere_turns_read_only_live(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    from dashboard.models import Thread
    from dashboard.realtime import broadcast
    from dashboard.services import threads as threads_service

    quin = factory.user(username="quin", first_name="Quin", password=TEST_PASSWORD)
    rosa = factory.user(username="rosa", first_name="Rosa", password=TEST_PASSWORD)
    thread = factory.thread(quin, [rosa], title="Wrapping up")
    pq = open_user(quin)
    open_thread(pq, "Wrapping up")
    assert pq.locator("#composer-input").is_enabled()

    # What the dashboard's archive does: commit, then announce `thread:updated`.
    with app.app_context():
        row = db.session.get(Thread, thread.id)
        row.is_archived = True
        db.session.commit()
        payload = threads_service.thread_payload(row)
        broadcast.thread_event("thread:updated", payload, [quin.id, rosa.id])

    expect(pq.locator("#composer-input")).to_be_disabled()
    expect(pq.get_by_text("This thread is archived: it is read-only.")).to_be_visible()
    assert pq.get_by_role("button", name="Send").is_disabled()


def test_thread_list_pages_and_narrow_screen_shows_connection_state(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    xena = factory.user(username="xena", first_name="Xena", password=TEST_PASSWORD)
    yuri = factory.user(username="yuri", first_name="Yuri", password=TEST_PASSWORD)
    start = datetime(2026, 10, 1, 8, 0)
    for i in range(55):
        factory.thread(xena, [yuri], title=f"Topic {i:02d}", at=start + timedelta(hours=i))
    px = open_user(xena, width=390, height=844)
    items = px.locator("#thread-list [data-thread-id]")
    assert items.count() == 50
    assert items.first.inner_text().startswith("Topic 54")  # newest activity first
    px.get_by_role("button", name="Load more threads").click()
    expect(items).to_have_count(55)
    assert px.get_by_role("button", name="Load more threads").is_hidden()
    assert items.last.inner_text().startswith("Topic 00")

    open_thread(px, "Topic 00")
    assert px.locator("#thread-list").is_hidden()
    px.context.set_offline(True)
    expect(px.locator("#conv-connection")).to_be_visible(timeout=60_000)
    screenshot(px, "chat-390-offline")
    px.context.set_offline(False)
    wait_connected(px)
    expect(px.locator("#conv-connection")).to_be_hidden()
