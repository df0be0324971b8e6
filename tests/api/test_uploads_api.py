"""Uploads: sniffed types, size limit, random names, access, and safe serving headers."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image


def _image(fmt: str) -> bytes:
    """A real 24 x 16 image in `fmt` (types come from Pillow opening the bytes)."""
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")
GIF = _image("GIF")
WEBP = _image("WEBP")
HTML = b"<html><script>alert(1)</script></html>"


def _upload(api, user, data, name="file.bin"):
    return api.post(
        "/uploads",
        user,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("data", "name", "kind", "mime"),
    [
        (PNG, "photo.txt", "image", "image/png"),
        (JPEG, "a.jpg", "image", "image/jpeg"),
        (GIF, "a.gif", "image", "image/gif"),
        (WEBP, "a.webp", "image", "image/webp"),
        (HTML, "evil.png", "file", "application/octet-stream"),
        (b"%PDF-1.7\n", "doc.pdf", "file", "application/pdf"),
    ],
)
def test_type_is_sniffed_from_the_bytes(api, factory, app, data, name, kind, mime):
    alice = factory.user()
    resp = _upload(api, alice, data, name)
    assert resp.status_code == 201
    att = resp.get_json()
    assert (att["type"], att["mimeType"], att["size"]) == (kind, mime, len(data))
    assert att["url"] == f"/api/v1/uploads/{att['id']}"
    stored = sorted(os.listdir(app.config["UPLOAD_DIR"]))
    assert name not in stored[0] and len(stored[0]) >= 24
    # An image has its thumbnail beside it; a file is alone.
    assert stored[1:] == ([stored[0] + ".thumb"] if kind == "image" else [])


def test_too_large_is_413_and_stores_nothing(api, factory, app):
    app.config["MAX_UPLOAD_BYTES"] = 2048
    alice = factory.user()
    resp = _upload(api, alice, b"x" * 4096)
    assert resp.status_code == 413
    assert resp.get_json()["error"]["code"] == "payload_too_large"
    folder = app.config["UPLOAD_DIR"]
    assert not os.path.exists(folder) or os.listdir(folder) == []


def test_request_over_max_content_length_is_json_413(api, factory, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    alice = factory.user()
    resp = _upload(api, alice, b"x" * 4096)
    assert resp.status_code == 413
    assert resp.get_json()["error"]["code"] == "payload_too_large"


def test_missing_file_is_422(api, factory):
    resp = api.post("/uploads", factory.user(), data={}, content_type="multipart/form-data")
    assert resp.status_code == 422


def test_served_to_uploader_and_participants_only_with_safe_headers(api, factory):
    alice, bob, eve = factory.user(), factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    img = _upload(api, alice, PNG, "p.png").get_json()
    doc = _upload(api, alice, HTML, "evil.html").get_json()
    # Before it is sent, only the uploader sees it.
    assert api.get(img["url"][len("/api/v1") :], alice).status_code == 200
    assert api.get(img["url"][len("/api/v1") :], bob).status_code == 404
    sent = api.post(
        f"/threads/{thread.id}/messages",
        alice,
        json={"content": "", "attachments": [{"id": img["id"]}, {"id": doc["id"]}]},
    )
    assert sent.status_code == 201
    assert [a["id"] for a in sent.get_json()["attachments"]] == sorted([img["id"], doc["id"]])

    resp = api.get(f"/uploads/{img['id']}", bob)
    assert resp.status_code == 200 and resp.data == PNG
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"] == "inline"
    resp = api.get(f"/uploads/{doc['id']}", bob)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/octet-stream")
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert api.get(f"/uploads/{img['id']}", eve).status_code == 404
    # An upload can be attached once, by its uploader only.
    again = api.post(
        f"/threads/{thread.id}/messages", alice, json={"attachments": [{"id": img["id"]}]}
    )
    assert again.status_code == 422
    theirs = _upload(api, eve, PNG).get_json()
    stolen = api.post(
        f"/threads/{thread.id}/messages", alice, json={"attachments": [{"id": theirs["id"]}]}
    )
    assert stolen.status_code == 422
