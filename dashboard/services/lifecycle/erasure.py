"""Erasing one user's personal data: `chatdesk erase-user`, the user page, Clerk's user.deleted.

What goes: the profile (username, email, names, image, password, login and presence times
become neutral), the content, metadata, mentions and attachments of their messages (the rows
stay, so threads and replies keep their shape; end users see `metadata.removed: "erased"`),
their uploaded files on disk, and the reasons of the reports they filed. What stays: the
threads, everyone else's messages, the audit trail, and the account row as a deactivated
placeholder with the same id.

The first transaction neutralises the profile and writes the one audit row; then messages go
LIFECYCLE_BATCH_SIZE at a time, one transaction each. Files are removed before their batch
commits: a crash then leaves rows pointing at missing files (served as 404, and cleaned by the
next run), never files that nothing points at. Running it again finishes an interrupted run
and otherwise changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import CursorResult

from ...extensions import db
from ...models import Attachment, Mention, Message, Report, User, utcnow
from .. import audit, staff_rules
from ..errors import NotFound, ValidationFailed
from .files import remove_files

ERASED_REPORT_REASON = "(erased)"
REASON_MAX = 1000


@dataclass
class ErasureResult:
    """What one run changed (all zero for a run over an already erased user)."""

    user_id: str
    profile: bool = False  # the profile was neutralised by this run
    messages: int = 0
    attachments: int = 0
    files: int = 0
    reports: int = 0

    @property
    def changed(self) -> bool:
        """Whether this run changed anything at all."""
        return bool(self.profile or self.messages or self.attachments or self.reports)


def rowcount(res: Any) -> int:
    """Rows an UPDATE or DELETE touched (its result is a CursorResult)."""
    return int(cast(CursorResult[Any], res).rowcount or 0)


def neutral_username(user_id: str) -> str:
    """The placeholder username of an erased account: stable, unique, nothing personal."""
    return "erased-" + hashlib.sha256(user_id.encode()).hexdigest()[:16]


def find_user(key: str) -> User:
    """The user with this id, username or email (case-insensitive), or NotFound."""
    key = (key or "").strip()
    user = db.session.get(User, key) if key else None
    if user is None and key:
        col = sa.func.lower(User.email) if "@" in key else sa.func.lower(User.username)
        user = db.session.scalar(sa.select(User).where(col == key.lower()))
    if user is None:
        raise NotFound("No such user.", {"user": key})
    return user


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason.", {"fields": {"reason": "required"}})
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            "The reason is too long.", {"fields": {"reason": f"at most {REASON_MAX} characters"}}
        )
    return reason


def erase_user(
    user_id: str,
    *,
    actor: User | None,
    reason: str | None,
    via: str,
    progress: Callable[[int], None] = lambda n: None,
) -> ErasureResult:
    """Erase a user's personal data (see the module docstring); audited once, idempotent.

    `actor` is the admin doing it, or None for the CLI and Clerk (`via` says which: it goes
    into the audit row as the actor's name). When `result.profile` is set the account was
    just deactivated: the caller ends its sessions and sockets (services do not emit).
    """
    reason = _clean_reason(reason)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if actor is not None:
        staff_rules.check(actor, "erase", user)
    result = ErasureResult(user.id)
    batch = current_app.config["LIFECYCLE_BATCH_SIZE"]
    if user.erased_at is None:
        result.profile = True
        _neutralise(user, actor=actor, reason=reason, via=via)
    result.reports = _erase_reports(user.id)
    db.session.commit()
    after = ""
    while True:
        # Keyset on (user_id, id): each batch starts where the last stopped, never rescans.
        last = _erase_message_batch(user.id, after, batch, result)
        if last is None:
            break
        progress(last[1])
        if last[1] < batch:
            break
        after = last[0]
    _erase_other_uploads(user.id, batch, result)
    return result


def _neutralise(user: User, *, actor: User | None, reason: str, via: str) -> None:
    """Replace the profile with neutral values and stage the audit row (caller commits)."""
    now = utcnow()
    pending = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(Message.user_id == user.id, Message.erased_at.is_(None))
    )
    user.username = neutral_username(user.id)
    user.email = None
    user.first_name = None
    user.last_name = None
    user.image_url = None
    user.password_hash = None
    user.last_login_at = None
    user.last_seen_at = None
    user.is_active = False
    user.session_version += 1
    user.erased_at = now
    user.updated_at = now
    details: dict[str, object] = {"via": via, "messages": int(pending or 0)}
    if actor is None:
        details["actor"] = via
    audit.record(actor, "user.erase", "user", user.id, reason=reason, details=details)


def _erase_reports(user_id: str) -> int:
    """Blank the reasons of the reports this user filed (the moderators' notes stay)."""
    res = db.session.execute(
        sa.update(Report)
        .where(Report.reporter_id == user_id, Report.reason != ERASED_REPORT_REASON)
        .values(reason=ERASED_REPORT_REASON)
    )
    return rowcount(res)


def _erase_message_batch(
    user_id: str, after: str, batch: int, result: ErasureResult
) -> tuple[str, int] | None:
    """Blank the user's next `batch` messages after id `after` in one transaction.

    Returns the last id seen and how many were erased, or None when none is left.
    """
    ids = list(
        db.session.scalars(
            sa.select(Message.id)
            .where(Message.user_id == user_id, Message.id > after, Message.erased_at.is_(None))
            .order_by(Message.id)
            .limit(batch)
        )
    )
    if not ids:
        db.session.rollback()
        return None
    result.attachments += _drop_attachments(Attachment.message_id.in_(ids), result)
    db.session.execute(sa.delete(Mention).where(Mention.message_id.in_(ids)))
    now = utcnow()
    db.session.execute(
        sa.update(Message)
        .where(Message.id.in_(ids))
        .values(content="", meta={}, erased_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    result.messages += len(ids)
    return ids[-1], len(ids)


def _erase_other_uploads(user_id: str, batch: int, result: ErasureResult) -> None:
    """Uploads of theirs on no erased message (never sent, say): rows and files, batched."""
    while True:
        ids = list(
            db.session.scalars(
                sa.select(Attachment.id)
                .where(Attachment.uploader_id == user_id)
                .order_by(Attachment.id)
                .limit(batch)
            )
        )
        if not ids:
            db.session.rollback()
            return
        result.attachments += _drop_attachments(Attachment.id.in_(ids), result)
        db.session.commit()
        if len(ids) < batch:
            return


def _drop_attachments(where: sa.ColumnElement[bool], result: ErasureResult) -> int:
    """Delete the matching attachment rows, removing their files first; how many rows."""
    names = list(
        db.session.scalars(
            sa.select(Attachment.storage_name).where(where, Attachment.storage_name.is_not(None))
        )
    )
    result.files += remove_files(names)
    res = db.session.execute(sa.delete(Attachment).where(where))
    return rowcount(res)
