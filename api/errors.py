"""The OpenAI error envelope: one exception hierarchy and the one handler that renders it."""
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
        super().__init__(
            f"The model `{model}` does not exist or you do not have access to it.",
            param="model",
        )


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


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"


class ToolCallFailed(UpstreamError):
    """`tool_choice` required or named, and the model gave no valid call even after one repair.
    `usage` is (input tokens, output tokens, credits) of the upstream calls made, for accounting."""

    code = "tool_call_failed"
    usage: tuple[int, int, int | None] = (0, 0, None)


def error_response(error: RelayError) -> Any:
    from django.http import JsonResponse

    response = JsonResponse(error.body(), status=error.status)
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
            f"({message}) The OpenAI API expects a JSON payload.",
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
    return error_response(error)
