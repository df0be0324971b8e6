"""The chat page as a person sees it (issue 13): a phone's width, following new messages past
images, a readable jumped-to message, reporting a message, and where the empty state sits."""

from __future__ import annotations

import json
import re
import struct
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Report
from tests.browser.chat_steps import bubble, open_thread, send, wait_status
from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

PHONE = {"width": 390, "height": 844}


def box_inside_viewport(page: Any, locator: Any) -> None:
    """The element is drawn, and wholly inside the page's viewport horizontally."""
    box = locator.bounding_box()
    assert box is not None, "not drawn"
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (box, width)


def test_phone_width_thread_list_and_conversation_take_turns(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    """Finding 1: at 390 px nothing is wider than the screen; list, then conversation."""
    una = factory.user(username="una", first_name="Una", password=TEST_PASSWORD)
    vic = factory.user(username="vic", first_name="Vic", password=TEST_PASSWORD)
    long_title = "Refund for order A-1042 placed twice during the checkout outage last week"
    thread = factory.thread(vic, [una], title=long_title)
    factory.message(thread, vic, "Hi, I was charged twice " + "and nobody answers my emails " * 8)
    factory.thread(vic, [una], title="Short one")

    pu = open_user(una, **PHONE)
    items = pu.locator("#thread-list [data-thread-id]")
    expect(items).to_have_count(2)
    assert pu.evaluate("document.documentElement.scrollWidth") <= 390
    box_inside_viewport(pu, pu.locator(".chat-sidebar"))
    box_inside_viewport(pu, pu.get_by_role("button", name="New thread"))
    badge = items.filter(has_text=long_title).locator(".badge")
    expect(badge).to_have_text("1")
    box_inside_viewport(pu, badge)
    preview = items.filter(has_text=long_title).locator(".thread-preview")
    box_inside_viewport(pu, preview)
    for i in range(items.count()):
        box_inside_viewport(pu, items.nth(i))
    assert pu.locator("#conversation").is_hidden()
    screenshot(pu, "chat-390-list-long-titles")

    # The conversation takes the whole screen; Back returns to the list.
    open_thread(pu, long_title)
    assert pu.locator(".chat-sidebar").is_hidden()
    assert pu.evaluate("document.documentElement.scrollWidth") <= 390
    for sel in ("#conv-title", "#composer-input", "#send-btn", "#back-btn"):
        box_inside_viewport(pu, pu.locator(sel))
    box_inside_viewport(pu, pu.locator("#messages li.msg").first)
    screenshot(pu, "chat-390-conversation-long-title")
    # Dark mode (the system setting): the same layout, its text readable on the palette.
    pu.emulate_media(color_scheme="dark")
    first = pu.locator("#messages li.msg").first
    assert contrast(first.locator(".msg-body")) >= 4.5
    assert contrast(first.locator(".msg-author")) >= 4.5
    assert contrast(pu.locator("#conv-title")) >= 4.5
    screenshot(pu, "chat-390-conversation-dark")
    pu.get_by_role("button", name="Back to the thread list").click()
    expect(pu.locator(".chat-sidebar")).to_be_visible()
    assert pu.locator("#conversation").is_hidden()
    assert contrast(items.filter(has_text=long_title).locator(".thread-preview")) >= 4.5
    screenshot(pu, "chat-390-list-dark")
    pu.set_viewport_size({"width": 1280, "height": 900})
    open_thread(pu, long_title)
    screenshot(pu, "chat-desktop-dark")


def png(width: int, height: int) -> bytes:
    """A valid PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes([40, 120, 200]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def csrf_of(page: Any) -> str:
    return json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]


def post_message(page: Any, base_url: str, thread_id: str, content: str, **extra: Any) -> None:
    """Send a message through the API from `page`'s session (as another client would)."""
    resp = page.request.post(
        f"{base_url}/api/v1/threads/{thread_id}/messages",
        data={"clientId": str(uuid.uuid4()), "content": content, **extra},
        headers={"X-CSRFToken": csrf_of(page)},
    )
    assert resp.status == 201, resp.text()


def distance_from_bottom(page: Any) -> float:
    return page.evaluate(
        "(() => { const s = document.getElementById('messages-scroll');"
        " return s.scrollHeight - s.scrollTop - s.clientHeight; })()"
    )


def test_chat_follows_new_messages_past_images_and_offers_a_new_messages_button(
    app: Flask, factory: Any, open_user: Callable[..., Any], live_server: Any
) -> None:
    """Finding 2: images arriving (and loading late) keep a reader at the bottom there."""
    wes = factory.user(username="wes", first_name="Wes", password=TEST_PASSWORD)
    xia = factory.user(username="xia", first_name="Xia", password=TEST_PASSWORD)
    thread = factory.thread(wes, [xia], title="Screenshots")
    for i in range(30):
        factory.message(thread, wes, f"earlier line {i:02d}")
    pw = open_user(wes)
    px = open_user(xia, width=1280, height=700)

    # Every upload's bytes reach Xia's browser 800 ms late: the image loads after the scroll.
    def slow(route: Any) -> None:
        time.sleep(0.8)
        route.continue_()

    px.route(re.compile(r"/api/v1/uploads/"), slow)
    open_thread(px, "Screenshots")
    assert distance_from_bottom(px) <= 3

    csrf = csrf_of(pw)
    for n, (w, h) in enumerate([(640, 480), (300, 900), (800, 200), (500, 500)]):
        up = pw.request.post(
            f"{live_server.url}/api/v1/uploads",
            multipart={
                "file": {"name": f"shot{n}.png", "mimeType": "image/png", "buffer": png(w, h)}
            },
            headers={"X-CSRFToken": csrf},
        )
        assert up.status == 201, up.text()
        post_message(
            pw, live_server.url, thread.id, f"screenshot {n}", attachments=[{"id": up.json()["id"]}]
        )
        bubble(px, f"screenshot {n}").wait_for()
        img = bubble(px, f"screenshot {n}").locator("img")
        expect(img).to_have_js_property("complete", True, timeout=10_000)
        assert img.evaluate("i => i.naturalWidth") > 0  # decoded (the original or its thumbnail)
        box = img.bounding_box()
        assert abs(box["width"] / box["height"] - w / h) < 0.05, (box, w, h)  # not distorted
        assert box["width"] <= 256.5 and box["height"] <= 192.5
        assert img.get_attribute("width") and img.get_attribute("height")  # from the metadata
        px.wait_for_timeout(150)  # a frame or two after the load
        gap = distance_from_bottom(px)
        assert gap <= 3, f"after image {n} loaded the reader is {gap} px from the bottom"
    screenshot(px, "chat-desktop-images-followed")

    # The reader scrolls up to read: new messages do not yank them down, a button says so.
    px.locator("#messages-scroll").evaluate("s => { s.scrollTop = 0; }")
    px.wait_for_timeout(100)
    post_message(pw, live_server.url, thread.id, "are you still there?")
    bubble(px, "are you still there?").wait_for(state="attached")
    button = px.get_by_role("button", name=re.compile("new message", re.I))
    expect(button).to_be_visible()
    assert px.locator("#messages-scroll").evaluate("s => s.scrollTop") < 50
    screenshot(px, "chat-desktop-new-messages-button")
    button.click()
    expect(button).to_be_hidden()
    px.wait_for_function(
        "(() => { const s = document.getElementById('messages-scroll');"
        " return s.scrollHeight - s.scrollTop - s.clientHeight <= 3; })()"
    )
    expect(bubble(px, "are you still there?")).to_be_in_viewport()


CONTRAST = """el => {
  const rgba = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // The colour behind el: the first opaque-ish background up the tree, blended on white.
  let bg = null;
  for (let n = el; n; n = n.parentElement) {
    const c = rgba(getComputedStyle(n).backgroundColor);
    if (c.length === 4 && c[3] === 0) continue;
    bg = c.slice(0, 3);
    break;
  }
  if (!bg) bg = [255, 255, 255];
  const fg = rgba(getComputedStyle(el).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def contrast(locator: Any) -> float:
    return locator.evaluate(CONTRAST)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_jumped_to_message_is_readable(
    app: Flask,
    factory: Any,
    open_user: Callable[..., Any],
    browser: Any,
    live_server: Any,
    scheme: str,
) -> None:
    """Finding 3: the highlighted message's text has a contrast of 4.5:1 or more."""
    yan = factory.user(username="yan", first_name="Yan", password=TEST_PASSWORD)
    zed = factory.user(username="zed", first_name="Zed", password=TEST_PASSWORD)
    factory.user(role="moderator", username="mona", password=TEST_PASSWORD)
    thread = factory.thread(yan, [zed], title="Jumping")
    target = factory.message(thread, zed, "the message you land on")
    factory.message(thread, yan, "a reply", parent_id=target.id)
    mine = factory.message(thread, yan, "my own message")
    factory.message(thread, zed, "a reply to yours", parent_id=mine.id)

    # The dashboard thread page, opened ?around= the message (a search hit or "in context").
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.get_by_label("Username or email").fill("mona")
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/dashboard/")
        page.goto(
            f"{live_server.url}/dashboard/threads/{thread.id}?around={target.id}#m-{target.id}"
        )
        hit = page.locator(f"#m-{target.id}.is-target")
        expect(hit).to_have_count(1)
        text = hit.locator(".content").first
        ratio = contrast(text)
        screenshot(page, f"dashboard-thread-around-{scheme}")
        assert ratio >= 4.5, f"dashboard ?around= target: contrast {ratio:.2f}"
        meta = hit.locator(".message-meta").first
        assert contrast(meta) >= 4.5
    finally:
        context.close()

    # The chat page: following a reply's quote highlights the quoted message.
    py = open_user(yan)
    py.emulate_media(color_scheme=scheme)
    open_thread(py, "Jumping")
    for quote_of, body in (
        ("a reply", "the message you land on"),
        ("a reply to yours", "my own message"),
    ):
        bubble(py, quote_of).locator(".msg-parent").click()
        hit = bubble(py, body)
        expect(hit).to_have_class(re.compile("is-target"))
        ratio = contrast(hit.locator(".msg-body"))
        assert ratio >= 4.5, f"chat target {body!r}: contrast {ratio:.2f}"
        assert contrast(hit.locator(".msg-author")) >= 4.5
    screenshot(py, f"chat-desktop-jump-target-{scheme}")


def test_report_a_message_from_the_chat_page(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    """Finding 5: Report (not on one's own messages), a reason, by keyboard, lands in reports."""
    abe = factory.user(username="abe", first_name="Abe", password=TEST_PASSWORD)
    bea = factory.user(username="bea", first_name="Bea", password=TEST_PASSWORD)
    thread = factory.thread(abe, [bea], title="Marketplace")
    spam = factory.message(thread, abe, "Buy cheap watches at example.test")
    factory.message(thread, bea, "please stop")

    pb = open_user(bea)
    open_thread(pb, "Marketplace")
    assert bubble(pb, "please stop").get_by_role("button", name=re.compile("Report")).count() == 0
    report_btn = bubble(pb, "Buy cheap watches at example.test").get_by_role(
        "button", name="Report Abe's message"
    )
    expect(report_btn).to_be_visible()

    # Keyboard only: focus the button, Enter, an empty reason is refused with a message.
    report_btn.focus()
    pb.keyboard.press("Enter")
    reason = pb.get_by_label("Why are you reporting this message?")
    expect(reason).to_be_focused()
    pb.keyboard.press("Enter")  # in the field: submits the form
    expect(pb.locator("#report-error")).to_contain_text("reason")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0

    # Escape closes it, focus returns to the button; again, with a reason, sends it.
    pb.keyboard.press("Escape")
    expect(reason).to_be_hidden()
    expect(report_btn).to_be_focused()
    pb.keyboard.press("Enter")
    reason.fill("Spam: selling watches")
    screenshot(pb, "chat-desktop-report-dialog")
    pb.keyboard.press("Enter")
    expect(pb.locator("#chat-status")).to_contain_text("Report sent")
    expect(reason).to_be_hidden()
    with app.app_context():
        rows = db.session.execute(
            sa.select(Report.message_id, Report.reporter_id, Report.reason, Report.state)
        ).all()
    assert [tuple(r) for r in rows] == [(spam.id, bea.id, "Spam: selling watches", "open")]

    # A refused report says why, and keeps the form open to try again.
    pb.route(
        re.compile(r"/api/v1/messages/.*/reports"),
        lambda route: route.fulfill(
            status=404,
            content_type="application/json",
            body=json.dumps(
                {"error": {"code": "not_found", "message": "There is no such message."}}
            ),
        ),
    )
    report_btn.click()
    reason.fill("still spam")
    pb.get_by_role("button", name="Send report").click()
    expect(pb.locator("#report-error")).to_contain_text("There is no such message.")
    expect(reason).to_be_visible()


def test_empty_thread_says_so_in_the_middle(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    """Finding 13c: the empty state sits in the middle of the conversation, not at its bottom."""
    cal = factory.user(username="cal", first_name="Cal", password=TEST_PASSWORD)
    dee = factory.user(username="dee", first_name="Dee", password=TEST_PASSWORD)
    factory.thread(cal, [dee], title="Brand new")
    for size in ({"width": 1280, "height": 900}, PHONE):
        pc = open_user(cal, **size)
        open_thread(pc, "Brand new")
        note = pc.get_by_text("No messages yet. Say hello!")
        expect(note).to_be_visible()
        nb = note.bounding_box()
        sb = pc.locator("#messages-scroll").bounding_box()
        middle = sb["y"] + sb["height"] / 2
        assert abs(nb["y"] + nb["height"] / 2 - middle) <= sb["height"] * 0.15, (nb, sb)
        screenshot(pc, f"chat-{size['width']}-empty-thread")
        pc.context.close()


def test_a_blocked_send_or_edit_shows_the_servers_reason(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    """A watched word's `blocked`: the server's reason on the message and the composer; the
    text comes back to be changed; a blocked edit keeps the old text stored."""
    from dashboard.models import Message, User
    from dashboard.services import watched_words

    mod = factory.user(role="moderator")
    gus = factory.user(username="gus", first_name="Gus", password=TEST_PASSWORD)
    hal = factory.user(username="hal", first_name="Hal", password=TEST_PASSWORD)
    factory.thread(gus, [hal], title="Deals")
    with app.app_context():
        watched_words.add_rule(db.session.get(User, mod.id), "phrase", "free crypto", "block")
    pg = open_user(gus)
    open_thread(pg, "Deals")

    send(pg, "get free crypto now")
    failed = bubble(pg, "get free crypto now")
    expect(failed.locator(".msg-error")).to_have_text(re.compile(r"\S"))
    reason = failed.locator(".msg-error").inner_text()
    assert "not sent" in reason.lower()
    expect(pg.locator("#composer-error")).to_have_text(reason)
    assert failed.get_by_role("button", name="Retry sending this message").count() == 0
    screenshot(pg, "chat-desktop-blocked-send")
    failed.get_by_role("button", name="Edit this message and send it again").click()
    expect(failed).to_have_count(0)
    assert pg.input_value("#composer-input") == "get free crypto now"
    expect(pg.locator("#composer-input")).to_be_focused()
    pg.fill("#composer-input", "get a discount now")
    pg.press("#composer-input", "Enter")
    wait_status(pg, "get a discount now", "sent")

    # A blocked edit: the reason shows, the composer keeps the edit, the stored text is unchanged.
    bubble(pg, "get a discount now").get_by_role("button", name="Edit your message").click()
    pg.fill("#composer-input", "get a discount now, or free crypto")
    pg.press("#composer-input", "Enter")
    expect(pg.locator("#composer-error")).to_contain_text("blocked")
    assert pg.input_value("#composer-input") == "get a discount now, or free crypto"
    assert bubble(pg, "get a discount now").count() == 1
    with app.app_context():
        assert db.session.scalars(sa.select(Message.content)).all() == ["get a discount now"]
