"""Multipart audio uploads: the size limit, enforced before Django reads a body and while parsing it.

Daphne (Twisted) receives a request body before the application runs, so only a reverse proxy
can refuse the bytes on the wire. What the relay can do is refuse before Django copies, spools
and parses them: by the declared Content-Length, by counting an undeclared (chunked) body, and
by counting the file part itself while the multipart parser streams it.
"""
from __future__ import annotations

import io
import json
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from core.errors import InvalidRequest, PayloadTooLarge

AUDIO_UPLOAD_PATHS = frozenset({"/v1/audio/transcriptions", "/v1/audio/translations"})
# Room for the other form fields and the multipart boundaries around the file.
FORM_OVERHEAD = 1024 * 1024


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Audio files may be at most {limit / (1024 * 1024):g} MB ({limit} bytes). "
        "Split or compress the recording.",
        param="file",
    )


def body_allowance() -> int:
    return settings.MAX_AUDIO_UPLOAD_BYTES + FORM_OVERHEAD


class UploadSizeGuard:
    """ASGI middleware: a 413 in the OpenAI envelope for audio bodies over the limit."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "POST" \
                or scope.get("path") not in AUDIO_UPLOAD_PATHS:
            return await self.app(scope, receive, send)
        allowance = body_allowance()
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if declared.strip().isdigit() and int(declared) > allowance:
                return await self._refuse(send)
            return await self.app(scope, receive, send)
        # No declared length: read up to the allowance here, then replay it to Django.
        messages, total = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > allowance:
                return await self._refuse(send)
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay() -> dict[str, Any]:
            return next(pending, None) or await receive()

        # Django and DRF read a body by its Content-Length: now that the length is known, say it.
        known = [(k, v) for k, v in scope.get("headers") or [] if k != b"transfer-encoding"]
        scope = {**scope, "headers": known + [(b"content-length", str(total).encode())]}
        return await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Any) -> None:
        body = json.dumps(too_large(settings.MAX_AUDIO_UPLOAD_BYTES).body()).encode()
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close")],
        })
        await send({"type": "http.response.body", "body": body})


class BoundedMemoryUploadHandler(FileUploadHandler):
    """Keeps uploaded files in memory and stops the parse as soon as one passes `limit` bytes."""

    def __init__(self, request: Any, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.buffer = io.BytesIO()
        self.size = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer, self.size = io.BytesIO(), 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit:
            raise too_large(self.limit)
        self.buffer.write(raw_data)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer, field_name=self.field_name, name=self.file_name,
            content_type=self.content_type, size=file_size, charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


async def read_form(request: Any) -> tuple[Any, Any]:
    """(fields, files) of a DRF request's multipart body, parsed off the event loop."""
    limit = settings.MAX_AUDIO_UPLOAD_BYTES
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > body_allowance():
        raise too_large(limit)
    request._request.upload_handlers = [BoundedMemoryUploadHandler(request._request, limit)]

    def parse() -> tuple[Any, Any]:
        return request.data, request.FILES

    # Parsing up to 25 MB is CPU and file work: keep it off the loop that serves other calls.
    try:
        return await sync_to_async(parse, thread_sensitive=False)()
    except SuspiciousOperation as error:  # too many fields or files in one form
        raise InvalidRequest(f"The multipart form was refused: {error}", code="invalid_body") from None
