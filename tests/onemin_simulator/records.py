"""Builds the `aiRecord` envelope (§2.3) and the chat token/credit metadata."""
from __future__ import annotations

import hashlib
import math
import uuid
from datetime import datetime, timezone
from typing import Any, Optional

from .state import SimState

UNSET = object()
# Tokens an image attachment adds to the input (live image chats cost ~25x a text call).
IMAGE_TOKENS = 765


def iso_now() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def path_stamp() -> str:
    """`YYYY_MM_DD_HH_MM_SS_mmm_`, the prefix upstream puts on stored file names."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y_%m_%d_%H_%M_%S_") + f"{now.microsecond // 1000:03d}_"


def owner_ids(api_key: str) -> tuple[str, str]:
    """Stable user and team ids per key, so tests can compare records across calls."""
    user = uuid.uuid5(uuid.NAMESPACE_URL, f"onemin-sim/user/{api_key}")
    team = uuid.uuid5(uuid.NAMESPACE_URL, f"onemin-sim/team/{api_key}")
    return str(user), str(team)


def approx_tokens(text: str) -> int:
    return len(text.encode("utf-8")) // 4 + 1


def chat_metadata(prompt: str, text: str, model: dict[str, Any], images: int,
                  finish_reason: Optional[str]) -> dict[str, Any]:
    """The populated metadata object captured from live chat responses."""
    input_tokens = approx_tokens(prompt) + IMAGE_TOKENS * images
    output_tokens = approx_tokens(text)
    prices = model.get("creditMetadata") or {}
    input_credit = math.ceil(input_tokens * float(prices.get("INPUT") or 0.5))
    output_credit = math.ceil(output_tokens * float(prices.get("OUTPUT") or 0.5))
    meta: dict[str, Any] = {
        "credit": input_credit + output_credit,
        "inputToken": input_tokens,
        "totalToken": input_tokens + output_tokens,
        "inputCredit": input_credit,
        "outputToken": output_tokens,
        "promptToken": len(prompt.split()),
        "finishReason": finish_reason,
        "outputCredit": output_credit,
        "executionTime": round(0.2 + output_tokens / 1000, 3),
    }
    if finish_reason is None:
        del meta["finishReason"]
    return meta


def shape_metadata(meta: dict[str, Any], mode: str) -> Optional[dict[str, Any]]:
    """Apply a metadata_mode switch: the anomalies relays must survive."""
    if mode == "null":
        return None
    shaped = dict(meta)
    if mode == "zeros":
        for key in ("credit", "inputToken", "totalToken", "inputCredit", "outputToken",
                    "promptToken", "outputCredit"):
            shaped[key] = 0
    elif mode == "no_total":
        shaped.pop("totalToken", None)
    return shaped


def ai_record(state: SimState, api_key: str, *, model: dict[str, Any], record_type: str,
              prompt_object: dict[str, Any], result_object: list[Any],
              metadata: Optional[dict[str, Any]], credit: int,
              conversation_id: Optional[str] = None, status: str = "SUCCESS",
              extra: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """A full aiRecord; charges `credit`, showing the usage from before this call."""
    user_id, team_id = owner_ids(api_key)
    used_before = state.charge(api_key, credit)
    record: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "userId": user_id,
        "teamId": team_id,
        "teamUser": {
            "teamId": team_id,
            "userId": user_id,
            "userName": "1minAI",
            "userAvatar": "https://lh3.googleusercontent.com/a/simulated",
            "status": "ACTIVE",
            "role": "ADMIN",
            "creditLimit": state.snapshot_config()["credit_limit"],
            "usedCredit": used_before,
            "createdAt": "2023-11-24T06:31:06.467Z",
            "createdBy": "SYSTEM",
            "updatedAt": iso_now(),
            "updatedBy": "SYSTEM",
        },
        "model": model["modelId"],
        "type": record_type,
        "metadata": metadata,
        "rating": None,
        "feedback": None,
        "conversationId": conversation_id,
        "status": status,
        "createdAt": iso_now(),
        "aiRecordDetail": {"promptObject": prompt_object, "resultObject": result_object},
        "modelDetail": {"name": model["modelId"], "provider": str(model["provider"]).upper()},
    }
    record.update(extra or {})
    return record


def default_chat_reply(model_id: str, prompt: str) -> str:
    digest = hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:8]
    return f"Simulated reply ({model_id}) to {digest}: 你好，世界 👋🏽 ok"
