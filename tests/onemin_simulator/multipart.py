"""A small multipart/form-data parser: enough for what relays and curl send to /api/assets."""
from __future__ import annotations

import hashlib
import re
from typing import Any, Optional
from urllib.parse import unquote

_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split `type; a=1; b="x"` into ("type", {"a": "1", "b": "x"})."""
    main = value.split(";", 1)[0].strip().lower()
    params: dict[str, str] = {}
    for name, raw in _PARAM.findall(value):
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[name.lower()] = raw
    # RFC 5987 `filename*=UTF-8''na%C3%AFve.png` wins over the plain form when present.
    extended = params.get("filename*")
    if extended and "''" in extended:
        params["filename"] = unquote(extended.split("''", 1)[1])
    return main, params


def parse(body: bytes, content_type: str) -> Optional[dict[str, Any]]:
    """{"fields": {name: value}, "files": [...]} or None when there is no usable boundary."""
    _, params = header_params(content_type)
    boundary = params.get("boundary")
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    fields: dict[str, str] = {}
    files: list[dict[str, Any]] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # closing delimiter
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        data = data[:-2] if data.endswith(b"\r\n") else data
        part_headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                part_headers[name.strip().lower()] = value.strip()
        _, disposition = header_params(part_headers.get("content-disposition", ""))
        name = disposition.get("name", "")
        if "filename" in disposition:
            files.append({
                "name": name, "filename": disposition["filename"],
                "content_type": part_headers.get("content-type", "application/octet-stream"),
                "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "data": data,
            })
        else:
            fields.setdefault(name, data.decode("utf-8", "replace"))
    return {"fields": fields, "files": files}
