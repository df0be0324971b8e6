"""The shapes dashboard/serializers.py returns, as models for the OpenAPI components.

These are never built on the request path: the serializers return plain dicts (fast), and
tests/payloads/test_components.py validates real serializer output and real API responses
against the schemas generated from these, so a key added, renamed or retyped on one side
and not the other fails the suite. Every key is required (the serializers always write
them all) and no other key is allowed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..models import ROLES

# `2026-11-26T14:30:18.123Z`: what serializers.iso writes.
Time = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
        json_schema_extra={"format": "date-time"},
    ),
]
# One of models.ROLES (an enum in the schema, read from the tuple rather than retyped).
Role = Annotated[str, Field(json_schema_extra={"enum": list(ROLES)})]


class Shape(BaseModel):
    """A response object: camelCase keys, all required, nothing else."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ErrorDetail(Shape):
    """The `error` member: a SPEC §5 code, a sentence, and details."""

    code: str
    message: str
    details: dict[str, Any]


class Error(Shape):
    """Every API error: `{"error": {"code", "message", "details"}}`."""

    error: ErrorDetail


class UserSummary(Shape):
    """What other users may see of a user (`serializers.user_summary`)."""

    id: str
    username: str
    first_name: str | None
    last_name: str | None
    image_url: str | None


class User(UserSummary):
    """A user as they see themselves (`serializers.user_json`)."""

    email: str | None
    created_at: Time | None
    updated_at: Time | None
    last_login_at: Time | None
    is_active: bool
    role: Role


class Attachment(Shape):
    """`serializers.attachment_json`."""

    id: str
    type: Literal["image", "file", "link"]
    url: str | None
    mime_type: str | None
    size: int | None
    metadata: dict[str, Any]


class Message(Shape):
    """`serializers.message_json` (status from the watermarks)."""

    id: str
    client_id: str | None
    content: str
    thread_id: str
    user_id: str
    parent_id: str | None
    created_at: Time
    updated_at: Time
    status: Literal["sent", "delivered", "read"]
    mentions: list[str]
    attachments: list[Attachment]
    metadata: dict[str, Any]
    user: UserSummary


class Thread(Shape):
    """`serializers.thread_json` with participant summaries."""

    id: str
    name: str | None
    title: str
    created_at: Time
    updated_at: Time
    last_message_at: Time | None
    creator_id: str
    participants: list[UserSummary]
    is_archived: bool
    metadata: dict[str, Any]


class ThreadListItem(Thread):
    """A thread in the caller's list, with its activity and unread count."""

    last_activity_at: Time
    message_count: int
    unread_count: Annotated[int, Field(ge=0)]
    last_message: Message | None


class ThreadList(Shape):
    """GET /threads."""

    items: list[ThreadListItem]
    next_cursor: str | None


class UserList(Shape):
    """GET /users."""

    items: list[UserSummary]
    next_cursor: str | None


class PresenceInfo(Shape):
    """`serializers.presence_json`."""

    user_id: str
    status: Literal["online", "offline"]
    last_seen: Time | None


class PresenceList(Shape):
    """GET /presence."""

    items: list[PresenceInfo]
    next_cursor: str | None


class Report(Shape):
    """A report as its reporter gets it back."""

    id: str
    message_id: str
    thread_id: str
    reason: str
    state: str
    created_at: Time


class Receipt(Shape):
    """The caller's watermarks in a thread after a receipt."""

    thread_id: str
    delivered_through: str | None
    read_through: str | None


class MessagePage(Shape):
    """GET /threads/{id}/messages: items oldest first."""

    items: list[Message]
    has_more_before: bool
    has_more_after: bool


class SearchHit(Message):
    """A message found by search, with its snippet (escaped HTML, only <mark> added)."""

    snippet: str


class SearchResults(Shape):
    """GET /search; `total`, `totalIsLowerBound` and `order` when searched, `rankedWindow`
    by relevance, `warnings` when any."""

    items: list[SearchHit]
    next_cursor: str | None
    total: Annotated[int, Field(ge=0)] = 0
    total_is_lower_bound: bool = False
    order: Literal["newest", "relevance"] = "newest"
    # By relevance: None when every match was ranked, else how many of the newest were.
    ranked_window: int | None = None
    warnings: list[str] = []


RESPONSES: tuple[type[Shape], ...] = (
    Error,
    User,
    UserList,
    Thread,
    ThreadList,
    Message,
    MessagePage,
    Attachment,
    PresenceList,
    Report,
    Receipt,
    SearchResults,
)
