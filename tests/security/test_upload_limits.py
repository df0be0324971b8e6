"""Uploads are limited per user and day, by count and by bytes; unattached ones are purged."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Attachment, utcnow
from tests.api.tokens import bearer

PER_DAY = 3
BYTES_PER_DAY = 8192


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Small daily allowances, so the tests reach them."""
    app_config.update(UPLOADS_PER_DAY=PER_DAY, UPLOAD_BYTES_PER_DAY=BYTES_PER_DAY)
    return app_config


def upload(client, user, size: int = 100, name: str = "notes.txt"):  # type: ignore[no-untyped-def]
    data = {"file": (io.BytesIO(b"x" * size), name)}
    return client.post(
        "/api/v1/uploads", data=data, content_type="multipart/form-data", headers=bearer(user)
    )


def stored_files(app) -> int:  # type: ignore[no-untyped-def]
    folder = app.config["UPLOAD_DIR"]
    return len(os.listdir(folder)) if os.path.isdir(folder) else 0


def rows(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) or 0


def test_uploads_are_limited_by_count_per_user_and_day(app, client, factory):
    alice, bob = factory.user(), factory.user()
    assert [upload(client, alice).status_code for _ in range(PER_DAY)] == [201] * PER_DAY
    resp = upload(client, alice)
    assert resp.status_code == 429
    assert resp.get_json()["error"]["code"] == "rate_limited"
    assert stored_files(app) == PER_DAY and rows(app) == PER_DAY
    assert upload(client, bob).status_code == 201  # each user has their own allowance


def test_uploads_are_limited_by_bytes_per_day_and_a_refused_file_leaves_nothing(
    app, client, factory
):
    alice = factory.user()
    assert upload(client, alice, 6000).status_code == 201
    resp = upload(client, alice, 4000)  # 10,000 bytes would pass the 8,192 of the day
    assert resp.status_code == 429 and resp.get_json()["error"]["code"] == "rate_limited"
    assert stored_files(app) == 1 and rows(app) == 1
    assert upload(client, alice, 2000).status_code == 201  # what is left still fits


def test_the_allowance_is_a_rolling_day(app, client, factory):
    alice = factory.user()
    for _ in range(PER_DAY):
        assert upload(client, alice).status_code == 201
    with app.app_context():
        db.session.execute(sa.update(Attachment).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    assert upload(client, alice).status_code == 201


def test_a_file_over_the_per_file_limit_is_413_not_429(app_config, factory):
    from dashboard import create_app

    app = create_app({**app_config, "MAX_UPLOAD_BYTES": 2048, "UPLOAD_BYTES_PER_DAY": 1 << 20})
    resp = upload(app.test_client(), factory.user(), 4096)
    assert resp.status_code == 413


def make_upload(app, factory, user, *, age_hours: float, attached: bool = False):  # type: ignore[no-untyped-def]
    """An uploaded file on disk and its row, `age_hours` old, sent with a message or not."""
    name = f"stored-{age_hours}-{attached}-{user.id[-6:]}"
    folder = app.config["UPLOAD_DIR"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(b"data")
    message_id = None
    if attached:
        message_id = factory.message(factory.thread(user), user, "with a file").id
    with app.app_context():
        att = Attachment(
            uploader_id=user.id,
            message_id=message_id,
            type="file",
            url="/api/v1/uploads/x",
            size=4,
            storage_name=name,
            created_at=utcnow() - timedelta(hours=age_hours),
            meta={},
        )
        db.session.add(att)
        db.session.commit()
        return att.id, name


def exists(app, att_id: str, name: str) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    with app.app_context():
        row = db.session.get(Attachment, att_id) is not None
    return row, os.path.exists(os.path.join(app.config["UPLOAD_DIR"], name))


def test_purge_uploads_removes_only_old_unattached_uploads(app, runner, factory):
    user = factory.user()
    old = make_upload(app, factory, user, age_hours=30)
    recent = make_upload(app, factory, user, age_hours=2)
    sent = make_upload(app, factory, user, age_hours=30, attached=True)

    dry = runner.invoke(args=["chatdesk", "purge-uploads", "--dry-run"])
    assert dry.exit_code == 0 and "Would remove 1 unattached upload(s), 4 bytes" in dry.output
    assert exists(app, *old) == (True, True)

    result = runner.invoke(args=["chatdesk", "purge-uploads"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 unattached upload(s), 4 bytes, older than 24 h." in result.output
    assert exists(app, *old) == (False, False)
    assert exists(app, *recent) == (True, True)
    assert exists(app, *sent) == (True, True)

    again = runner.invoke(args=["chatdesk", "purge-uploads", "--older-than-hours", "1"])
    assert "Removed 1 unattached" in again.output  # the recent one, with a shorter grace
    assert exists(app, *recent) == (False, False) and exists(app, *sent) == (True, True)


def test_purge_uploads_copes_with_a_file_already_gone(app, runner, factory):
    user = factory.user()
    att_id, name = make_upload(app, factory, user, age_hours=48)
    os.remove(os.path.join(app.config["UPLOAD_DIR"], name))
    result = runner.invoke(args=["chatdesk", "purge-uploads"])
    assert result.exit_code == 0 and "Removed 1" in result.output
    assert exists(app, att_id, name) == (False, False)


def test_purge_uploads_rejects_a_bad_grace(runner):
    result = runner.invoke(args=["chatdesk", "purge-uploads", "--older-than-hours", "0"])
    assert result.exit_code == 2 and "older-than-hours" in result.output
