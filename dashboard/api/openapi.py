"""The OpenAPI 3 document of /api/v1, served at /api/v1/openapi.json.

Written by hand as a dict; tests/api/test_openapi.py checks that its paths and methods are
exactly the app's URL map under /api/v1, so the document cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from .views import bp


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, **(_json(schema) if schema else {})}


def _errors(*codes: int) -> dict[str, Any]:
    names = {
        400: "Bad request (malformed JSON, missing CSRF token for cookie callers)",
        401: "Not logged in",
        403: "Not allowed",
        404: "Not found (also: not a participant)",
        409: "Conflict (e.g. thread_archived)",
        413: "Payload too large",
        422: "Validation failed",
        429: "Rate limited",
    }
    return {str(c): {"description": names[c], **_json(_ref("Error"))} for c in (401, *codes)}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _list_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "nextCursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "nextCursor": {"type": ["string", "null"]},
        },
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, **_json(schema)}


STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}
META = {"type": "object", "additionalProperties": True}


def build_spec(limits: dict[str, int]) -> dict[str, Any]:
    """The document, with the configured limits written into the schemas."""
    page = {"type": "integer", "minimum": 1, "maximum": limits["page"]}
    thread_p = _path_param("thread_id")
    message_p = _path_param("message_id")
    attachment_in = {
        "oneOf": [
            {
                "type": "object",
                "required": ["type", "url"],
                "properties": {
                    "type": {"const": "link"},
                    "url": {"type": "string", "format": "uri", "maxLength": 2048},
                },
            },
            {"type": "object", "required": ["id"], "properties": {"id": STR}},
        ]
    }
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details"],
                    "properties": {"code": STR, "message": STR, "details": META},
                }
            },
        },
        "User": {
            "type": "object",
            "required": ["id", "username", "role", "isActive"],
            "properties": {
                "id": STR,
                "username": STR,
                "email": NSTR,
                "firstName": NSTR,
                "lastName": NSTR,
                "imageUrl": NSTR,
                "createdAt": NTIME,
                "updatedAt": NTIME,
                "lastLoginAt": NTIME,
                "isActive": {"type": "boolean"},
                "role": {"enum": ["user", "support", "moderator", "admin"]},
            },
        },
        "UserSummary": {
            "type": "object",
            "required": ["id", "username"],
            "properties": {
                "id": STR,
                "username": STR,
                "firstName": NSTR,
                "lastName": NSTR,
                "imageUrl": NSTR,
            },
        },
        "Attachment": {
            "type": "object",
            "required": ["id", "type"],
            "properties": {
                "id": STR,
                "type": {"enum": ["image", "file", "link"]},
                "url": NSTR,
                "mimeType": NSTR,
                "size": {"type": ["integer", "null"]},
                "metadata": META,
            },
        },
        "Message": {
            "type": "object",
            "required": ["id", "threadId", "userId", "content", "status", "createdAt"],
            "properties": {
                "id": STR,
                "clientId": NSTR,
                "content": STR,
                "threadId": STR,
                "userId": STR,
                "parentId": NSTR,
                "createdAt": TIME,
                "updatedAt": TIME,
                "status": {"enum": ["sent", "delivered", "read"]},
                "mentions": {"type": "array", "items": STR},
                "attachments": {"type": "array", "items": _ref("Attachment")},
                "metadata": META,
                "user": _ref("UserSummary"),
            },
        },
        "Thread": {
            "type": "object",
            "required": ["id", "title", "creatorId", "participants", "isArchived"],
            "properties": {
                "id": STR,
                "name": NSTR,
                "title": STR,
                "createdAt": TIME,
                "updatedAt": TIME,
                "lastMessageAt": NTIME,
                "creatorId": STR,
                "participants": {"type": "array", "items": _ref("UserSummary")},
                "isArchived": {"type": "boolean"},
                "metadata": META,
            },
        },
        "ThreadListItem": {
            "allOf": [
                _ref("Thread"),
                {
                    "type": "object",
                    "required": ["unreadCount", "lastMessage"],
                    "properties": {
                        "unreadCount": {"type": "integer", "minimum": 0},
                        "lastMessage": {"oneOf": [_ref("Message"), {"type": "null"}]},
                        "lastActivityAt": TIME,
                        "messageCount": {"type": "integer"},
                    },
                },
            ]
        },
        "PresenceInfo": {
            "type": "object",
            "required": ["userId", "status", "lastSeen"],
            "properties": {
                "userId": STR,
                "status": {"enum": ["online", "offline"]},
                "lastSeen": NTIME,
            },
        },
        "Report": {
            "type": "object",
            "required": ["id", "messageId", "reason", "state"],
            "properties": {
                "id": STR,
                "messageId": STR,
                "threadId": STR,
                "reason": STR,
                "state": STR,
                "createdAt": TIME,
            },
        },
        "Receipt": {
            "type": "object",
            "properties": {"threadId": STR, "deliveredThrough": NSTR, "readThrough": NSTR},
        },
        "MessagePage": {
            "type": "object",
            "required": ["items", "hasMoreBefore", "hasMoreAfter"],
            "properties": {
                "items": {"type": "array", "items": _ref("Message")},
                "hasMoreBefore": {"type": "boolean"},
                "hasMoreAfter": {"type": "boolean"},
            },
        },
        "SearchResults": {
            "type": "object",
            "required": ["items", "nextCursor"],
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "allOf": [
                            _ref("Message"),
                            {
                                "type": "object",
                                "required": ["snippet"],
                                "properties": {
                                    "snippet": {
                                        "type": "string",
                                        "description": "escaped HTML; only <mark> tags added",
                                    }
                                },
                            },
                        ]
                    },
                },
                "nextCursor": NSTR,
                "total": {"type": "integer", "minimum": 0},
                "totalIsLowerBound": {"type": "boolean"},
                "warnings": {"type": "array", "items": STR},
            },
        },
    }
    new_thread = {
        "type": "object",
        "required": ["title", "participantIds"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": limits["title"]},
            "name": {"type": "string", "maxLength": 100},
            "participantIds": {"type": "array", "items": STR, "maxItems": 100},
            "metadata": META,
        },
    }
    patch_thread = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": limits["title"]},
            "name": {"type": "string", "maxLength": 100},
            "metadata": META,
        },
    }
    new_message = {
        "type": "object",
        "properties": {
            "clientId": {"type": "string", "minLength": 1, "maxLength": 64},
            "content": {"type": "string", "maxLength": limits["content"]},
            "parentId": STR,
            "attachments": {
                "type": "array",
                "items": attachment_in,
                "maxItems": limits["attachments"],
            },
            "metadata": META,
        },
    }
    paths: dict[str, Any] = {
        "/me": {
            "get": {
                "summary": "The caller",
                "operationId": "getMe",
                "responses": {"200": _ok("The caller", _ref("User")), **_errors()},
            }
        },
        "/users": {
            "get": {
                "summary": "Find users to start a thread with or mention",
                "operationId": "findUsers",
                "parameters": [
                    _query("q", STR, "prefix of a username or name"),
                    _query("limit", page),
                ],
                "responses": {"200": _ok("Users", _list_of("UserSummary")), **_errors(422)},
            }
        },
        "/threads": {
            "get": {
                "summary": "The caller's threads, newest activity first",
                "operationId": "listThreads",
                "parameters": [
                    _query("archived", {"enum": ["true", "false", "all"]}),
                    _query("cursor", STR),
                    _query("limit", page),
                ],
                "responses": {
                    "200": _ok("Threads", _list_of("ThreadListItem")),
                    **_errors(400, 422),
                },
            },
            "post": {
                "summary": "Start a thread (the creator is included)",
                "operationId": "createThread",
                "requestBody": _body(new_thread),
                "responses": {"201": _ok("The thread", _ref("Thread")), **_errors(400, 422)},
            },
        },
        "/threads/{thread_id}": {
            "parameters": [thread_p],
            "get": {
                "summary": "One thread",
                "operationId": "getThread",
                "responses": {"200": _ok("The thread", _ref("Thread")), **_errors(404)},
            },
            "patch": {
                "summary": "Change title, name or metadata (creator only)",
                "operationId": "updateThread",
                "requestBody": _body(patch_thread),
                "responses": {
                    "200": _ok("The thread", _ref("Thread")),
                    **_errors(400, 403, 404, 422),
                },
            },
        },
        "/threads/{thread_id}/participants": {
            "parameters": [thread_p],
            "post": {
                "summary": "Add participants (creator only)",
                "operationId": "addParticipants",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["userIds"],
                        "properties": {"userIds": {"type": "array", "items": STR, "maxItems": 100}},
                    }
                ),
                "responses": {
                    "200": _ok("The thread", _ref("Thread")),
                    **_errors(400, 403, 404, 422),
                },
            },
        },
        "/threads/{thread_id}/participants/{user_id}": {
            "parameters": [thread_p, _path_param("user_id")],
            "delete": {
                "summary": "Remove a participant (creator), or leave (yourself)",
                "operationId": "removeParticipant",
                "responses": {"200": _ok("The thread", _ref("Thread")), **_errors(403, 404)},
            },
        },
        "/threads/{thread_id}/messages": {
            "parameters": [thread_p],
            "get": {
                "summary": "A page of messages, oldest first",
                "operationId": "listMessages",
                "parameters": [_query("before", STR), _query("after", STR), _query("limit", page)],
                "responses": {
                    "200": _ok("Messages", _ref("MessagePage")),
                    **_errors(400, 404, 422),
                },
            },
            "post": {
                "summary": "Send a message (idempotent on clientId)",
                "operationId": "sendMessage",
                "requestBody": _body(new_message),
                "responses": {
                    "201": _ok("Stored", _ref("Message")),
                    "200": _ok("The message stored earlier with this clientId", _ref("Message")),
                    **_errors(400, 404, 409, 422, 429),
                },
            },
        },
        "/messages/{message_id}": {
            "parameters": [message_p],
            "patch": {
                "summary": "Edit your own message",
                "operationId": "editMessage",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["content"],
                        "properties": {
                            "content": {"type": "string", "maxLength": limits["content"]}
                        },
                    }
                ),
                "responses": {
                    "200": _ok("The message", _ref("Message")),
                    **_errors(400, 403, 404, 409, 422),
                },
            },
            "delete": {
                "summary": "Delete your own message (the row stays, emptied)",
                "operationId": "deleteMessage",
                "responses": {"200": _ok("The message", _ref("Message")), **_errors(403, 404, 409)},
            },
        },
        "/messages/{message_id}/reports": {
            "parameters": [message_p],
            "post": {
                "summary": "Report a message to the moderators",
                "operationId": "reportMessage",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["reason"],
                        "properties": {
                            "reason": {"type": "string", "minLength": 1, "maxLength": 1000}
                        },
                    }
                ),
                "responses": {"201": _ok("The report", _ref("Report")), **_errors(400, 404, 422)},
            },
        },
        "/threads/{thread_id}/read": {
            "parameters": [thread_p],
            "post": {
                "summary": "Move the caller's read watermark",
                "operationId": "markRead",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["messageId"],
                        "properties": {"messageId": STR},
                    }
                ),
                "responses": {"200": _ok("Watermarks", _ref("Receipt")), **_errors(400, 404, 422)},
            },
        },
        "/search": {
            "get": {
                "summary": "Search the caller's threads (SPEC §6 operators)",
                "operationId": "search",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": STR},
                    _query("cursor", STR),
                    _query("limit", page),
                ],
                "responses": {"200": _ok("Results", _ref("SearchResults")), **_errors(400, 422)},
            }
        },
        "/presence": {
            "get": {
                "summary": "PresenceInfo for each user id",
                "operationId": "getPresence",
                "parameters": [_query("userIds", STR, "comma-separated user ids")],
                "responses": {"200": _ok("Presence", _list_of("PresenceInfo")), **_errors()},
            }
        },
        "/uploads": {
            "post": {
                "summary": "Upload a file (typed by its bytes)",
                "operationId": "upload",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": _ok("The attachment", _ref("Attachment")),
                    **_errors(400, 413, 422),
                },
            }
        },
        "/uploads/{upload_id}": {
            "parameters": [_path_param("upload_id")],
            "get": {
                "summary": "An uploaded file (uploader and participants only)",
                "operationId": "getUpload",
                "responses": {
                    "200": {
                        "description": "The file (nosniff; non-images as attachment)",
                        "content": {"application/octet-stream": {}},
                    },
                    **_errors(404),
                },
            },
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "security": [],
                "responses": {"200": _ok("OpenAPI 3.1", META)},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Chatdesk API",
            "version": "1",
            "description": "The end users' chat API. Errors are always "
            '{"error": {"code", "message", "details"}}. Cookie callers send X-CSRFToken on '
            "unsafe methods; bearer (Clerk session JWT) callers do not.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3 document of this API."""
    cfg = current_app.config
    return build_spec(
        {
            "page": cfg["MAX_PAGE_SIZE"],
            "title": cfg["MAX_TITLE_CHARS"],
            "content": cfg["MAX_MESSAGE_CHARS"],
            "attachments": cfg["MAX_ATTACHMENTS"],
        }
    )
