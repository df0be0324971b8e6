"""Error pages in the dashboard's style, htmx fragments, and JSON errors under /api."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import faults
from .extensions import login_manager
from .services.errors import ServiceError
from .views.htmx import is_partial

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "bad_request",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_failed",
    429: "rate_limited",
    503: "unavailable",
}


def wants_json() -> bool:
    """API and webhook paths always answer errors in JSON."""
    return request.path.startswith(("/api/", "/webhooks/"))


def error_response(
    status: int, message: str, code: str | None = None, details: dict[str, Any] | None = None
) -> ResponseReturnValue:
    """One error, as SPEC §5 JSON for the API, a fragment for htmx, or a full page."""
    code = code or CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    if wants_json():
        return jsonify(
            {"error": {"code": code, "message": message, "details": details or {}}}
        ), status
    template = "errors/_error.html" if is_partial() else "errors/error.html"
    resp = render_template(template, status=status, message=message), status
    return resp


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> ResponseReturnValue:
        return error_response(
            400,
            "The form's security token is missing or expired. Reload the page and try again.",
            code="bad_request",
            details={"reason": "csrf"},
        )

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError) -> ResponseReturnValue:
        return error_response(exc.status, exc.message, code=exc.code, details=exc.details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        messages = {
            403: "You do not have access to this.",
            404: "There is nothing here.",
            405: "That method is not allowed here.",
            413: "That is too large.",
            429: "Too many requests. Wait a moment and try again.",
        }
        resp = error_response(status, messages.get(status, exc.description or exc.name))
        return resp

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> ResponseReturnValue:
        service = faults.outage_of(exc)
        if service is not None:  # PostgreSQL or Redis is down: 503, and no traceback per hit
            faults.safe_rollback()
            faults.report(service, exc, f"{request.method} {request.path}")
            # The page must render without the database: show it to an anonymous visitor.
            g._login_user = login_manager.anonymous_user()
            return error_response(503, faults.UNAVAILABLE_MESSAGE, details={"service": service})
        app.logger.exception("unhandled error")
        return error_response(
            500, "Something went wrong on our side. It has been logged.", code="internal_error"
        )
