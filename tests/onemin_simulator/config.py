"""Global switches of the simulator and the script keys it understands, with their validation."""
from __future__ import annotations

import copy
from typing import Any

# Every switch accepted by Simulator.configure() and POST /_sim/config, with its default.
DEFAULTS: dict[str, Any] = {
    # auth
    "accept_any_key": True,
    # recording: False keeps no request log (a long soak; the log grows by a request's dict each call)
    "record_requests": True,
    # error bodies: "flat" (observed live), "docs", "text", "html"
    "error_envelope": "flat",
    "rate_limit_envelope": "docs",
    # unified chat validation
    "strict_type": False,
    "prompt_validation_status": 422,
    "stream_validation_errors": "event",
    "web_search_400": False,
    "web_search_crawl_lines": False,
    "conversation_not_found_status": 400,
    "conversation_title_max": 91,
    # chat record accounting
    "metadata_mode": "normal",
    "finish_reason": "stop",
    "image_metadata_mode": "empty",
    # stream byte shaping
    "chunk_size": None,
    "chunk_delay_ms": 0,
    "stream_transfer": "chunked",
    "duplicate_final": False,
    "multi_data_lines": False,
    "crlf": False,
    # legacy chat on /api/features
    "legacy_chat": "rejected",
    # limits and failures
    "models_fail": False,
    "rate_limit_per_minute": None,
    "rate_limit_retry_after": None,
    "insufficient_credits": False,
    "insufficient_credits_status": 402,
    "asset_max_bytes": 50 * 1024 * 1024,
    "credit_limit": 214748364,
    "initial_used_credit": 3086973,
    # base used for temporaryUrl, asset location (None = the simulator's own url)
    "public_url": None,
}

CHOICES: dict[str, set[Any]] = {
    "error_envelope": {"flat", "docs", "text", "html"},
    "rate_limit_envelope": {"flat", "docs", "text", "html"},
    "stream_validation_errors": {"event", "http"},
    "metadata_mode": {"normal", "null", "zeros", "no_total"},
    "image_metadata_mode": {"empty", "moderation"},
    "stream_transfer": {"chunked", "close"},
    "legacy_chat": {"rejected", "works"},
}

# Keys a scripted reply may carry (Simulator.script); anything else is a typo and is refused.
SCRIPT_KEYS: frozenset[str] = frozenset({
    # success overrides
    "text", "metadata", "finish_reason", "record_status", "headers", "omit_temporary_url",
    # failures
    "status", "error_code", "message", "details", "context", "envelope", "retry_after",
    "invalid_json",
    # timing
    "delay_headers_ms", "delay_body_ms", "chunk_size", "chunk_delay_ms",
    # stream shaping and failures
    "stream_error_before", "stream_error_after", "drop_after", "stall_after", "stall_ms",
    "duplicate_final", "multi_data_lines", "omit_result", "omit_done", "done_after_error", "crlf",
})


def defaults() -> dict[str, Any]:
    """A fresh copy of the default switches."""
    return copy.deepcopy(DEFAULTS)


def validate_switches(switches: dict[str, Any]) -> dict[str, Any]:
    """Refuse unknown switch names and out-of-range choices so a typo fails loudly in the test."""
    unknown = sorted(set(switches) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown simulator switch(es): {', '.join(unknown)}")
    for name, value in switches.items():
        allowed = CHOICES.get(name)
        if allowed is not None and value not in allowed:
            raise ValueError(f"switch {name}={value!r} not in {sorted(allowed)}")
    size = switches.get("chunk_size")
    if size is not None and (not isinstance(size, int) or size < 1):
        raise ValueError("chunk_size must be a positive int or None")
    fr = switches.get("finish_reason", "stop")
    if fr is not None and not isinstance(fr, str):
        raise ValueError("finish_reason must be a string or None")
    return switches


def validate_script(reply: dict[str, Any]) -> dict[str, Any]:
    """Refuse unknown script keys (a misspelt failure key would otherwise silently succeed)."""
    if not isinstance(reply, dict):
        raise ValueError("a scripted reply must be a dict")
    unknown = sorted(set(reply) - SCRIPT_KEYS)
    if unknown:
        raise ValueError(f"unknown script key(s): {', '.join(unknown)}")
    return reply
