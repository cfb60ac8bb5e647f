"""What the relay adds to daphne's HTTP server: early body limits, header limits, graceful shutdown.

Daphne has no extension points for these, so `install()` swaps in subclasses and methods when the
application is loaded by daphne (daphne is pinned in requirements.txt; tests/e2e cover each hook).
"""
from __future__ import annotations

import sys

from django.conf import settings


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
    return True
