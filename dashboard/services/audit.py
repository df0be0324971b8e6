"""The audit log: one row per staff action and target, written in the caller's transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditLog, User, new_id, utcnow


def record(
    actor: User | None,
    action: str,
    target_type: str,
    target_id: str,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Add one audit row to the current session (the caller commits it with the change)."""
    row = AuditLog(
        id=new_id(),
        actor_id=actor.id if actor else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        details=details or {},
        created_at=utcnow(),
    )
    db.session.add(row)
    return row


def record_many(
    actor: User | None,
    action: str,
    target_type: str,
    target_ids: list[str],
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Add one audit row per target in a single multi-row INSERT; returns the row count."""
    if not target_ids:
        return 0
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "actor_id": actor.id if actor else None,
            "action": action,
            "target_type": target_type,
            "target_id": tid,
            "reason": reason,
            "details": details or {},
            "created_at": now,
        }
        for tid in target_ids
    ]
    db.session.execute(sa.insert(AuditLog), rows)
    return len(rows)
