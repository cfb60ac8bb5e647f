"""Request body parsing for DRF: JSON decoded with orjson (several times faster than the stdlib)."""
from __future__ import annotations

from typing import Any

import orjson
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """application/json bodies (UTF-8, as RFC 8259 requires); NaN and Infinity are refused.

    A subclass of DRF's, so DRF still hands it `request.body`, which enforces MAX_JSON_BODY_BYTES.
    """

    def parse(self, stream, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None
