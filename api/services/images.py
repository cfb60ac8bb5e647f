"""One image generation: model choice, family rules, the IMAGE_GENERATOR call, URLs or base64."""
from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

from django.conf import settings

from api.upstream import onemin_client

from core import token_counting
from core.call_context import CallContext
from core.errors import UpstreamError
from core.upstream_key import UpstreamKey
from api.model_registry import registry, resolve_model
from api.services.features import call_feature
from api.request_schemas.media import ImageRequest
from api.translators import features
from api.translators import images as tr
from api.translators.models import IMAGE


async def default_model() -> str:
    """DEFAULT_IMAGE_MODEL if it is an active image model, else the catalogue's first one."""
    configured = settings.DEFAULT_IMAGE_MODEL
    try:
        snapshot = await registry.snapshot()
    except UpstreamError:
        return configured  # no catalogue: let 1min.ai judge the configured model
    active = [e["id"] for e in snapshot.models.values()
              if e["status"] == "ACTIVE" and IMAGE in e["features"]]
    return configured if configured in active or not active else active[0]


async def _b64(path: str, fallback: str | None) -> str:
    """Download one generated image and base64 it; the signed URL is the second chance."""
    url = features.asset_url(path, settings.ONE_MIN_ASSET_CDN_URL)
    try:
        data, _type = await onemin_client.fetch_asset(url, settings.ASSET_FETCH_MAX_BYTES)
    except UpstreamError:
        if not fallback:
            raise
        data, _type = await onemin_client.fetch_asset(fallback, settings.ASSET_FETCH_MAX_BYTES)
    return base64.b64encode(data).decode("ascii")


async def generate(request: ImageRequest, upstream_key: UpstreamKey, call: CallContext) -> dict[str, Any]:
    call.model = request.model.strip() if request.model else await default_model()  # labels a refusal too
    resolved = await resolve_model(call.model, IMAGE)
    model = call.model = resolved.target
    body = tr.build_body(model, request)
    record = await call_feature(upstream_key, body, tr.FIELD_PARAMS, tr.param_for_message)
    paths = features.result_paths(record)[: request.n]
    if not paths:
        raise UpstreamError("1min.ai reported success but returned no image.")
    if request.response_format == "b64_json":
        # The signed temporaryUrl covers only the first image (contract §5.2).
        temporary = features.temporary_url(record)
        encoded = await asyncio.gather(
            *(_b64(path, temporary if i == 0 else None) for i, path in enumerate(paths)))
        data = [{"b64_json": value} for value in encoded]
    else:
        data = [{"url": features.asset_url(p, settings.ONE_MIN_ASSET_CDN_URL)} for p in paths]
    call.note_usage(await token_counting.count_text_async(request.prompt, model), 0)
    return {"created": int(time.time()), "data": data,
            **tr.response_extras(model, body["promptObject"])}
