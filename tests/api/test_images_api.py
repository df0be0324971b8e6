"""Images and files through the API, with real files: thumbnails made at upload time (upright,
no metadata), dimensions in the metadata (CONTRACTS.md), the decompression-bomb limit, MIME
types from an allow-list (finding 13e), and staff reading attachments of threads they are not
in (finding 4), audited for support."""

from __future__ import annotations

import io
import os

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Attachment, AuditLog
from dashboard.services import uploads
from tests.images import BLUE, RED, bomb_png, jpeg_rotated, open_image, png


def _upload(api, user, data, name):
    return api.post(
        "/uploads",
        user,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _sent(api, factory, data, name):
    """An end user's thread holding one message with this upload; (owner, thread, attachment)."""
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    att = _upload(api, alice, data, name).get_json()
    resp = api.post(
        f"/threads/{thread.id}/messages", alice, json={"content": "", "attachments": [att]}
    )
    assert resp.status_code == 201
    return alice, thread, att


def _close(rgb, want, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=False))


def test_jpeg_with_exif_orientation_6_gets_an_upright_thumbnail_without_metadata(api, factory):
    alice = factory.user()
    resp = _upload(api, alice, jpeg_rotated(800, 600, 6), "IMG_0001.JPG")
    assert resp.status_code == 201
    att = resp.get_json()
    assert (att["type"], att["mimeType"]) == ("image", "image/jpeg")
    meta = att["metadata"]
    # Stored 800 x 600, shown turned a quarter: 600 wide, 800 high.
    assert (meta["width"], meta["height"]) == (600, 800)
    thumb = meta["thumbnail"]
    assert thumb == {"url": f"/api/v1/uploads/{att['id']}/thumbnail", "width": 240, "height": 320}
    assert meta["name"] == "IMG_0001.JPG"

    got = api.get(f"/uploads/{att['id']}/thumbnail", alice)
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "image/jpeg"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"] == "inline"
    im = open_image(got.data)
    assert im.size == (240, 320)
    # Upright: the stored left half (red) is now the top.
    assert _close(im.getpixel((120, 40)), RED) and _close(im.getpixel((120, 280)), BLUE)
    assert not im.getexif() and "exif" not in im.info and "icc_profile" not in im.info
    assert b"SecretCam" not in got.data and b"Exif" not in got.data
    # The original is served as it was sent.
    orig = api.get(f"/uploads/{att['id']}", alice)
    assert orig.status_code == 200 and b"SecretCam" in orig.data


def test_png_thumbnail_keeps_transparency_and_drops_text_chunks(api, factory):
    alice = factory.user()
    att = _upload(api, alice, png(1000, 500, alpha=True), "shot.png").get_json()
    assert (att["type"], att["mimeType"]) == ("image", "image/png")
    assert (att["metadata"]["width"], att["metadata"]["height"]) == (1000, 500)
    assert att["metadata"]["thumbnail"]["width"] == 320
    assert att["metadata"]["thumbnail"]["height"] == 160
    got = api.get(f"/uploads/{att['id']}/thumbnail", alice)
    assert got.headers["Content-Type"] == "image/png"
    im = open_image(got.data)
    assert im.mode == "RGBA" and im.size == (320, 160)
    assert b"secret-png-comment" not in got.data and not im.text  # type: ignore[attr-defined]

    small = _upload(api, alice, png(40, 30), "small.png").get_json()
    assert small["metadata"]["thumbnail"] | {"url": ""} == {"url": "", "width": 40, "height": 30}


def test_a_decompression_bomb_is_refused_with_nothing_stored(api, factory, app):
    alice = factory.user()
    # Over our limit (40 Mpx by default) but under Pillow's own: our check, with the size.
    resp = _upload(api, alice, bomb_png(8000, 6000), "huge.png")
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "validation_failed"
    assert err["details"]["fields"] == {"file": "too_many_pixels"}
    assert (err["details"]["width"], err["details"]["height"]) == (8000, 6000)
    assert "8000 x 6000" in err["message"]
    # Far over Pillow's limit too (the 50,000² classic).
    resp = _upload(api, alice, bomb_png(50_000, 50_000), "bomb.png")
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"]["fields"] == {"file": "too_many_pixels"}
    app.config["MAX_IMAGE_PIXELS"] = 100 * 100
    assert _upload(api, alice, png(101, 100), "p.png").status_code == 422
    assert _upload(api, alice, png(100, 100), "p.png").status_code == 201
    folder = app.config["UPLOAD_DIR"]
    assert len(os.listdir(folder)) == 2  # the last one and its thumbnail, nothing else
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 1


def test_txt_is_text_plain_and_served_as_a_download(api, factory):
    """Finding 13e: a .txt upload was labelled application/octet-stream."""
    _, _, att = _sent(api, factory, "Order A-1042: refund ✓\r\n".encode() * 50, "notes.txt")
    assert (att["type"], att["mimeType"]) == ("file", "text/plain")
    assert "thumbnail" not in att["metadata"] and "width" not in att["metadata"]
    owner = factory.user()  # not in the thread
    assert api.get(f"/uploads/{att['id']}", owner).status_code == 404
    with_owner = _sent(api, factory, b"plain words\n", "readme.txt")
    got = api.get(f"/uploads/{with_owner[2]['id']}", with_owner[0])
    assert got.status_code == 200 and got.data == b"plain words\n"
    assert got.headers["Content-Type"].startswith("text/plain")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert api.get(f"/uploads/{with_owner[2]['id']}/thumbnail", with_owner[0]).status_code == 404


