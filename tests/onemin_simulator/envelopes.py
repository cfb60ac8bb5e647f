"""Error bodies in the shapes the upstream has been seen to use: flat, docs, plain text, HTML."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

from .server import reason
from .wire import Response, dumps

DEFAULT_CODES = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 402: "INSUFFICIENT_CREDITS",
                 403: "FORBIDDEN", 404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE",
                 422: "PROMPT_OBJECT_VALIDATION_FAILED", 429: "RATE_LIMITED"}
DEFAULT_MESSAGES = {400: "Missing required parameters or invalid format",
                    401: "Invalid or missing API key", 402: "Not enough credits",
                    429: "Too many requests"}


class ApiError(Exception):
    """A refusal the simulator answers with an error envelope (or an `event: error` in a stream)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 context: Optional[dict[str, Any]] = None,
                 headers: Optional[dict[str, str]] = None, envelope: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.context = context
        self.headers = headers or {}
        self.envelope = envelope


def default_code(status: int) -> str:
    if status >= 500:
        return "INTERNAL_SERVER_ERROR"
    return DEFAULT_CODES.get(status, "UNKNOWN_ERROR")


def default_message(status: int) -> str:
    return DEFAULT_MESSAGES.get(status, reason(status))


def flat_body(err: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"errorCode": err.code, "message": err.message}
    if err.details is not None:
        # Live captures carry `details` as a JSON-encoded string, never as an object.
        body["details"] = err.details if isinstance(err.details, str) else json.dumps(
            err.details, ensure_ascii=False, separators=(",", ":"))
    if err.context is not None:
        body["context"] = err.context
    return body


def docs_body(err: ApiError) -> dict[str, Any]:
    error: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.details is not None:
        details = err.details
        if isinstance(details, str):
            try:
                details = json.loads(details)
            except ValueError:
                pass
        error["details"] = details
    return {"success": False, "error": error}


def cloudflare_page(status: int) -> str:
    """An HTML error page in the style Cloudflare serves when the origin fails (e.g. 522)."""
    title = reason(status)
    ray = hashlib.sha256(str(status).encode()).hexdigest()[:16]
    return (
        "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head>\n"
        f"<title>api.1min.ai | {status}: {title}</title>\n"
        "<meta charset=\"UTF-8\" />\n</head>\n<body>\n<div id=\"cf-wrapper\">\n"
        f"<h1><span class=\"cf-error-type\">{title}</span> "
        f"<span class=\"cf-error-code\">Error code {status}</span></h1>\n"
        "<p>Visit <a href=\"https://www.cloudflare.com/\">cloudflare.com</a> for more "
        "information.</p>\n"
        f"<p>Cloudflare Ray ID: <strong class=\"font-semibold\">{ray}</strong></p>\n"
        "</div>\n</body>\n</html>\n"
    )


def error_response(err: ApiError, envelope: str, **kwargs: Any) -> Response:
    """Render `err` in the given envelope ("flat", "docs", "text", "html")."""
    envelope = err.envelope or envelope
    headers = dict(err.headers)
    headers.update(kwargs.pop("headers", {}))
    if envelope == "html":
        # Cloudflare answers for its own hosts, so its server header is what a relay would see.
        headers.setdefault("Server", "cloudflare")
        return Response(status=err.status, body=cloudflare_page(err.status).encode("utf-8"),
                        content_type="text/html; charset=UTF-8", headers=headers, **kwargs)
    if envelope == "text":
        return Response(status=err.status, body=err.message.encode("utf-8"),
                        content_type="text/plain; charset=utf-8", headers=headers, **kwargs)
    body = docs_body(err) if envelope == "docs" else flat_body(err)
    return Response(status=err.status, body=dumps(body), headers=headers, **kwargs)


def scripted_error(reply: dict[str, Any], config: dict[str, Any]) -> tuple[ApiError, str]:
    """The ApiError and envelope a failure script asks for."""
    status = int(reply.get("status") or 400)
    headers = {}
    if reply.get("retry_after") is not None:
        headers["Retry-After"] = str(reply["retry_after"])
    err = ApiError(status, reply.get("error_code") or default_code(status),
                   reply.get("message") or default_message(status),
                   details=reply.get("details"), context=reply.get("context"), headers=headers)
    default_env = config["rate_limit_envelope"] if status == 429 else config["error_envelope"]
    return err, reply.get("envelope") or default_env
