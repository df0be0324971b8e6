"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json.

The paths are written here; every schema under `components` is generated from the request
models and response shapes in dashboard/payloads (limits from the code and the settings).
tests/api/test_openapi.py checks that the paths and methods are exactly the app's URL map,
and tests/payloads/test_components.py that real responses match the components.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from ..payloads import Limits
from ..payloads.schema import components
from .views import bp


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, **(_json(schema) if schema else {})}


def _errors(*codes: int) -> dict[str, Any]:
    names = {
        400: "Bad request (not strict JSON, NUL in the URL, missing CSRF token for cookie callers)",
        401: "Not logged in",
        403: "Not allowed",
        404: "Not found (also: not a participant)",
        409: "Conflict (e.g. thread_archived)",
        413: "Payload too large",
        422: "Validation failed",
        429: "Rate limited",
    }
    return {
        str(c): {"description": names[c], **_json(_ref("Error"))}
        for c in sorted({400, 401, *codes})
    }


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    # Every query parameter of this API reads an empty value as leaving it out.
    return {
        "name": name,
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "schema": schema,
        "description": description,
    }


def _body(model: str) -> dict[str, Any]:
    return {"required": True, **_json(_ref(model))}


STR = {"type": "string"}
META = {"type": "object", "additionalProperties": True}
BODY_ERRORS = (413, 422)


def build_spec(limits: Limits) -> dict[str, Any]:
    """The document, with the configured limits written into the schemas."""
    page = {"type": "integer", "minimum": 1, "maximum": limits.page}
    thread_p = _path_param("thread_id")
    message_p = _path_param("message_id")
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
                "responses": {"200": _ok("Users", _ref("UserList")), **_errors(422)},
            }
        },
        "/threads": {
            "get": {
                "summary": "The caller's threads, newest activity first",
                "operationId": "listThreads",
                "parameters": [
                    _query(
                        "archived",
                        {"type": "string", "pattern": "^(?i:true|false|all|1|0|)$"},
                        "true, false (the default) or all; 1 and 0 too, in any case",
                    ),
                    _query("cursor", STR),
                    _query("limit", page),
                ],
                "responses": {
                    "200": _ok("Threads", _ref("ThreadList")),
                    **_errors(400, 422),
                },
            },
            "post": {
                "summary": "Start a thread (the creator is included)",
                "operationId": "createThread",
                "requestBody": _body("CreateThread"),
                "responses": {
                    "201": _ok("The thread", _ref("Thread")),
                    **_errors(*BODY_ERRORS),
                },
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
                "requestBody": _body("UpdateThread"),
                "responses": {
                    "200": _ok("The thread", _ref("Thread")),
                    **_errors(403, 404, *BODY_ERRORS),
                },
            },
        },
        "/threads/{thread_id}/participants": {
            "parameters": [thread_p],
            "post": {
                "summary": "Add participants (creator only)",
                "operationId": "addParticipants",
                "requestBody": _body("AddParticipants"),
                "responses": {
                    "200": _ok("The thread", _ref("Thread")),
                    **_errors(403, 404, *BODY_ERRORS),
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
                "requestBody": _body("SendMessage"),
                "responses": {
                    "201": _ok("Stored", _ref("Message")),
                    "200": _ok("The message stored earlier with this clientId", _ref("Message")),
                    **_errors(404, 409, 429, *BODY_ERRORS),
                },
            },
        },
        "/messages/{message_id}": {
            "parameters": [message_p],
            "patch": {
                "summary": "Edit your own message",
                "operationId": "editMessage",
                "requestBody": _body("EditMessage"),
                "responses": {
                    "200": _ok("The message", _ref("Message")),
                    **_errors(403, 404, 409, *BODY_ERRORS),
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
                "requestBody": _body("ReportMessage"),
                "responses": {
                    "201": _ok("The report", _ref("Report")),
                    **_errors(404, *BODY_ERRORS),
                },
            },
        },
        "/threads/{thread_id}/read": {
            "parameters": [thread_p],
            "post": {
                "summary": "Move the caller's read watermark",
                "operationId": "markRead",
                "requestBody": _body("MarkRead"),
                "responses": {
                    "200": _ok("Watermarks", _ref("Receipt")),
                    **_errors(404, *BODY_ERRORS),
                },
            },
        },
        "/search": {
            "get": {
                "summary": "Search the caller's threads (SPEC §6 operators)",
                "operationId": "search",
                "parameters": [
                    _query("q", STR, "operators and words; empty answers a hint"),
                    _query("cursor", STR),
                    _query("limit", page),
                    _query(
                        "order",
                        {"type": "string", "enum": ["newest", "relevance"]},
                        "newest first (the default) or best first",
                    ),
                ],
                "responses": {"200": _ok("Results", _ref("SearchResults")), **_errors(400, 422)},
            }
        },
        "/presence": {
            "get": {
                "summary": "PresenceInfo for each user id",
                "operationId": "getPresence",
                "parameters": [_query("userIds", STR, "comma-separated user ids")],
                "responses": {"200": _ok("Presence", _ref("PresenceList")), **_errors()},
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
                "summary": "An uploaded file (uploader, participants and staff)",
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
        "/uploads/{upload_id}/thumbnail": {
            "parameters": [_path_param("upload_id")],
            "get": {
                "summary": "An image's thumbnail (upright, without metadata)",
                "operationId": "getUploadThumbnail",
                "responses": {
                    "200": {
                        "description": "A JPEG (or PNG when the image has transparency)",
                        "content": {"image/jpeg": {}, "image/png": {}},
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
            "schemas": components(limits),
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
    return build_spec(Limits.from_config(current_app.config))
