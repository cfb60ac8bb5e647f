"""CORS for /v1/ (django-cors-headers), with requested headers allowed by pattern.

Browsers send a preflight naming every non-simple header; the OpenAI SDKs add a changing family of
`x-stainless-*` headers, so exact lists go stale. Authorization cannot be covered by the `*`
wildcard, so instead the preflight answer lists the fixed headers plus each requested header that
matches CORS_ALLOWED_HEADER_PATTERNS.
"""
from __future__ import annotations

import re

from corsheaders.middleware import ACCESS_CONTROL_ALLOW_HEADERS, CorsMiddleware
from django.conf import settings
from django.utils.cache import patch_vary_headers


class RelayCorsMiddleware(CorsMiddleware):
    def add_response_headers(self, request, response):
        response = super().add_response_headers(request, response)
        if request.method == "OPTIONS" and ACCESS_CONTROL_ALLOW_HEADERS in response:
            patch_vary_headers(response, ("access-control-request-headers",))
            allowed = list(settings.CORS_ALLOW_HEADERS)
            pattern = re.compile(settings.CORS_ALLOWED_HEADER_PATTERNS, re.IGNORECASE)
            requested = request.headers.get("access-control-request-headers", "")
            for name in (h.strip().lower() for h in requested.split(",")):
                if name and name not in allowed and pattern.fullmatch(name):
                    allowed.append(name)
            response[ACCESS_CONTROL_ALLOW_HEADERS] = ", ".join(allowed)
        return response
