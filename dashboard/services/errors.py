"""Errors that services raise; the API, sockets and pages each turn them into their own form."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A refused request: `code` is the SPEC §5 error code, `status` its HTTP status."""

    code = "bad_request"
    status = 400

    def __init__(
        self, message: str, details: dict[str, Any] | None = None, *, code: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        """The `error` object of an API error body or a socket ack."""
        return {"code": self.code, "message": self.message, "details": self.details}


class BadRequest(ServiceError):
    code, status = "bad_request", 400


class Unauthorized(ServiceError):
    code, status = "unauthorized", 401


class Forbidden(ServiceError):
    code, status = "forbidden", 403


class NotFound(ServiceError):
    code, status = "not_found", 404


class Conflict(ServiceError):
    code, status = "conflict", 409


class PayloadTooLarge(ServiceError):
    code, status = "payload_too_large", 413


class ValidationFailed(ServiceError):
    code, status = "validation_failed", 422


class RateLimited(ServiceError):
    code, status = "rate_limited", 429


class Unavailable(ServiceError):
    code, status = "unavailable", 503
