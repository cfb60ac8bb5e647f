"""1min.ai error bodies (flat, docs-style, plain text, HTML) to the relay's OpenAI-style errors."""
from __future__ import annotations

import json
import re
from typing import Any

from api.errors import (
    AuthenticationFailed,
    InvalidRequest,
    RateLimited,
    RelayError,
    UpstreamError,
)

# Provider request ids and URLs in upstream details are internal; clients never see them.
_INTERNAL = re.compile(r"(https?://\S+|/api/v\d[^\s\"']*|request[_ ]?id[\"':= ]+[\w-]+)", re.I)


def _scrub(text: str) -> str:
    return _INTERNAL.sub("[redacted]", text).strip()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return None


def _details_messages(details: Any) -> list[str]:
    """Messages hidden in `details`: a JSON string holding a field list or a provider response."""
    if isinstance(details, str):
        parsed = _json(details.encode())
        details = parsed if parsed is not None else details
    messages: list[str] = []
    if isinstance(details, list):
        for item in details:
            if isinstance(item, dict) and isinstance(item.get("message"), str):
                messages.append(item["message"])
            elif isinstance(item, str):
                messages.append(item)
    elif isinstance(details, dict):
        data = (details.get("response") or {}).get("data") if isinstance(
            details.get("response"), dict
        ) else None
        source = data if isinstance(data, dict) else details
        for key in ("message", "error", "detail"):
            value = source.get(key)
            if isinstance(value, str):
                messages.append(value)
                break
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                messages.append(value["message"])
                break
    elif isinstance(details, str) and details.strip():
        messages.append(details)
    return [_scrub(m) for m in messages if m and m.strip()]


def parse_error_body(body: bytes) -> tuple[str | None, str, list[str]]:
    """(errorCode, message, detail messages) from any of the upstream's error shapes."""
    data = _json(body)
    if isinstance(data, dict):
        if "errorCode" in data or ("message" in data and "error" not in data):
            return (
                data.get("errorCode"),
                str(data.get("message") or ""),
                _details_messages(data.get("details")),
            )
        error = data.get("error")
        if isinstance(error, dict):
            return (
                error.get("code"),
                str(error.get("message") or ""),
                _details_messages(error.get("details")),
            )
        if isinstance(error, str):
            return None, error, []
    text = body.decode("utf-8", errors="replace").strip()
    if text.lstrip().startswith("<"):
        return None, "", []  # an HTML error page (e.g. Cloudflare 522) says nothing useful
    return None, text[:500], []


def _retry_after(headers: dict[str, str]) -> dict[str, str]:
    value = headers.get("retry-after")
    return {"Retry-After": value} if value and value.strip().isdigit() else {}


def upstream_error(status: int, headers: dict[str, str], body: bytes) -> RelayError:
    """The error a client sees for a non-2xx upstream answer. `headers` has lower-case names."""
    code, message, details = parse_error_body(body)
    message = _scrub(message)
    if status in (401, 403):
        return AuthenticationFailed(
            "1min.ai rejected the API key. Check the key you sent as the Bearer token."
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
    if 400 <= status < 500:
        text = message
        if details:
            # A canned "service is busy" message hides the real cause in details; show both.
            extra = "; ".join(d for d in details if d not in text)
            text = f"{text} ({extra})" if text and extra else (text or extra)
        return InvalidRequest(
            f"1min.ai rejected the request: {text or f'HTTP {status}'}",
            code=code or "upstream_rejected",
            status=400 if status != 404 else 404,
        )
    suffix = f": {message[:200]}" if message else ""
    return UpstreamError(f"1min.ai failed with HTTP {status}{suffix}")
