"""What the relay adds to daphne's HTTP server: early body limits, header limits, graceful shutdown,
request bodies handed over in large messages, and the reason phrase of every status the relay sends (Twisted lacks 429, 422, 431, ...).

Daphne has no extension points for these, so `install()` swaps in subclasses and methods when the
application is loaded by daphne (daphne and Twisted are pinned in requirements.txt; tests/e2e cover
each hook; tests/unit/test_library_guards.py fails when the code they rely on changes), then
`verify()` refuses to serve if any of them is not in effect.
"""
from __future__ import annotations

import functools
import sys
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def install() -> bool:
    """Install the hooks if this process is a daphne server; returns whether it did."""
    if "daphne.server" not in sys.modules:
        return False  # another ASGI server, a test or manage.py: nothing to patch
    from daphne import http_protocol, server
    from twisted.web import http

    from relay_site import body_limits, shutdown

    if not getattr(http_protocol.WebRequest, "_relay_guarded", False):
        guarded = body_limits.guarded_request_class(http_protocol.WebRequest)
        guarded._relay_guarded = True
        # HTTPFactory.buildProtocol reads this module global for every new connection.
        http_protocol.WebRequest = guarded
    # Twisted answers a bare 400 and closes the connection past these (request line + headers).
    http.HTTPChannel.totalHeadersSize = settings.MAX_HEADER_BYTES
    http.HTTPChannel.maxHeaders = settings.MAX_HEADER_COUNT
    shutdown.install(server.Server)
    buffer_request_bodies(server.Server)
    register_reason_phrases()
    from relay_site.daphne_patches import stop_form_parsing

    stop_form_parsing()
    verify()
    return True


# daphne hands a request body to the application in messages of `request_buffer_size` bytes, 8 KB
# unless set (its command line cannot): an 18 MB body became 2,300 messages, queued and then read
# in one go on the event loop (30-40 ms of it). The whole body is stored before the first message
# either way, so larger messages cost no memory.
REQUEST_BUFFER_BYTES = 1024 * 1024


def buffer_request_bodies(server_cls: type) -> None:
    """Make daphne's request body messages REQUEST_BUFFER_BYTES long (idempotent)."""
    if getattr(server_cls, "_relay_request_buffer", False):
        return
    original_init = server_cls.__init__

    @functools.wraps(original_init)
    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.request_buffer_size = max(self.request_buffer_size, REQUEST_BUFFER_BYTES)

    server_cls.__init__ = __init__
    server_cls._relay_request_buffer = True


# Statuses the relay may send that neither Twisted nor Python's http.HTTPStatus names.
EXTRA_REASON_PHRASES = {499: "Client Closed Request", 529: "Overloaded"}  # 529: Anthropic's overloaded_error


def register_reason_phrases() -> None:
    """Twisted writes the status line from its own table (`twisted.web.http.RESPONSES`, read by
    `Request.setResponseCode`), which has no 429, 422, 431 and others: daphne then sends
    `HTTP/1.1 429 Unknown Status`. Fill the gaps from Python's table (the IANA registry)."""
    from twisted.web import http

    for status in HTTPStatus:
        http.RESPONSES.setdefault(status.value, status.phrase.encode("ascii"))
    for code, phrase in EXTRA_REASON_PHRASES.items():
        http.RESPONSES.setdefault(code, phrase.encode("ascii"))


def verify() -> None:
    """Refuse to start when a hook is not in effect (say, after a daphne or Twisted upgrade)."""
    import inspect

    from daphne import http_protocol, server
    from twisted.web import http

    problems = []
    request_class = http_protocol.WebRequest
    if not getattr(request_class, "_relay_guarded", False):
        problems.append("early body limits (daphne.http_protocol.WebRequest is not the guarded class)")
    if not getattr(request_class, "_relay_no_form_parsing", False):
        problems.append("multipart parsing switched off (WebRequest.__init__ not patched)")
    elif "_parsePOSTFormSubmission" not in inspect.getsource(http.Request.requestReceived):
        problems.append("multipart parsing switched off (Twisted no longer reads _parsePOSTFormSubmission)")
    if (http.HTTPChannel.totalHeadersSize, http.HTTPChannel.maxHeaders) != (
        settings.MAX_HEADER_BYTES, settings.MAX_HEADER_COUNT
    ):
        problems.append("header limits (twisted.web.http.HTTPChannel)")
    if not getattr(server.Server, "_relay_graceful", False):
        problems.append("graceful shutdown (daphne.server.Server)")
    if not getattr(server.Server, "_relay_request_buffer", False):
        problems.append("request body messages of 1 MB (daphne.server.Server)")
    if http.RESPONSES.get(429) != b"Too Many Requests":
        problems.append("reason phrases (twisted.web.http.RESPONSES)")
    if problems:
        raise ImproperlyConfigured(
            "The relay's daphne hooks are not in effect: " + "; ".join(problems)
            + ". See docs/architecture.md and tests/unit/test_library_guards.py."
        )
