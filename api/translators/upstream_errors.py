"""1min.ai error bodies (flat, docs-style, plain text, HTML) to the relay's OpenAI-style errors."""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from api import large_json
from core import redaction
from core.errors import (
    InvalidRequest,
    RateLimited,
    RelayError,
    UpstreamError,
    UpstreamKeyRefused,
    UpstreamOverloaded,
)
from core.retry_after import parse_retry_after

# Provider request ids and URLs in upstream details are internal; clients never see them.
_INTERNAL = re.compile(
    r"(https?://\S+|(?<![\w/])/(?:api/)?v\d+/[^\s\"']*|request[_ ]?id[\"':= ]+[\w-]+)", re.I
)


def _scrub(text: str) -> str:
    # Bounded first, as redaction is: a client sees at most MAX_MESSAGE_CHARS of a message, and the
    # pattern took over a second on a 16 MB one.
    return _INTERNAL.sub("[redacted]", text[:redaction.MAX_MESSAGE_CHARS + 200]).strip()


def _json(body: bytes) -> Any:
    try:
        if len(body) > large_json.LARGE_BYTES:
            # 1min.ai may echo a prompt of megabytes: its long strings decoded a piece at a time, so
            # the thread this runs on (see onemin_client) gives the event loop the GIL back between them.
            return large_json.loads(body)
        return json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return None


@dataclass
class Details:
    """What an upstream `details` value says: messages, the field at fault, the provider's status."""

    messages: list[str]
    field: str | None = None
    status: int | None = None


def _details(details: Any) -> Details:
    """Read `details`: a JSON string holding a field list or a provider's response."""
    if isinstance(details, str):
        parsed = _json(details.encode())
        details = parsed if parsed is not None else details
    messages: list[str] = []
    field: str | None = None
    status: int | None = None
    if isinstance(details, list):
        for item in details:
            if isinstance(item, dict) and isinstance(item.get("message"), str):
                messages.append(item["message"])
                if field is None and isinstance(item.get("field"), str):
                    field = item["field"]
            elif isinstance(item, str):
                messages.append(item)
    elif isinstance(details, dict):
        response = details.get("response") if isinstance(details.get("response"), dict) else None
        data = response.get("data") if response else None
        if response and isinstance(response.get("status"), int):
            status = response["status"]
        source = data if isinstance(data, dict) else details
        for key in ("message", "error", "detail"):
            value = source.get(key)
            if isinstance(value, str):
                messages.append(value)
                break
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                messages.append(value["message"])
                # A provider speaking OpenAI's dialect names the parameter itself.
                if isinstance(value.get("param"), str):
                    field = value["param"]
                break
        if field is None and isinstance(source.get("param"), str):
            field = source["param"]
    elif isinstance(details, str) and details.strip():
        messages.append(details)
    return Details([_scrub(m) for m in messages if m and m.strip()], field, status)


def parse_error_body(body: bytes) -> tuple[str | None, str, list[str]]:
    """(errorCode, message, detail messages) from any of the upstream's error shapes."""
    code, message, details = _parse(body)
    return code, message, details.messages


def _parse(body: bytes) -> tuple[str | None, str, Details]:
    data = _json(body)
    if isinstance(data, dict):
        if "errorCode" in data or ("message" in data and "error" not in data):
            return data.get("errorCode"), str(data.get("message") or ""), _details(data.get("details"))
        error = data.get("error")
        if isinstance(error, dict):
            return error.get("code"), str(error.get("message") or ""), _details(error.get("details"))
        if isinstance(error, str):
            return None, error, Details([])
    text = body.decode("utf-8", errors="replace").strip()
    if text.lstrip().startswith("<"):
        return None, "", Details([])  # an HTML error page (e.g. Cloudflare 522) says nothing useful
    return None, text[:500], Details([])


def _retry_after(headers: dict[str, str], now: float | None = None) -> dict[str, str]:
    """Retry-After as delta-seconds, whichever form 1min.ai sent (seconds or an HTTP date)."""
    wait = parse_retry_after(headers.get("retry-after"), time.time() if now is None else now)
    return {} if wait is None else {"Retry-After": str(math.ceil(wait))}


def _provider_error(message: str, found: Details) -> RelayError | None:
    """EXTERNAL_API_RESPONSE_WITH_ERROR: 1min.ai's provider refused. Its canned "busy, try again"
    message is only true when the provider failed (5xx); otherwise the cause is in `details`."""
    if found.status is not None and found.status >= 500:
        return UpstreamOverloaded(f"1min.ai's provider failed: {message or 'no details'}")
    if not found.messages:
        return None
    return InvalidRequest(
        f"1min.ai's provider rejected the request: {'; '.join(found.messages)}",
        param=found.field,
        code="EXTERNAL_API_RESPONSE_WITH_ERROR",
    )


def upstream_error(status: int, headers: dict[str, str], body: bytes) -> RelayError:
    """The error a client sees for a non-2xx upstream answer. `headers` has lower-case names."""
    code, message, found = _parse(body)
    details = found.messages
    message = _scrub(message)
    if status in (401, 403):
        return UpstreamKeyRefused(
            "1min.ai rejected the API key. Check the key you sent (Bearer token or x-api-key)."
        )
    if status == 429:
        return RateLimited(
            "1min.ai rate limit reached for this API key. Retry after a short wait.",
            headers=_retry_after(headers),
        )
    if status == 402:
        return RelayError(
            message or "1min.ai reports insufficient credits for this request.",
            status=402,
            type="insufficient_quota",
            code=code or "insufficient_quota",
        )
    if code == "EXTERNAL_API_RESPONSE_WITH_ERROR":
        provider_error = _provider_error(message, found)
        if provider_error is not None:
            return provider_error
    if 400 <= status < 500:
        text = message
        if details:
            # A canned "service is busy" message hides the real cause in details; show both.
            extra = "; ".join(d for d in details if d not in text)
            text = f"{text} ({extra})" if text and extra else (text or extra)
        return InvalidRequest(
            f"1min.ai rejected the request: {text or f'HTTP {status}'}",
            param=found.field,
            code=code or "upstream_rejected",
            status=400 if status != 404 else 404,
        )
    suffix = f": {message[:200]}" if message else ""
    if status in (503, 529):
        return UpstreamOverloaded(f"1min.ai failed with HTTP {status}{suffix}")
    return UpstreamError(f"1min.ai failed with HTTP {status}{suffix}")
