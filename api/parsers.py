"""The JSON body parser: orjson (several times faster than the stdlib), with a nesting-depth limit
so hostile JSON is a 400, never a 500."""
from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from api import large_json
from core.errors import InvalidRequest


def too_deep(value: Any, limit: int) -> bool:
    """True when arrays/objects nest more than `limit` levels (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, (dict, list)))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return False


def _refuse(limit: int) -> InvalidRequest:
    return InvalidRequest(
        f"The JSON body is nested too deeply (more than {limit} levels).", code="json_too_deep"
    )


class BoundedJSONParser(JSONParser):
    """application/json bodies (UTF-8, as RFC 8259 requires); NaN and Infinity are refused.

    A subclass of DRF's, so DRF still hands it `request.body`, which enforces MAX_JSON_BODY_BYTES.
    """

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = settings.MAX_JSON_DEPTH
        try:
            data = large_json.loads(stream.read())  # a large body in pieces: see api/large_json.py
        except orjson.JSONDecodeError as error:
            if "depth limit" in str(error):  # orjson stops at 1,024 levels
                raise _refuse(limit) from None
            raise ParseError(f"JSON parse error - {error}") from None
        if too_deep(data, limit):
            raise _refuse(limit)
        return data
