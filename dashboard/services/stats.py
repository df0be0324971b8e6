"""Dashboard figures."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import Message, Report, Thread, User, id_floor, utcnow


def overview_counts() -> dict[str, int]:
    """Active and archived threads, messages since midnight UTC, open reports, users."""
    now = utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    threads = dict(
        db.session.execute(
            sa.select(Thread.is_archived, sa.func.count()).group_by(Thread.is_archived)
        ).all()
    )
    # Ids are time-ordered: "since midnight" is an id range on the primary key.
    today = db.session.scalar(
        sa.select(sa.func.count()).select_from(Message).where(Message.id >= id_floor(midnight))
    )
    reports = db.session.scalar(
        sa.select(sa.func.count()).select_from(Report).where(Report.state == "open")
    )
    users = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.is_active))
    return {
        "active_threads": threads.get(False, 0),
        "archived_threads": threads.get(True, 0),
        "messages_today": today or 0,
        "open_reports": reports or 0,
        "active_users": users or 0,
    }
