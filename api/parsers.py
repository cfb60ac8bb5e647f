"""The JSON body parser: DRF's, plus a nesting-depth limit so hostile JSON is a 400, never a 500."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from api.errors import InvalidRequest


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
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.MAX_JSON_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # The stdlib decoder recurses per level: thousands of `[` exhaust the stack.
            raise _refuse(limit) from None
        if too_deep(data, limit):
            raise _refuse(limit)
        return data
