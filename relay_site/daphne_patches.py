"""Daphne runs on Twisted, whose HTTP request parses every multipart body into `request.args`.

Daphne never reads `args`: it hands the raw body to the application. The parse only costs a
second of the reactor's time (blocking every other request) for a 25 MB audio upload, doubles
its memory, and answers malformed forms with a bare 400 that bypasses our error envelope.
"""
from __future__ import annotations


def stop_form_parsing() -> bool:
    """Turn Twisted's form parsing off for daphne's requests; False when daphne is not in use."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:
        return False
    if getattr(WebRequest, "_relay_no_form_parsing", False):
        return True
    original = WebRequest.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._parsePOSTFormSubmission = False  # read by twisted.web.http.Request.requestReceived

    WebRequest.__init__ = __init__
    WebRequest._relay_no_form_parsing = True
    return True
