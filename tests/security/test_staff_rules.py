"""The staff rules of SPEC §3 hold for every account action, whichever way it is reached."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, User
from dashboard.services import audit
from dashboard.services import users as users_service
from dashboard.services.errors import Forbidden
from tests.views.pages_support import HTMX, csrf_token

REASON = {"reason": "testing the staff rules"}


def deactivate_as(app, actor, target) -> None:  # type: ignore[no-untyped-def]
    """`actor` deactivates `target` through the service (as the dashboard does)."""
    with app.app_context():
        users_service.set_active(db.session.get(User, actor.id), target.id, False, "by the rules")


def state(app, user_id: str) -> tuple[bool, int]:  # type: ignore[no-untyped-def]
    """(is the account active, how many reactivate audit rows name it)."""
    with app.app_context():
        active = db.session.get(User, user_id).is_active
        rows = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "user.reactivate", AuditLog.target_id == user_id)
        )
    return active, rows or 0


def reactivate(client, user_id, htmx=False):  # type: ignore[no-untyped-def]
    data = {**REASON, "csrf_token": csrf_token(client)}
    return client.post(
        f"/dashboard/users/{user_id}/reactivate", data=data, headers=HTMX if htmx else {}
    )


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_a_moderator_cannot_reactivate_an_admin_an_admin_deactivated(
    app, client, factory, login_as, htmx
):
    admin, other_admin = factory.user(role="admin"), factory.user(role="admin")
    deactivate_as(app, admin, other_admin)
    login_as("moderator")
    resp = reactivate(client, other_admin.id, htmx)
    assert resp.status_code == 403
    assert state(app, other_admin.id) == (False, 0)


@pytest.mark.parametrize("role", ["support", "moderator"])
def test_a_moderator_cannot_reactivate_any_staff_account(app, client, factory, login_as, role):
    admin, staff = factory.user(role="admin"), factory.user(role=role)
    deactivate_as(app, admin, staff)
    login_as("moderator")
    assert reactivate(client, staff.id).status_code == 403
    assert state(app, staff.id) == (False, 0)


def test_a_moderator_cannot_undo_an_admins_deactivation_of_an_end_user(
    app, client, factory, login_as
):
    admin, user = factory.user(role="admin"), factory.user()
    deactivate_as(app, admin, user)
    login_as("moderator")
    assert reactivate(client, user.id).status_code == 403
    assert state(app, user.id) == (False, 0)
    # The page offers no reactivate control to that moderator, and says why.
    page = client.get(f"/dashboard/users/{user.id}").get_data(as_text=True)
    assert f"/dashboard/users/{user.id}/reactivate" not in page
    assert "an admin deactivated it" in page


def test_an_account_the_system_deactivated_is_an_admins_to_reactivate(
    app, client, factory, login_as
):
    user = factory.user(is_active=False)
    with app.app_context():
        audit.record(None, "user.deactivate", "user", user.id, reason="deleted in Clerk")
        db.session.commit()
    login_as("moderator")
    assert reactivate(client, user.id).status_code == 403
    assert state(app, user.id) == (False, 0)


def test_moderators_undo_each_others_deactivations_and_admins_undo_anyones(
    app, client, factory, login_as
):
    mod = factory.user(role="moderator")
    first, second = factory.user(), factory.user()
    admin = factory.user(role="admin")
    deactivate_as(app, mod, first)
    deactivate_as(app, admin, second)
    login_as("moderator")
    assert reactivate(client, first.id).status_code == 303
    assert state(app, first.id) == (True, 1)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login_as("admin")
    assert reactivate(client, second.id).status_code == 303
    assert state(app, second.id) == (True, 1)


def test_an_admin_reactivates_another_admin(app, client, factory, login_as):
    a, b = factory.user(role="admin"), factory.user(role="admin")
    deactivate_as(app, a, b)
    login_as("admin")
    assert reactivate(client, b.id).status_code == 303
    assert state(app, b.id) == (True, 1)


def test_the_service_refuses_what_the_routes_refuse(app, factory):
    """The rules live in the service: a caller that skips the route's decorator gets nothing."""
    mod, support = factory.user(role="moderator"), factory.user(role="support")
    target = factory.user()
    with app.app_context():
        as_mod = db.session.get(User, mod.id)
        as_support = db.session.get(User, support.id)
        for call in (
            lambda: users_service.set_active(as_support, target.id, False, "x"),
            lambda: users_service.change_role(as_mod, target.id, "admin", "x"),
            lambda: users_service.create_user(
                "sneaky", email=None, password="long enough password", role="admin", actor=as_mod
            ),
        ):
            with pytest.raises(Forbidden):
                call()
        db.session.rollback()
        assert db.session.get(User, target.id).role == "user"
        assert db.session.get(User, target.id).is_active
        assert db.session.scalar(sa.select(User).where(User.username == "sneaky")) is None


def test_nobody_changes_their_own_account(app, factory):
    admin = factory.user(role="admin")
    with app.app_context():
        me = db.session.get(User, admin.id)
        for call in (
            lambda: users_service.set_active(me, admin.id, False, "x"),
            lambda: users_service.change_role(me, admin.id, "user", "x"),
        ):
            with pytest.raises(Forbidden) as refused:
                call()
            assert refused.value.details["reason"] == "self"