def test_mime_types_come_from_an_allow_list_and_the_bytes(api, factory):
    alice = factory.user()
    cases = [
        (b"a,b\n1,2\n", "t.csv", "file", "text/csv"),
        (b'{"a": 1}', "d.json", "file", "application/json"),
        (b"# Notes\n", "n.md", "file", "text/markdown"),
        (b"\x00\x01\x02binary", "fake.txt", "file", "application/octet-stream"),
        (b"\xff\xfe\xfdnot utf-8", "bad.txt", "file", "application/octet-stream"),
        (b"<html><script>alert(1)</script></html>", "x.html", "file", "application/octet-stream"),
        (b"<svg onload=alert(1)>", "x.svg", "file", "application/octet-stream"),
        (b"%PDF-1.7\n", "doc.bin", "file", "application/pdf"),
        (b"PK\x03\x04rest", "a.zip", "file", "application/zip"),
        (b"not a zip", "a.zip", "file", "application/octet-stream"),
        (png(20, 10), "photo.txt", "image", "image/png"),  # the bytes win over the name
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken.png", "file", "application/octet-stream"),
    ]
    for data, name, kind, mime in cases:
        att = _upload(api, alice, data, name).get_json()
        assert (att["type"], att["mimeType"]) == (kind, mime), name


def test_staff_see_attachments_of_threads_they_are_not_in_and_support_is_audited(api, factory, app):
    """Finding 4: /api/v1/uploads/<id> answered 404 to moderators and support."""
    _, thread, img = _sent(api, factory, jpeg_rotated(), "p.jpg")
    _, _, doc = _sent(api, factory, b"some text\n", "log.txt")
    support, mod = factory.user(role="support"), factory.user(role="moderator")
    outsider = factory.user()
    for staffer in (support, mod):
        for path in (f"/uploads/{img['id']}", f"/uploads/{img['id']}/thumbnail"):
            assert api.get(path, staffer).status_code == 200, (staffer.role, path)
        assert api.get(f"/uploads/{doc['id']}", staffer).status_code == 200
    for path in (f"/uploads/{img['id']}", f"/uploads/{img['id']}/thumbnail"):
        assert api.get(path, outsider).status_code == 404
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(AuditLog)
                .where(AuditLog.action == "attachment.view")
                .order_by(AuditLog.created_at, AuditLog.id)
            )
        )
    # Support opening the two originals: two rows; thumbnails and the moderator: none.
    assert [(r.actor_id, r.target_type, r.target_id) for r in rows] == [
        (support.id, "attachment", img["id"]),
        (support.id, "attachment", doc["id"]),
    ]
    assert rows[0].details["threadId"] == thread.id and rows[0].details["messageId"]
    # An upload not sent yet stays its uploader's alone, staff included.
    pending = _upload(api, factory.user(), png(10, 10), "p.png").get_json()
    assert api.get(f"/uploads/{pending['id']}", mod).status_code == 404
    assert api.get(f"/uploads/{pending['id']}/thumbnail", support).status_code == 404


def test_support_in_their_own_thread_is_not_audited(api, factory, app):
    support, alice = factory.user(role="support"), factory.user()
    thread = factory.thread(alice, [support])
    att = _upload(api, alice, png(50, 50), "p.png").get_json()
    api.post(f"/threads/{thread.id}/messages", alice, json={"attachments": [{"id": att["id"]}]})
    assert api.get(f"/uploads/{att['id']}", support).status_code == 200
    with app.app_context():
        assert not db.session.scalar(
            sa.select(sa.func.count()).where(AuditLog.action == "attachment.view")
        )


def test_an_image_stored_before_thumbnails_gets_one_on_first_request(api, factory, app):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    msg = factory.message(thread, alice, "old image")
    folder = app.config["UPLOAD_DIR"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "legacyimage"), "wb") as f:
        f.write(png(640, 320))
    old = factory.attachment(
        msg, alice, type="image", url="/pending", storage_name="legacyimage", mime_type="image/png"
    )
    with app.app_context():
        db.session.execute(
            sa.update(Attachment)
            .where(Attachment.id == old.id)
            .values(url=f"/api/v1/uploads/{old.id}")
        )
        db.session.commit()
    got = api.get(f"/uploads/{old.id}/thumbnail", bob)
    assert got.status_code == 200 and open_image(got.data).size == (320, 160)
    with app.app_context():
        meta = db.session.get(Attachment, old.id).meta
    assert meta["width"] == 640
    assert meta["thumbnail"]["url"] == f"/api/v1/uploads/{old.id}/thumbnail"


def test_fill_image_metadata_gives_stored_images_their_thumbnails(api, factory, app):
    """What the seed runs after writing its demo images."""
    alice = factory.user()
    msg = factory.message(factory.thread(alice, []), alice, "old")
    folder = app.config["UPLOAD_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name, data in (("okimage", png(64, 48)), ("notimage", b"garbage")):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    ok = factory.attachment(msg, alice, type="image", url="/u/ok", storage_name="okimage")
    bad = factory.attachment(msg, alice, type="image", url="/u/bad", storage_name="notimage")
    done = _upload(api, alice, png(10, 10), "done.png").get_json()
    with app.app_context():
        assert uploads.fill_image_metadata() == 1
        assert uploads.fill_image_metadata() == 0  # nothing left to do
        meta = db.session.get(Attachment, ok.id).meta
        assert db.session.get(Attachment, bad.id).meta == {}
        assert db.session.get(Attachment, done["id"]).meta == done["metadata"]
    assert (meta["width"], meta["height"]) == (64, 48)
    assert meta["thumbnail"] == {
        "url": f"/api/v1/uploads/{ok.id}/thumbnail",
        "width": 64,
        "height": 48,
    }
    assert os.path.isfile(os.path.join(folder, "okimage.thumb"))
