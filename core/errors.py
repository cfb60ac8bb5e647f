"""The error envelopes (OpenAI's, and Anthropic's for /v1/messages): one exception hierarchy, one handler."""
from __future__ import annotations

from typing import Any

import logging

# Django and DRF are imported inside the functions that render errors, so that pure translators
# can raise these exceptions without importing the web stack.

logger = logging.getLogger(__name__)


class RelayError(Exception):
    """An error a client sees as `{"error": {"message", "type", "param", "code"}}` with `status`."""

    status = 500
    type = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        from core.redaction import bounded

        message = bounded(message)  # echoed client input (a 1 MB model name) stays out of the body
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(RelayError):
    status = 400
    type = "invalid_request_error"


class AuthenticationFailed(RelayError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class UpstreamKeyRefused(AuthenticationFailed):
    """1min.ai refused the 1min.ai key this call was made with."""


class PermissionDenied(RelayError):
    status = 403
    type = "invalid_request_error"
    code = "permission_denied"


class NotFound(RelayError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"

    def __init__(self, model: str) -> None:
        from core.redaction import truncated

        super().__init__(
            f"The model `{truncated(model)}` does not exist or you do not have access to it.",
            param="model",
        )


class ModelNotSupported(InvalidRequest):
    """A model that exists but does another job (an image model sent to chat, ...)."""

    code = "model_not_supported"

    def __init__(self, message: str) -> None:
        super().__init__(message, param="model")


class PayloadTooLarge(RelayError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class RateLimited(RelayError):
    status = 429
    type = "requests"
    code = "rate_limit_exceeded"


class UpstreamError(RelayError):
    """1min.ai failed or could not be reached (502), or did not answer in time (504)."""

    status = 502
    type = "api_error"
    code = "upstream_error"


class StructuredOutputFailed(UpstreamError):
    """The model's reply stayed invalid for the requested JSON format after the one repair request.

    `X-Should-Retry: false` stops the OpenAI SDKs from silently re-running (and re-paying) the call.
    """

    code = "structured_output_failed"

    def __init__(self, message: str) -> None:
        super().__init__(message, param="response_format", headers={"X-Should-Retry": "false"})


class UpstreamOverloaded(UpstreamError):
    """1min.ai or its provider is busy (a 503/529, "try again later"): the same 502 for OpenAI
    clients; Anthropic's clients get their 529 overloaded_error, which they retry."""


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"


class ToolCallFailed(UpstreamError):
    """`tool_choice` required or named, and the model gave no valid call even after one repair.
    `usage` is (input tokens, output tokens, credits) of the upstream calls made, for accounting."""

    code = "tool_call_failed"
    usage: tuple[int, int, int | None] = (0, 0, None)


# Anthropic's error types by status (https://docs.anthropic.com/en/api/errors); the relay's own
# "try again shortly" 503s are Anthropic's 529 overloaded_error, which its SDKs retry.
_ANTHROPIC_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
    403: "permission_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
    503: "overloaded_error", 529: "overloaded_error",
}
ANTHROPIC_OVERLOADED_STATUS = 529


def anthropic_status(error: RelayError) -> int:
    overloaded = error.status == 503 or isinstance(error, UpstreamOverloaded)
    return ANTHROPIC_OVERLOADED_STATUS if overloaded else error.status


def anthropic_body(error: RelayError) -> dict[str, Any]:
    """`{"type": "error", "error": {"type", "message"}}`, the type chosen by status."""
    status = anthropic_status(error)
    default = "api_error" if status >= 500 else "invalid_request_error"
    return {"type": "error", "error": {"type": _ANTHROPIC_TYPES.get(status, default), "message": error.message}}


def envelope_body(error: RelayError, envelope: str = "openai") -> tuple[dict[str, Any], int]:
    """The body and status of `error` in the named envelope ("openai" or "anthropic")."""
    if envelope == "anthropic":
        return anthropic_body(error), anthropic_status(error)
    return error.body(), error.status


def envelope_for_path(path: str) -> str:
    """Which envelope a path's errors use when no view is there to say (body limits, host checks)."""
    return "anthropic" if path == "/v1/messages" or path.startswith("/v1/messages/") else "openai"


def error_response(error: RelayError, envelope: str = "openai") -> Any:
    from django.http import JsonResponse

    body, status = envelope_body(error, envelope)
    response = JsonResponse(body, status=status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def _from_drf(exc: Any, accepted: list[str] | None = None) -> RelayError:
    """`accepted`: the media types the view parses (JSON unless it says otherwise)."""
    from rest_framework import exceptions as drf_exceptions

    detail = exc.detail
    message = detail if isinstance(detail, str) else str(detail)
    accepted = accepted or ["application/json"]
    if isinstance(exc, drf_exceptions.ParseError):
        if "application/json" not in accepted:
            return InvalidRequest(
                f"We could not parse the body of your request. ({message}) "
                f"This endpoint expects {' or '.join(accepted)}.",
                code="invalid_body",
            )
        return InvalidRequest(
            "We could not parse the JSON body of your request. "
            f"({message}) This endpoint expects a JSON payload.",
            code="invalid_json",
        )
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return RelayError(
            f"{message} Send the body as {' or '.join(accepted)}.",
            status=415,
            type="invalid_request_error",
            code="unsupported_media_type",
        )
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return RelayError(
            message, status=405, type="invalid_request_error", code="method_not_allowed"
        )
    if isinstance(exc, drf_exceptions.NotFound):
        return NotFound(message)
    return RelayError(message, status=exc.status_code, type="invalid_request_error")


def to_relay_error(exc: BaseException, accepted: list[str] | None = None) -> RelayError | None:
    """The client-facing error for `exc`, or None when it is a bug (rendered as a plain 500)."""
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
    from django.http import Http404
    from rest_framework import exceptions as drf_exceptions

    if isinstance(exc, RelayError):
        return exc
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge("The request body is too large.")
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return InvalidRequest(f"The form has too many parts: {exc}", code="too_many_parts")
    if isinstance(exc, drf_exceptions.APIException):
        return _from_drf(exc, accepted)
    if isinstance(exc, Http404):
        return NotFound("Not found.")
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF's EXCEPTION_HANDLER: every error under /v1/ leaves through here."""
    view = context.get("view")
    accepted = [p.media_type for p in getattr(view, "parser_classes", None) or []]
    error = to_relay_error(exc, accepted or None)
    if error is None:
        logger.exception("unhandled error in %s", context.get("view"))
        error = RelayError("The relay hit an internal error.", code="internal_error")
    return error_response(error, getattr(view, "error_envelope", "openai"))
