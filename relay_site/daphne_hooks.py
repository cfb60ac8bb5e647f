"""What the relay adds to daphne's HTTP server: early body limits, header limits, graceful shutdown,
and the reason phrase of every status the relay sends (Twisted lacks 429, 422, 431, ...).

Daphne has no extension points for these, so `install()` swaps in subclasses and methods when the
application is loaded by daphne (daphne and Twisted are pinned in requirements.txt; tests/e2e cover
each hook; tests/unit/test_library_guards.py fails when the code they rely on changes), then
`verify()` refuses to serve if any of them is not in effect.
"""
from __future__ import annotations

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
    register_reason_phrases()
    from relay_site.daphne_patches import stop_form_parsing

    stop_form_parsing()
    verify()
    return True


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
    if http.RESPONSES.get(429) != b"Too Many Requests":
        problems.append("reason phrases (twisted.web.http.RESPONSES)")
    if problems:
        raise ImproperlyConfigured(
            "The relay's daphne hooks are not in effect: " + "; ".join(problems)
            + ". See docs/architecture.md and tests/unit/test_library_guards.py."
        )
