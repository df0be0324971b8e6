"""A user's export (the seed's shapes) and erasure (nothing personal left), on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Message, User
from dashboard.services import search as search_service
from dashboard.services.lifecycle import erasure
from tests.api.tokens import CLERK_CONFIG, bearer
from tests.conftest import get_csrf
from tests.test_serializers import ATTACHMENT_FIELDS, MESSAGE_FIELDS, THREAD_FIELDS, USER_FIELDS

from .data import PERSONAL, index_hits, snapshot, world

SUMMARY_FIELDS = {"id", "username", "firstName", "lastName", "imageUrl"}
REPORT_FIELDS = {
    "id",
    "messageId",
    "reporterId",
    "reason",
    "state",
    "resolverId",
    "resolutionNote",
    "createdAt",
    "resolvedAt",
}
AUDIT_FIELDS = {
    "id",
    "actorId",
    "action",
    "targetType",
    "targetId",
    "reason",
    "details",
    "createdAt",
}


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Batches of two rows, so even this small world takes several transactions."""
    app_config.update(CLERK_CONFIG, LIFECYCLE_BATCH_SIZE=2)
    return app_config


@pytest.fixture
def w(app, factory):  # type: ignore[no-untyped-def]
    return world(app, factory)


def staff_search(app, staff, query: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        viewer = db.session.get(User, staff.id)
        return len(search_service.search(viewer, query, all_threads=True, limit=50).items)


def check_shapes(doc: dict[str, Any]) -> None:
    assert set(doc) == {"user", "threads", "messages", "reports", "auditLog"}
    assert set(doc["user"]) == USER_FIELDS
    for t in doc["threads"]:
        assert set(t) == THREAD_FIELDS
        for p in t["participants"]:
            assert set(p) == SUMMARY_FIELDS
    for m in doc["messages"]:
        assert set(m) == MESSAGE_FIELDS
        assert set(m["user"]) == SUMMARY_FIELDS
        for a in m["attachments"]:
            assert set(a) == ATTACHMENT_FIELDS
    for r in doc["reports"]:
        assert set(r) == REPORT_FIELDS
    for a in doc["auditLog"]:
        assert set(a) == AUDIT_FIELDS


def test_export_user_cli_is_one_document_in_the_seed_shapes(app, runner, w, monkeypatch):
    from dashboard.services.lifecycle import user_export

    monkeypatch.setattr(user_export, "BATCH", 2)  # several keyset batches per list
    result = runner.invoke(args=["chatdesk", "export-user", "zebulonxq"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    check_shapes(doc)
    assert doc["user"]["email"] == "zebulon.unique@example.test"
    assert {t["title"] for t in doc["threads"]} == {"Plans", "Notes to self"}
    contents = [m["content"] for m in doc["messages"]]
    assert contents == [
        "my xylophonequartz idea",
        "marzipanblimp with @olga",
        "xylophonequartz diary",
        "marzipanblimp again, mail zebulon.unique@example.test",
    ]  # theirs only, oldest first
    by_content = {m["content"]: m for m in doc["messages"]}
    assert by_content["marzipanblimp with @olga"]["mentions"] == [w.olga.id]
    assert by_content["marzipanblimp with @olga"]["attachments"][0]["mimeType"] == "application/pdf"
    assert by_content["my xylophonequartz idea"]["attachments"][0]["type"] == "link"
    assert [r["reason"] for r in doc["reports"]] == ["vortexmango says olga is rude"]
    actions = [a["action"] for a in doc["auditLog"]]
    assert actions == ["user.deactivate", "user.export"]  # about them, the export included
    # The same id, username or email all name the user.
    by_email = runner.invoke(args=["chatdesk", "export-user", "ZEBULON.unique@example.test"])
    assert json.loads(by_email.output)["user"]["id"] == w.zed.id
    missing = runner.invoke(args=["chatdesk", "export-user", "nobody"])
    assert missing.exit_code != 0 and "No such user" in missing.output


def test_admin_downloads_the_export_from_the_user_page(app, client, login_as, w):
    admin = login_as("admin")
    page = client.get(f"/dashboard/users/{w.zed.id}").get_data(as_text=True)
    assert "Export zebulonxq" in page and "Erase zebulonxq" in page
    csrf = get_csrf(client, f"/dashboard/users/{w.zed.id}")
    resp = client.post(f"/dashboard/users/{w.zed.id}/export", data={"csrf_token": csrf})
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    doc = json.loads(resp.get_data(as_text=True))
    check_shapes(doc)
    assert len(doc["messages"]) == 4
    with app.app_context():
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.export"))
        assert row.actor_id == admin.id and row.target_id == w.zed.id
    assert client.post(f"/dashboard/users/{w.zed.id}/export").status_code == 400  # no CSRF


def test_moderators_cannot_export_or_erase(app, client, login_as, w):
    login_as("moderator")
    page = client.get(f"/dashboard/users/{w.zed.id}").get_data(as_text=True)
    assert "Erase" not in page
    csrf = get_csrf(client, f"/dashboard/users/{w.zed.id}")
    data = {"csrf_token": csrf, "reason": "x", "confirm": "zebulonxq"}
    assert client.post(f"/dashboard/users/{w.zed.id}/export", data=data).status_code == 403
    assert client.post(f"/dashboard/users/{w.zed.id}/erase", data=data).status_code == 403
    with app.app_context():
        assert db.session.get(User, w.zed.id).erased_at is None


def test_erasure_leaves_nothing_personal_and_keeps_everyone_elses_data(app, runner, client, w):
    with app.app_context():
        assert index_hits("xylophonequartz") == 2
        assert index_hits("zebulon.unique@example.test") == 1
        others_before = _others(w)
    assert staff_search(app, w.mod, "xylophonequartz") == 2

    result = runner.invoke(args=["chatdesk", "erase-user", "zebulonxq", "--reason", "asked to"])
    assert result.exit_code == 0, result.output
    assert "4 messages blanked" in result.output

    with app.app_context():
        dump = json.dumps(snapshot())
        for text in PERSONAL:
            assert text.lower() not in dump.lower(), text
        for word in ("xylophonequartz", "marzipanblimp", "zebulon.unique@example.test"):
            assert index_hits(word) == 0, word
        user = db.session.get(User, w.zed.id)
        assert not user.is_active and user.password_hash is None
        assert user.username == erasure.neutral_username(w.zed.id)
        assert _others(w) == others_before  # Olga, her messages, files, threads: unchanged
        [row] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "user.erase"))
        assert (row.target_id, row.reason, row.actor_id) == (w.zed.id, "asked to", None)
        assert row.details["actor"] == "cli"
    for word in ("xylophonequartz", "marzipanblimp", '"zebulon.unique@example.test"'):
        assert staff_search(app, w.mod, word) == 0
    assert not any(f.exists() for f in w.files)
    assert w.olga_file.exists()

    # Olga still sees the thread, with Zebulon's messages shown as erased.
    resp = client.get(f"/api/v1/threads/{w.shared.id}/messages", headers=bearer(w.olga))
    items = {m["id"]: m for m in resp.get_json()["items"]}
    assert len(items) == 4
    assert items[w.z1.id]["content"] == "" and items[w.z1.id]["metadata"] == {"removed": "erased"}
    assert items[w.z2.id]["attachments"] == [] and items[w.z2.id]["mentions"] == []
    assert items[w.o1.id]["content"] == "olga answers politely"
    assert items[w.o1.id]["parentId"] == w.z1.id

    # A second run changes nothing at all.
    with app.app_context():
        before = snapshot()
    again = runner.invoke(args=["chatdesk", "erase-user", w.zed.id, "--reason", "again"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    with app.app_context():
        assert snapshot() == before


def _others(w) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Everything that is not the erased user's: rows that must not change."""
    snap = snapshot()
    return {
        "users": [r for r in snap["users"] if r[0] != w.zed.id],
        "threads": snap["threads"],
        "participants": snap["participants"],
        "messages": [r for r in snap["messages"] if w.zed.id not in r],
        "attachments": [r for r in snap["attachments"] if w.zed.id not in r],
        "audit_log": [r for r in snap["audit_log"] if r[2] != "user.erase"],  # the trail stays
        "reports": [r for r in snap["reports"] if w.zed.id not in r],
    }


def test_an_interrupted_erasure_is_finished_by_running_it_again(app, runner, w, monkeypatch):
    real = erasure._erase_message_batch
    calls = {"n": 0}

    def crash_after_one(*args: Any, **kw: Any):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the process was killed")
        return real(*args, **kw)

    monkeypatch.setattr(erasure, "_erase_message_batch", crash_after_one)
    with app.app_context(), pytest.raises(RuntimeError):
        erasure.erase_user(w.zed.id, actor=None, reason="asked", via="cli")
    with app.app_context():
        db.session.rollback()
        left = db.session.scalar(
            sa.select(sa.func.count()).where(
                Message.user_id == w.zed.id, Message.erased_at.is_(None)
            )
        )
        assert left == 2  # the first batch of two was committed, the rest not
    monkeypatch.setattr(erasure, "_erase_message_batch", real)
    result = runner.invoke(args=["chatdesk", "erase-user", w.zed.id, "--reason", "asked"])
    assert result.exit_code == 0 and "2 messages blanked" in result.output
    with app.app_context():
        dump = json.dumps(snapshot()).lower()
        assert not any(text.lower() in dump for text in PERSONAL)
        erase_rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "user.erase"))
        assert len(list(erase_rows)) == 1  # one audit row for the whole erasure


def test_admin_erases_from_the_user_page_with_a_typed_confirmation(app, client, login_as, w):
    admin = login_as("admin")
    url = f"/dashboard/users/{w.zed.id}/erase"
    csrf = get_csrf(client, f"/dashboard/users/{w.zed.id}")
    resp = client.post(url, data={"csrf_token": csrf, "reason": "asked", "confirm": "zebulon"})
    assert resp.status_code == 422
    assert "Type zebulonxq to confirm." in resp.get_data(as_text=True)
    resp = client.post(url, data={"csrf_token": csrf, "reason": " ", "confirm": "zebulonxq"})
    assert resp.status_code == 422 and "Give a reason." in resp.get_data(as_text=True)
    assert client.post(url, data={"reason": "asked", "confirm": "zebulonxq"}).status_code == 400
    with app.app_context():
        assert db.session.get(User, w.zed.id).erased_at is None  # nothing happened yet

    resp = client.post(url, data={"csrf_token": csrf, "reason": "asked", "confirm": "zebulonxq"})
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Erased zebulonxq" in page and "Personal data erased" in page
    with app.app_context():
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.erase"))
        assert row.actor_id == admin.id and row.reason == "asked"
        assert db.session.get(User, w.zed.id).email is None
    own = client.post(
        f"/dashboard/users/{admin.id}/erase",
        data={"csrf_token": csrf, "reason": "x", "confirm": admin.username},
    )
    assert own.status_code == 422 and "your own account" in own.get_data(as_text=True)


def test_an_erased_account_cannot_be_reactivated(app, client, login_as, runner, w):
    runner.invoke(args=["chatdesk", "erase-user", w.zed.id, "--reason", "asked"])
    login_as("admin")
    page = client.get(f"/dashboard/users/{w.zed.id}").get_data(as_text=True)
    assert "An erased account stays deactivated." in page and "Reactivate" not in page
    assert ">erased</span>" in page  # their messages are badged in the recent list
    csrf = get_csrf(client, f"/dashboard/users/{w.zed.id}")
    resp = client.post(
        f"/dashboard/users/{w.zed.id}/reactivate", data={"csrf_token": csrf, "reason": "oops"}
    )
    assert resp.status_code == 403 and "An erased account stays deactivated." in resp.get_data(
        as_text=True
    )
    with app.app_context():
        assert not db.session.get(User, w.zed.id).is_active
