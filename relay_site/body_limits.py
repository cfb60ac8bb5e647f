"""Request body limits per endpoint, enforced by daphne's HTTP layer before a body is read.

Daphne (twisted.web) reads a whole request body into memory or a temporary file before the ASGI
application sees it, so a check in Django comes after the damage. `GuardedWebRequest` checks the
declared Content-Length as soon as the headers are in, and counts the bytes of chunked bodies as
they arrive; past the limit it answers 413 in the endpoint's error envelope and stops storing the body.
"""
from __future__ import annotations

import json
import logging

from django.conf import settings

logger = logging.getLogger(__name__)

# A refused client may still be sending; keep reading (and discarding) this long so it can finish
# its write and read the 413 instead of a connection reset.
LINGER_SECONDS = 2.0


ADMIN_BODY_BYTES = 1024 * 1024


def limit_for(path: str) -> int:
    """The largest body accepted for `path` (no query string), in bytes."""
    from api.media.uploads import AUDIO_UPLOAD_PATHS, body_allowance

    if path in AUDIO_UPLOAD_PATHS:
        return body_allowance()  # the 25 MB file plus the rest of the form
    if path.startswith("/admin/"):
        return ADMIN_BODY_BYTES
    return settings.MAX_JSON_BODY_BYTES


def too_large_body(limit: int, path: str = "") -> bytes:
    """The 413 body in the envelope of the endpoint at `path` (Anthropic's for /v1/messages)."""
    from core.errors import PayloadTooLarge, envelope_body, envelope_for_path

    error = PayloadTooLarge(f"The request body is too large: this endpoint accepts at most {limit} bytes.")
    return json.dumps(envelope_body(error, envelope_for_path(path))[0]).encode()


def guarded_request_class(base: type) -> type:
    """A subclass of daphne's WebRequest (`base`) that refuses oversized bodies early."""

    class GuardedWebRequest(base):  # type: ignore[misc, valid-type]
        _body_limit = 0
        _body_seen = 0
        _refused = False

        def gotLength(self, length):  # noqa: N802 - twisted's name
            path = self.channel._path.split(b"?", 1)[0].decode("latin-1")
            self._body_limit = limit_for(path)
            if length is not None and length > self._body_limit:
                self._refuse(path)
                return
            super().gotLength(length)

        def handleContentChunk(self, data):  # noqa: N802
            if self._refused:
                return
            self._body_seen += len(data)
            if self._body_seen > self._body_limit:
                self._refuse(self.channel._path.split(b"?", 1)[0].decode("latin-1"))
                return
            super().handleContentChunk(data)

        def process(self):
            if self._refused:
                return None  # the 413 is out; the application never sees this request
            return super().process()

        def _refuse(self, path: str) -> None:
            import io

            from twisted.internet import reactor

            self._refused = True
            self.content = io.BytesIO()
            # No "100 Continue" after a refusal: the client should not send the body at all.
            self.requestHeaders.removeHeader(b"expect")
            logger.warning("refused a request body over %d bytes for %s (413)", self._body_limit, path)
            body = too_large_body(self._body_limit, path)
            transport = self.channel.transport
            transport.write(
                b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
            )
            # Discard whatever else arrives, half-close so the client sees the end of the answer,
            # and drop the connection after a short linger.
            self.channel.dataReceived = lambda data: None
            if hasattr(transport, "loseWriteConnection"):
                transport.loseWriteConnection()
            else:
                transport.loseConnection()
            reactor.callLater(LINGER_SECONDS, _abort, transport)

    return GuardedWebRequest


def _abort(transport) -> None:
    if getattr(transport, "connected", False):
        transport.abortConnection()
