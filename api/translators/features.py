"""The parts of an `/api/features` answer (aiRecord) that media endpoints read; pure."""
from __future__ import annotations

from typing import Any, TypedDict
from urllib.parse import quote


class FeatureBody(TypedDict, total=False):
    type: str
    model: str
    conversationId: str
    promptObject: dict[str, Any]


def record_of(payload: Any) -> dict[str, Any]:
    record = payload.get("aiRecord") if isinstance(payload, dict) else None
    return record if isinstance(record, dict) else {}


def succeeded(record: dict[str, Any]) -> bool:
    # Records without a status are taken as done: only an explicit failure state is a failure.
    return str(record.get("status") or "SUCCESS").upper() in ("SUCCESS", "COMPLETED")


def results(record: dict[str, Any]) -> list[Any]:
    """`aiRecordDetail.resultObject` as a list (older records keep it on the record itself)."""
    detail = record.get("aiRecordDetail") if isinstance(record.get("aiRecordDetail"), dict) else {}
    value = detail.get("resultObject", record.get("resultObject"))
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def result_paths(record: dict[str, Any]) -> list[str]:
    """Storage paths (or URLs) of generated files, in order."""
    return [r.strip() for r in results(record) if isinstance(r, str) and r.strip()]


def temporary_url(record: dict[str, Any]) -> str | None:
    value = record.get("temporaryUrl")
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def asset_url(path: str, cdn_base: str) -> str:
    """The public URL of a storage path (`images/x.png`) on the asset CDN; URLs pass as they are."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{cdn_base.rstrip('/')}/{quote(path.lstrip('/'), safe='/-_.~')}"


def upstream_param(field: str | None, names: dict[str, str]) -> str | None:
    """The OpenAI parameter an upstream field corresponds to (unknown fields keep their name)."""
    if not field:
        return None
    return names.get(field, field)
