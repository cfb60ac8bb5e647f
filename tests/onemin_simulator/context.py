"""The per-request context handed to route handlers, plus helpers they share."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from .envelopes import ApiError
from .state import SimState
from .wire import HttpRequest, Response, StreamResponse

Reply = Union[Response, StreamResponse]


@dataclass
class Ctx:
    """What a handler needs: the request, its recorded entry, the caller's key, the switches."""

    state: SimState
    request: HttpRequest
    record: dict[str, Any]
    config: dict[str, Any]
    api_key: str = ""
    params: dict[str, str] = field(default_factory=dict)
    match_text: str = ""

    @property
    def json(self) -> Any:
        return self.record["json"]

    @property
    def streaming(self) -> bool:
        return self.request.query.get("isStreaming", "").lower() == "true"

    def take_script(self) -> dict[str, Any]:
        """Claim the next success script for this path (a copy of its reply dict), or {}."""
        return self.state.take_script(self.request.path, self.match_text)

    def body_object(self) -> dict[str, Any]:
        """The JSON body, refusing anything that is not an object (Express would 400 too)."""
        if self.record["json_error"]:
            raise ApiError(400, "INVALID_REQUEST", "Unexpected token in JSON body")
        body = self.record["json"]
        if not isinstance(body, dict):
            raise ApiError(400, "REQUEST_BODY_VALIDATION_FAILED",
                           "Request body must be a JSON object (Content-Type: application/json)")
        return body


def with_timing(response: Response, script: dict[str, Any]) -> Response:
    """Apply a success script's delays and extra headers to a complete response."""
    response.delay_headers_ms = int(script.get("delay_headers_ms") or 0)
    response.delay_body_ms = int(script.get("delay_body_ms") or 0)
    response.headers.update(script.get("headers") or {})
    return response
