"""1min.ai `/models?feature=…` catalogues to a registry snapshot, and the snapshot to OpenAI's list."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

CHAT = "UNIFY_CHAT_WITH_AI"
IMAGE = "IMAGE_GENERATOR"
SPEECH_TO_TEXT = "SPEECH_TO_TEXT"
TRANSLATION = "AUDIO_TRANSLATOR"
TEXT_TO_SPEECH = "TEXT_TO_SPEECH"
FEATURES = (CHAT, IMAGE, SPEECH_TO_TEXT, TRANSLATION, TEXT_TO_SPEECH)

# What each feature is called in our model objects, so clients need not know 1min.ai's enums.
FEATURE_NAMES = {
    CHAT: "chat",
    IMAGE: "image_generation",
    SPEECH_TO_TEXT: "transcription",
    TRANSLATION: "translation",
    TEXT_TO_SPEECH: "speech",
}


class ModelEntry(TypedDict):
    id: str
    name: str
    provider: str
    status: str
    features: list[str]
    upstream_features: list[str]
    vision: bool
    context_window: int | None
    max_output_tokens: int | None
    input_modalities: list[str]
    output_modalities: list[str]
    created: int


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _created(value: Any) -> int:
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError:
            pass
    return 0


def entry_from_upstream(raw: dict[str, Any], feature: str) -> ModelEntry | None:
    model_id = raw.get("modelId")
    if not isinstance(model_id, str) or not model_id:
        return None
    modality = raw.get("modality") if isinstance(raw.get("modality"), dict) else {}
    inputs = [str(m).lower() for m in modality.get("INPUT") or [] if isinstance(m, str)]
    outputs = [str(m).lower() for m in modality.get("OUTPUT") or [] if isinstance(m, str)]
    upstream_features = [f for f in raw.get("features") or [] if isinstance(f, str)]
    credit = raw.get("creditMetadata") if isinstance(raw.get("creditMetadata"), dict) else {}
    return {
        "id": model_id,
        "name": str(raw.get("name") or model_id),
        "provider": str(raw.get("provider") or "1min.ai"),
        "status": str(raw.get("status") or "ACTIVE").upper(),
        "features": [feature],
        "upstream_features": upstream_features,
        # Current catalogues say "image" in modality.INPUT; older ones only CHAT_WITH_IMAGE.
        "vision": "image" in inputs or "CHAT_WITH_IMAGE" in upstream_features,
        "context_window": _int(credit.get("CONTEXT")),
        "max_output_tokens": _int(credit.get("MAX_OUTPUT_TOKEN")),
        "input_modalities": inputs,
        "output_modalities": outputs,
        "created": _created(raw.get("createdAt")),
    }


def merge_catalogues(catalogues: dict[str, Any]) -> dict[str, ModelEntry]:
    """One entry per model id across features; a model in several features lists them all."""
    merged: dict[str, ModelEntry] = {}
    for feature in FEATURES:
        payload = catalogues.get(feature)
        models = payload.get("models") if isinstance(payload, dict) else None
        for raw in models if isinstance(models, list) else []:
            if not isinstance(raw, dict):
                continue
            entry = entry_from_upstream(raw, feature)
            if entry is None:
                continue
            existing = merged.get(entry["id"])
            if existing is None:
                merged[entry["id"]] = entry
            elif feature not in existing["features"]:
                existing["features"].append(feature)
                existing["vision"] = existing["vision"] or entry["vision"]
    return merged


def to_openai_model(entry: ModelEntry) -> dict[str, Any]:
    """OpenAI's `model` object plus the capability fields clients of relays look for."""
    chat = CHAT in entry["features"]
    return {
        "id": entry["id"],
        "object": "model",
        "created": entry["created"],
        "owned_by": entry["provider"].lower(),
        "name": entry["name"],
        "features": [FEATURE_NAMES[f] for f in entry["features"] if f in FEATURE_NAMES],
        "capabilities": {
            "vision": entry["vision"] and chat,
            # Web search is a per-request option (model suffix `:online`) on every chat model.
            "web_search": chat,
        },
        "context_window": entry["context_window"],
        "max_output_tokens": entry["max_output_tokens"],
    }


def to_openai_alias(alias: str, target: ModelEntry) -> dict[str, Any]:
    """An alias as a model of its own: the target's capabilities, `owned_by` naming the target."""
    return {**to_openai_model(target), "id": alias, "owned_by": target["id"], "alias_of": target["id"]}


def to_openai_list(entries: dict[str, ModelEntry], aliases: dict[str, str] | None = None) -> dict[str, Any]:
    """Active models, then aliases whose target is active (an alias named like a model replaces it)."""
    aliases = aliases or {}
    data = [to_openai_model(e) for e in entries.values() if e["status"] == "ACTIVE" and e["id"] not in aliases]
    for alias, target in sorted(aliases.items()):
        entry = entries.get(target)
        if entry is not None and entry["status"] == "ACTIVE":
            data.append(to_openai_alias(alias, entry))
    return {"object": "list", "data": data}
