"""Images in requests (data: URIs or URLs) uploaded to 1min.ai's asset store as attachments."""
from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from typing import Any, Awaitable, Callable, TypeVar

from django.conf import settings

from api.upstream import onemin_client, url_fetcher
from core.errors import InvalidRequest, RelayError, UpstreamError
from core.upstream_key import UpstreamKey
from api.media.media_types import sniff_image

T = TypeVar("T")


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


async def image_bytes(reference: str, budget: int | None = None) -> bytes:
    """The image's bytes; a download stops once past the per-image cap or what the request has left."""
    if reference.startswith("data:"):
        return _decode_data_uri(reference)
    limit = settings.IMAGE_FETCH_MAX_BYTES if budget is None else min(settings.IMAGE_FETCH_MAX_BYTES, budget)
    if limit <= 0:
        raise _too_large_together()
    try:
        data, _content_type = await url_fetcher.fetch(reference, limit)
    except InvalidRequest as error:
        if error.code == "image_too_large" and limit < settings.IMAGE_FETCH_MAX_BYTES:
            raise _too_large_together() from None  # what ran out is the request's allowance
        raise
    return data


def _too_large_together() -> InvalidRequest:
    return InvalidRequest(
        f"The images in this request are larger than {settings.IMAGE_REQUEST_MAX_BYTES} bytes together.",
        param="messages", code="images_too_large",
    )


async def loaded_image(reference: str, budget: "ByteBudget") -> tuple[bytes, str, str]:
    """(bytes, mime type, extension) of one image, checked to be a PNG, JPEG, GIF or WebP file."""
    data = await image_bytes(reference, budget.remaining())
    budget.spend(len(data))
    kind = sniff_image(data)
    if kind is None:
        raise InvalidRequest(
            "The image is not a PNG, JPEG, GIF or WebP file.", param="image_url", code="invalid_image_format"
        )
    return data, kind[0], kind[1]


async def _upload_loaded(upstream_key: UpstreamKey, image: tuple[bytes, str, str]) -> str:
    data, mime, ext = image
    # 1min.ai rejects uploads whose name has no extension matching the content.
    result = await onemin_client.upload_asset(upstream_key, f"relay-{uuid.uuid4().hex}.{ext}", data, mime)
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


class ByteBudget:
    """The bytes of images one request may bring in (IMAGE_REQUEST_MAX_BYTES), spent as they arrive."""

    def __init__(self, limit: int) -> None:
        self.limit, self.spent = limit, 0

    def remaining(self) -> int:
        return max(0, self.limit - self.spent)

    def spend(self, size: int) -> None:
        self.spent += size
        if self.spent > self.limit:
            raise _too_large_together()


async def _each_bounded(items: list[Any], work: Callable[[Any], Awaitable[T]]) -> list[T]:
    """`work(item)` for every item, IMAGE_FETCH_CONCURRENCY at a time, results in order; the first
    failure cancels the rest (no more downloads or uploads go out) and is what the caller sees."""
    gate = asyncio.Semaphore(settings.IMAGE_FETCH_CONCURRENCY)
    failed = False

    async def one(item: Any) -> T:
        nonlocal failed
        async with gate:
            # A failure releases the gate before the TaskGroup cancels the rest: the next item
            # would run first (and, over a pooled connection, send its upload at once).
            if failed:
                raise asyncio.CancelledError
            try:
                return await work(item)
            except BaseException:
                failed = True
                raise

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item)) for item in items]
    except BaseExceptionGroup as failures:
        first = next((e for e in failures.exceptions if isinstance(e, RelayError)), failures.exceptions[0])
        raise first from None
    return [task.result() for task in tasks]


async def upload_images(upstream_key: UpstreamKey, references: list[str]) -> list[str]:
    """Upload all images; any failure fails the request (never a text-only reply).

    Every image is counted, fetched and checked before the first upload, so a bad one costs
    1min.ai nothing; fetches and uploads run a few at a time, and the first failure stops the rest.
    """
    if not references:
        return []
    if len(references) > settings.MAX_IMAGES_PER_REQUEST:
        raise InvalidRequest(
            f"A request may carry at most {settings.MAX_IMAGES_PER_REQUEST} images; this one has {len(references)}.",
            param="messages", code="too_many_images",
        )
    budget = ByteBudget(settings.IMAGE_REQUEST_MAX_BYTES)
    images = await _each_bounded(references, lambda reference: loaded_image(reference, budget))
    try:
        return await _each_bounded(images, lambda image: _upload_loaded(upstream_key, image))
    finally:
        images.clear()  # the bytes go now, not when the request's frames do
