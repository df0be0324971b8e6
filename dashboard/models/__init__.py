"""The data model: one module per aggregate."""

from .base import id_floor, new_id, utcnow
from .messages import ATTACHMENT_TYPES, Attachment, Mention, Message
from .moderation import REPORT_STATES, AuditLog, Report
from .threads import Participant, Thread
from .users import ROLE_RANK, ROLES, STAFF_ROLES, User
from .webhooks import WebhookEvent

__all__ = [
    "ATTACHMENT_TYPES",
    "REPORT_STATES",
    "ROLES",
    "ROLE_RANK",
    "STAFF_ROLES",
    "Attachment",
    "AuditLog",
    "Mention",
    "Message",
    "Participant",
    "Report",
    "Thread",
    "User",
    "WebhookEvent",
    "id_floor",
    "new_id",
    "utcnow",
]
