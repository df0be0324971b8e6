"""Request models: every API body and every client→server Socket.IO payload (SPEC §5).

Both surfaces parse through these before a service runs, so a payload is refused the same
way over HTTP (422) and over a socket (`{ok: false, error: {code: "validation_failed"}}`).
They check shape, types (strictly: no "1" for 1), text (no NUL, no lone surrogates) and
every length against its column or setting; the services keep the rules that need the
database (membership, archived threads, who may do what).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from .fields import ClientId, ConfigLimit, Id, Metadata, Text
from .limits import (
    IDS_PER_REQUEST_MAX,
    NAME_MAX,
    REASON_MAX,
    SINCE_MAX,
    SYNC_BATCH,
    SYNC_LIMIT_MAX,
    URL_MAX,
)

Title = Annotated[Text, Field(min_length=1), ConfigLimit("title", strip=True)]
Name = Annotated[Text, Field(max_length=NAME_MAX)]
Content = Annotated[Text, ConfigLimit("content")]
Ids = Annotated[list[Id], Field(max_length=IDS_PER_REQUEST_MAX)]


class Payload(BaseModel):
    """A client's JSON object: camelCase keys, strict types, unknown keys ignored."""

    model_config = ConfigDict(
        strict=True, extra="ignore", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class LinkAttachment(Payload):
    """A link to attach: `{"type": "link", "url": "https://…"}`."""

    type: Literal["link"]
    url: Annotated[Text, Field(min_length=1, max_length=URL_MAX)]


class UploadAttachment(Payload):
    """An upload to attach, by the id POST /uploads answered."""

    id: Id


AttachmentIn = LinkAttachment | UploadAttachment
Attachments = Annotated[list[AttachmentIn], ConfigLimit("attachments")]


class CreateThread(Payload):
    """POST /threads."""

    title: Title
    name: Name | None = None
    participant_ids: Ids = []
    metadata: Metadata | None = None


class UpdateThread(Payload):
    """PATCH /threads/{id}: only the fields sent change."""

    title: Title | None = None
    name: Name | None = None
    metadata: Metadata | None = None


class AddParticipants(Payload):
    """POST /threads/{id}/participants."""

    user_ids: Ids


class SendMessage(Payload):
    """POST /threads/{id}/messages."""

    client_id: ClientId | None = None
    content: Content | None = None
    parent_id: Id | None = None
    attachments: Attachments | None = None
    metadata: Metadata | None = None

    def attachment_dicts(self) -> list[dict[str, str]] | None:
        """The attachments as the messages service takes them."""
        if self.attachments is None:
            return None
        return [a.model_dump(by_alias=True) for a in self.attachments]


class EditMessage(Payload):
    """PATCH /messages/{id}."""

    content: Content


class MarkRead(Payload):
    """POST /threads/{id}/read."""

    message_id: Id


class ReportMessage(Payload):
    """POST /messages/{id}/reports."""

    reason: Annotated[Text, Field(min_length=1, max_length=REASON_MAX)]


# --- Socket.IO /chat ------------------------------------------------------------------------


class ChatSend(SendMessage):
    """`message:send`: a message with its thread."""

    thread_id: Id


class ChatEdit(Payload):
    """`message:edit`."""

    message_id: Id
    content: Content


class ChatDelete(Payload):
    """`message:delete`."""

    message_id: Id


class ChatReceipt(Payload):
    """`messages:delivered` and `messages:read`."""

    thread_id: Id
    message_id: Id


class ChatTyping(Payload):
    """`typing:start` and `typing:stop`."""

    thread_id: Id


class ChatSync(Payload):
    """`sync`: the cursor of an earlier sync or an ISO time; a batch size."""

    since: Annotated[Text, Field(max_length=SINCE_MAX)] | None = None
    limit: Annotated[int, Field(ge=1, le=SYNC_LIMIT_MAX)] = SYNC_BATCH


class ChatPresenceQuery(Payload):
    """`presence:query`."""

    user_ids: list[Id]


# The payload model of each client→server event, by namespace (the fuzz tests walk this).
SOCKET_EVENTS: dict[str, dict[str, type[Payload]]] = {
    "/chat": {
        "message:send": ChatSend,
        "message:edit": ChatEdit,
        "message:delete": ChatDelete,
        "messages:delivered": ChatReceipt,
        "messages:read": ChatReceipt,
        "typing:start": ChatTyping,
        "typing:stop": ChatTyping,
        "sync": ChatSync,
        "presence:query": ChatPresenceQuery,
    },
    "/live": {},
}

# The body model of each API operation that takes JSON, by OpenAPI operationId.
API_BODIES: dict[str, type[Payload]] = {
    "createThread": CreateThread,
    "updateThread": UpdateThread,
    "addParticipants": AddParticipants,
    "sendMessage": SendMessage,
    "editMessage": EditMessage,
    "markRead": MarkRead,
    "reportMessage": ReportMessage,
}
