"""Test data made straight in the database, with sequences for unique names."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from flask import Flask

from dashboard.extensions import db
from dashboard.models import (
    Attachment,
    Mention,
    Message,
    Participant,
    Report,
    Thread,
    User,
    new_id,
    utcnow,
)

_seq = itertools.count(1)


class Factory:
    """Each method commits and returns a detached object with its columns loaded."""

    def __init__(self, app: Flask):
        self.app = app

    def _save(self, *objs: Any) -> None:
        with self.app.app_context():
            for obj in objs:
                db.session.add(obj)
            db.session.commit()
            for obj in objs:
                db.session.refresh(obj)
            db.session.expunge_all()

    def user(self, role: str = "user", password: str | None = None, **kw: Any) -> User:
        """A user; username and email from a sequence unless given."""
        n = next(_seq)
        kw.setdefault("username", f"{role}{n}")
        kw.setdefault("email", f"{kw['username']}@example.test")
        user = User(role=role, **kw)
        if password:
            user.set_password(password)
        self._save(user)
        return user

    def thread(
        self,
        creator: User,
        others: list[User] | tuple[User, ...] = (),
        *,
        at: datetime | None = None,
        **kw: Any,
    ) -> Thread:
        """A thread created by `creator` with `others` as participants too."""
        at = at or utcnow()
        kw.setdefault("title", f"Thread {next(_seq)}")
        thread = Thread(
            id=new_id(at),
            creator_id=creator.id,
            created_at=at,
            updated_at=at,
            last_activity_at=at,
            meta={},
            **kw,
        )
        members = [creator, *[u for u in others if u.id != creator.id]]
        parts = [
            Participant(thread_id=thread.id, user_id=u.id, joined_at=at + timedelta(microseconds=i))
            for i, u in enumerate(members)
        ]
        self._save(thread, *parts)
        return thread

    def message(
        self,
        thread: Thread,
        user: User,
        content: str = "hello",
        *,
        at: datetime | None = None,
        mentions: tuple[User, ...] = (),
        **kw: Any,
    ) -> Message:
        """A message in `thread` by `user`; keeps the thread's counters in step."""
        at = at or utcnow()
        msg = Message(
            id=new_id(at),
            thread_id=thread.id,
            user_id=user.id,
            content=content,
            created_at=at,
            updated_at=at,
            meta={},
            **kw,
        )
        with self.app.app_context():
            db.session.add(msg)
            t = db.session.get(Thread, thread.id)
            t.message_count += 1
            if t.last_message_at is None or at >= t.last_message_at:
                t.last_message_at = at
                t.last_activity_at = at
            for u in mentions:
                db.session.add(Mention(message_id=msg.id, user_id=u.id))
            db.session.commit()
            db.session.refresh(msg)
            db.session.expunge_all()
        return msg

    def attachment(self, message: Message, uploader: User, **kw: Any) -> Attachment:
        """A link attachment unless `type` says otherwise."""
        kw.setdefault("type", "link")
        kw.setdefault("url", "https://example.com/doc")
        att = Attachment(message_id=message.id, uploader_id=uploader.id, meta={}, **kw)
        self._save(att)
        return att

    def report(self, message: Message, reporter: User, reason: str = "spam") -> Report:
        """An open report of `message`."""
        report = Report(message_id=message.id, reporter_id=reporter.id, reason=reason)
        self._save(report)
        return report
