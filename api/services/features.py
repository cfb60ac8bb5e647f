"""The /api/features call that every media endpoint makes, with errors named in OpenAI's terms."""
from __future__ import annotations

from typing import Any, Callable

from django.conf import settings

from api.upstream import onemin_client
from core.errors import InvalidRequest, UpstreamError
from core.upstream_key import UpstreamKey
from api.translators import features


async def call_feature(upstream_key: UpstreamKey, body: Any, field_params: dict[str, str],
                       guess_param: Callable[[str], str | None] | None = None) -> dict[str, Any]:
    """POST one /api/features call; upstream complaints name the OpenAI parameter at fault."""
    try:
        payload = await onemin_client.post_json(f"{settings.ONE_MIN_API_URL}?isStreaming=false",
                                                upstream_key, dict(body))
    except InvalidRequest as error:
        if error.code == "UNSUPPORTED_MODEL":
            error.param = "model"
        else:
            error.param = features.upstream_param(error.param, field_params) or (
                guess_param(error.message) if guess_param else None)
        raise
    record = features.record_of(payload)
    if not record or not features.succeeded(record):
        status = record.get("status") if record else "no record"
        raise UpstreamError(f"1min.ai did not complete the request (status: {status}).")
    return record
