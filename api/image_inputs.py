"""Images in requests (data: URIs or URLs) uploaded to 1min.ai's asset store as attachments."""
from __future__ import annotations

import asyncio
import base64
import binascii
import uuid

from django.conf import settings

from api import onemin_client, url_fetcher
from core.errors import InvalidRequest, UpstreamError
from api.media_types import sniff_image


def _decode_data_uri(uri: str) -> bytes:
    header, sep, payload = uri.partition(",")
    if not sep or ";base64" not in header.lower():
        raise InvalidRequest("Image data URIs must be base64 encoded (data:image/...;base64,...).", param="image_url", code="invalid_image_url")
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        raise InvalidRequest("The image data URI is not valid base64.", param="image_url", code="invalid_image_url") from None
    if len(data) > settings.IMAGE_FETCH_MAX_BYTES:
        raise InvalidRequest("The image is too large.", param="image_url", code="image_too_large")
    return data


async def image_bytes(reference: str) -> bytes:
    if reference.startswith("data:"):
        return _decode_data_uri(reference)
    data, _content_type = await url_fetcher.fetch(reference)
    return data


async def upload_image(api_key: str, reference: str) -> str:
    """Upload one image; returns the asset path that goes into `attachments.images`."""
    data = await image_bytes(reference)
    kind = sniff_image(data)
    if kind is None:
        raise InvalidRequest(
            "The image is not a PNG, JPEG, GIF or WebP file.", param="image_url", code="invalid_image_format"
        )
    mime, ext = kind
    # 1min.ai rejects uploads whose name has no extension matching the content.
    result = await onemin_client.upload_asset(api_key, f"relay-{uuid.uuid4().hex}.{ext}", data, mime)
    return asset_path(result)


def asset_path(result: object) -> str:
    if isinstance(result, dict):
        content = result.get("fileContent")
        if isinstance(content, dict) and isinstance(content.get("path"), str):
            return content["path"]
        asset = result.get("asset")
        if isinstance(asset, dict) and isinstance(asset.get("key"), str):
            return asset["key"]
    raise UpstreamError("1min.ai accepted an upload but returned no asset path.")


async def upload_images(api_key: str, references: list[str]) -> list[str]:
    """Upload all images concurrently; any failure fails the request (never a text-only reply)."""
    if not references:
        return []
    return list(await asyncio.gather(*(upload_image(api_key, r) for r in references)))
