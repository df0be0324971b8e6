"""The data model: SQLAlchemy 2 typed models, one module per aggregate.

`base.py` makes ids (UUIDv7, time-ordered) and times; `users`, `threads` (with participants
and their watermarks), `messages` (mentions, attachments) and `moderation` (reports, the audit
log) hold the tables, their constraints and indexes, and single-row verbs only.

May import: `dashboard.extensions` and SQLAlchemy. Never services, views, the API or realtime
(tests/test_layers.py checks it); everything above imports this package.
"""

from .base import id_floor, new_id, utcnow
from .messages import ATTACHMENT_TYPES, Attachment, Mention, Message
from .moderation import (
    REPORT_STATES,
    WATCHED_ACTIONS,
    WATCHED_KINDS,
    AuditLog,
    Report,
    WatchedWord,
)
from .threads import Participant, Thread
from .users import ROLE_RANK, ROLES, STAFF_ROLES, User
from .webhooks import WebhookEvent

__all__ = [
    "ATTACHMENT_TYPES",
    "REPORT_STATES",
    "ROLES",
    "ROLE_RANK",
    "STAFF_ROLES",
    "WATCHED_ACTIONS",
    "WATCHED_KINDS",
    "Attachment",
    "AuditLog",
    "Mention",
    "Message",
    "Participant",
    "Report",
    "Thread",
    "User",
    "WatchedWord",
    "WebhookEvent",
    "id_floor",
    "new_id",
    "utcnow",
]
