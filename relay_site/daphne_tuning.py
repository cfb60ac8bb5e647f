"""Daphne tuning applied when the application loads (daphne imports it before serving).

Twisted parses every POST body with a form content type into `request.args` (and any POST's
Content-Type through the email package), although daphne hands the raw body to the application and
never reads `args`. That cost CPU on every POST and memory on large multipart uploads, and made
twisted answer a malformed multipart body with its own bare 400. Turning it off changes nothing else.
"""
from __future__ import annotations

import functools


def apply() -> None:
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # served by another ASGI server: nothing to tune
        return
    if getattr(WebRequest, "_relay_tuned", False):
        return
    original = WebRequest.__init__

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original(self, *args, **kwargs)

    WebRequest.__init__ = __init__
    WebRequest._relay_tuned = True
