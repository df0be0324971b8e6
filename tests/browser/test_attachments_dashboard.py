"""Finding 4 in Chromium: staff reading a thread they are not in see its images and files.

The images are real uploads (a JPEG turned by its EXIF orientation, a PNG) and a .txt file,
stored by the upload service. The thread page must show each image as its thumbnail (never the
original), with width and height attributes, loaded (naturalWidth > 0), and its file link must
answer; a support agent's opening of an original is audited, their thumbnails are not.
"""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Attachment, AuditLog
from dashboard.services import uploads
from tests.conftest import TEST_PASSWORD, screenshot
from tests.images import jpeg_rotated, png

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


@pytest.fixture
def thread_with_files(app, factory):
    """Two end users' thread with one message holding a JPEG, a PNG and a .txt."""
    ann, ben = factory.user(username="ann_img"), factory.user(username="ben_img")
    thread = factory.thread(ann, [ben], title="Photos of the broken parcel")
    msg = factory.message(thread, ann, "here are the photos")
    ids = []
    with app.app_context():
        from dashboard.models import User

        uploader = db.session.get(User, ann.id)
        for data, name in (
            (jpeg_rotated(1600, 1200, 6), "parcel.jpg"),
            (png(900, 300), "label.png"),
            (b"Tracking: ZX-1042\n", "tracking.txt"),
        ):
            att = uploads.save_upload(
                uploader, io.BytesIO(data), name, lambda i: f"/api/v1/uploads/{i}"
            )
            ids.append(att["id"])
        db.session.execute(
            sa.update(Attachment).where(Attachment.id.in_(ids)).values(message_id=msg.id)
        )
        db.session.commit()
    return thread, ids


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/dashboard/?$"))


def _settled(imgs) -> None:
    """Wait until every image has loaded or failed (a broken image fails, it does not hang)."""
    imgs.evaluate_all(
        """imgs => Promise.all(imgs.map(i => i.complete ? true : new Promise(done => {
             i.addEventListener('load', done); i.addEventListener('error', done); })))"""
    )


def _check_thread_page(page, base: str, thread, ids: list[str], shot: str) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{base}/dashboard/threads/{thread.id}")
    imgs = page.locator(".attachment-image img")
    assert imgs.count() == 2
    _settled(imgs)
    got = imgs.evaluate_all(
        """imgs => imgs.map(i => ({src: i.getAttribute('src'), w: i.getAttribute('width'),
             h: i.getAttribute('height'), nw: i.naturalWidth, nh: i.naturalHeight,
             bw: i.getBoundingClientRect().width, bh: i.getBoundingClientRect().height}))"""
    )
    assert [g["nw"] > 0 for g in got] == [True, True], got  # loaded, not broken
    jpeg, label = got
    # The JPEG: stored 1600 x 1200 and turned, so its thumbnail is 240 x 320 (upright).
    assert jpeg["src"] == f"/api/v1/uploads/{ids[0]}/thumbnail"
    assert (jpeg["w"], jpeg["h"], jpeg["nw"], jpeg["nh"]) == ("240", "320", 240, 320)
    assert label["src"] == f"/api/v1/uploads/{ids[1]}/thumbnail"
    assert (label["w"], label["h"], label["nw"], label["nh"]) == ("320", "107", 320, 107)
    # Shown at its attribute size: the box was right before the image arrived.
    assert abs(jpeg["bw"] - 240) <= 2 and abs(jpeg["bh"] - 320) <= 2  # give or take its border
    # The thumbnails were fetched, the originals never (they open from the link).
    for att_id in ids[:2]:
        assert f"{base}/api/v1/uploads/{att_id}/thumbnail" in requested
        assert f"{base}/api/v1/uploads/{att_id}" not in requested
    links = page.locator(".attachment-image a")
    assert links.first.get_attribute("href") == f"/api/v1/uploads/{ids[0]}"
    # The file's link is alive, as text/plain, a download.
    file_link = page.locator(".attachment-file a", has_text="tracking.txt")
    assert file_link.get_attribute("href") == f"/api/v1/uploads/{ids[2]}"
    assert page.locator(".attachment-file", has_text="text/plain").count() == 1
    resp = page.request.get(f"{base}/api/v1/uploads/{ids[2]}")
    assert resp.status == 200 and resp.body() == b"Tracking: ZX-1042\n"
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.headers["content-disposition"].startswith("attachment")
    screenshot(page, shot)


def test_moderator_sees_thumbnails_and_files_of_a_thread_they_are_not_in(
    app, live_server, page, factory, thread_with_files
):
    factory.user(role="moderator", password=TEST_PASSWORD, username="mod_img")
    thread, ids = thread_with_files
    _login(page, live_server.url, "mod_img")
    _check_thread_page(page, live_server.url, thread, ids, "thread-attachments-moderator")


def test_support_sees_them_too_and_opening_an_original_is_audited(
    app, live_server, page, factory, thread_with_files
):
    support = factory.user(role="support", password=TEST_PASSWORD, username="sup_img")
    thread, ids = thread_with_files
    base = live_server.url
    _login(page, base, "sup_img")
    _check_thread_page(page, base, thread, ids, "thread-attachments-support")
    page.reload()
    _settled(page.locator(".attachment-image img"))
    with app.app_context():
        views = list(
            db.session.scalars(
                sa.select(AuditLog.target_id).where(
                    AuditLog.action == "attachment.view", AuditLog.actor_id == support.id
                )
            )
        )
    assert views == [ids[2]]  # the .txt fetched above; two page views of thumbnails: no rows
    # Opening the photo: its original, upright in the browser, and one audit row.
    page.locator(".attachment-image a").first.click()
    page.wait_for_url(f"{base}/api/v1/uploads/{ids[0]}")
    size = page.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]")
    assert size == [1200, 1600]
    with app.app_context():
        row = db.session.scalars(
            sa.select(AuditLog).where(
                AuditLog.action == "attachment.view", AuditLog.target_id == ids[0]
            )
        ).one()
        assert row.actor_id == support.id and row.details["threadId"] == thread.id
