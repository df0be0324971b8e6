"""The database refuses bad rows on both backends, and nothing is written."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from dashboard.extensions import db
from dashboard.models import Message, Report, User, new_id, utcnow
from dashboard.services import users as users_service
from dashboard.services.errors import Conflict, ValidationFailed


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_username_and_email_are_unique_case_insensitively(app, factory):
    factory.user(username="Alice", email="Alice@Example.test")
    with app.app_context():
        db.session.add(User(username="alice", email="other@example.test"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(User(username="other", email="ALICE@example.TEST"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert count(User) == 1


def test_create_user_reports_a_taken_username_clearly_and_writes_nothing(app, factory):
    factory.user(username="Taken")
    with app.app_context():
        with pytest.raises(Conflict) as exc:
            users_service.create_user("taken", email="new@example.test", password="long enough")
        assert exc.value.details == {"fields": {"username": "already taken"}}
        with pytest.raises(ValidationFailed) as exc:
            users_service.create_user("bad name!", email="nope", password="short", role="king")
        assert set(exc.value.details["fields"]) == {"username", "email", "password", "role"}
        assert count(User) == 1


def test_role_must_be_one_of_the_four(app):
    with app.app_context():
        db.session.add(User(username="x", email="x@example.test", role="superuser"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert count(User) == 0


def test_one_message_per_user_and_client_id(app, factory):
    u = factory.user()
    t = factory.thread(u)
    factory.message(t, u, client_id="c-1")
    with app.app_context():
        db.session.add(Message(thread_id=t.id, user_id=u.id, client_id="c-1", content="again"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        # Another user may reuse the same client id.
        other = User(username="other", email="o@example.test")
        db.session.add(other)
        db.session.flush()
        db.session.add(Message(thread_id=t.id, user_id=other.id, client_id="c-1", content="mine"))
        db.session.commit()
        assert count(Message) == 2


def test_foreign_keys_are_enforced(app, factory):
    u = factory.user()
    with app.app_context():
        db.session.add(Message(thread_id="no-such-thread", user_id=u.id, content="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert count(Message) == 0


def test_report_state_and_thread_title_are_checked(app, factory):
    u = factory.user()
    t = factory.thread(u)
    m = factory.message(t, u)
    with app.app_context():
        db.session.add(Report(message_id=m.id, reporter_id=u.id, reason="spam", state="pending"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert count(Report) == 0
    with pytest.raises(IntegrityError):
        factory.thread(u, title="")


def test_ids_are_time_ordered_strings():
    now = utcnow()
    earlier = new_id(now - timedelta(seconds=1))
    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert earlier < ids[0]
    assert all(len(i) == 36 and i[14] == "7" for i in ids)
