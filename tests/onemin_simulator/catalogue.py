"""The simulated model catalogue (GET /models) and the model checks the feature routes share."""
from __future__ import annotations

import copy
import threading
import uuid
from typing import Any, Optional

CHAT = "UNIFY_CHAT_WITH_AI"
CHAT_FEATURES = [CHAT, "CHAT_WITH_AI"]
VISION_FEATURES = [CHAT, "CHAT_WITH_AI", "CHAT_WITH_IMAGE"]
TEXT_IN = ["text"]
VISION_IN = ["text", "image"]
STAMP = "2025-06-01T00:00:00.000Z"

# (modelId, name, provider, features, modality INPUT, modality OUTPUT,
#  (INPUT, OUTPUT, CONTEXT, MAX_OUTPUT_TOKEN), status, deprecationDate)
_SPECS: list[tuple] = [
    ("gpt-4o-mini", "GPT-4o Mini - OpenAI", "openai", VISION_FEATURES, VISION_IN, ["text"],
     (0.15, 0.6, 128000, 16384), "ACTIVE", None),
    ("gpt-4o", "GPT-4o - OpenAI", "openai", VISION_FEATURES, VISION_IN, ["text"],
     (2.5, 10, 128000, 16384), "ACTIVE", None),
    ("gpt-5", "GPT-5 - OpenAI", "openai", VISION_FEATURES + ["CODE_GENERATOR"], VISION_IN, ["text"],
     (1.25, 10, 400000, 128000), "ACTIVE", "2026-12-10T17:00:00.000Z"),
    ("open-mistral-nemo", "Mistral Nemo - Mistral AI", "mistral", CHAT_FEATURES, TEXT_IN, ["text"],
     (0.15, 0.15, 128000, 8192), "ACTIVE", None),
    ("deepseek-chat", "DeepSeek V3 - DeepSeek", "deepseek", CHAT_FEATURES + ["CODE_GENERATOR"],
     TEXT_IN, ["text"], (0.27, 1.1, 64000, 8192), "ACTIVE", None),
    ("claude-retired-1", "Claude Retired 1 - Anthropic", "anthropic", VISION_FEATURES, VISION_IN,
     ["text"], (3, 15, 200000, 8192), "DISABLED", None),
    ("gpt-3.5-turbo", "GPT-3.5 Turbo - OpenAI", "openai", CHAT_FEATURES, TEXT_IN, ["text"],
     (0.5, 1.5, 16385, 4096), "ACTIVE", "2026-09-30T17:00:00.000Z"),
    ("gpt-image-1-mini", "GPT Image 1 Mini - OpenAI", "openai", ["IMAGE_GENERATOR"], ["text"],
     ["image"], (2, 8, 0, 0), "ACTIVE", None),
    ("gpt-image-1", "GPT Image 1 - OpenAI", "openai", ["IMAGE_GENERATOR"], ["text"], ["image"],
     (5, 40, 0, 0), "ACTIVE", None),
    ("dall-e-3", "DALL-E 3 - OpenAI", "openai", ["IMAGE_GENERATOR"], ["text"], ["image"],
     (0, 0, 0, 0), "ACTIVE", None),
    ("dall-e-2", "DALL-E 2 - OpenAI", "openai", ["IMAGE_GENERATOR"], ["text"], ["image"],
     (0, 0, 0, 0), "ACTIVE", None),
    ("stable-diffusion-xl-1024-v1-0", "Stable Diffusion XL - Stability AI", "stability",
     ["IMAGE_GENERATOR"], ["text"], ["image"], (0, 0, 0, 0), "ACTIVE", None),
    ("black-forest-labs/flux-schnell", "Flux Schnell - Black Forest Labs", "replicate",
     ["IMAGE_GENERATOR"], ["text"], ["image"], (0, 0, 0, 0), "DISABLED", None),
    ("midjourney", "Midjourney 5.2", "midjourney", ["IMAGE_GENERATOR"], ["text"], ["image"],
     (0, 0, 0, 0), "ACTIVE", None),
    ("whisper-1", "Whisper - OpenAI", "openai", ["SPEECH_TO_TEXT", "AUDIO_TRANSLATOR"], ["audio"],
     ["text"], (0, 0, 0, 0), "ACTIVE", None),
    ("latest_long", "Google Speech Latest Long", "google", ["SPEECH_TO_TEXT"], ["audio"], ["text"],
     (0, 0, 0, 0), "ACTIVE", None),
    ("latest_short", "Google Speech Latest Short", "google", ["SPEECH_TO_TEXT"], ["audio"],
     ["text"], (0, 0, 0, 0), "ACTIVE", None),
    ("gpt-4o-transcribe", "GPT-4o Transcribe - OpenAI", "openai", ["SPEECH_TO_TEXT"], ["audio"],
     ["text"], (2.5, 10, 0, 0), "ACTIVE", None),
    ("gemini-2.5-flash", "Gemini 2.5 Flash - Google", "google", ["AUDIO_TRANSLATOR"],
     ["audio"], ["text"], (0.3, 2.5, 0, 0), "ACTIVE", None),
    ("tts-1", "TTS-1 - OpenAI", "openai", ["TEXT_TO_SPEECH"], ["text"], ["audio"], (15, 0, 0, 0),
     "ACTIVE", None),
    ("tts-1-hd", "TTS-1 HD - OpenAI", "openai", ["TEXT_TO_SPEECH"], ["text"], ["audio"],
     (30, 0, 0, 0), "ACTIVE", None),
    ("elevenlabs-tts", "ElevenLabs TTS", "elevenlabs", ["TEXT_TO_SPEECH"], ["text"], ["audio"],
     (0, 0, 0, 0), "ACTIVE", None),
]

GROUPS = {"openai": "OpenAI", "mistral": "Mistral AI", "deepseek": "DeepSeek",
          "anthropic": "Anthropic", "stability": "Stability AI", "replicate": "Replicate",
          "midjourney": "Midjourney", "google": "Google", "elevenlabs": "ElevenLabs"}


def make_entry(model_id: str, features: list[str], *, name: Optional[str] = None,
               provider: str = "openai", modality_input: Optional[list[str]] = None,
               modality_output: Optional[list[str]] = None,
               credit: tuple[float, float, int, int] = (1, 1, 128000, 8192), status: str = "ACTIVE",
               deprecation_date: Optional[str] = None) -> dict[str, Any]:
    """One catalogue entry shaped like a live GET /models element (§11.2)."""
    entry: dict[str, Any] = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"onemin-sim/model/{model_id}")),
        "modelId": model_id,
        "name": name or model_id,
        "group": GROUPS.get(provider, provider.title()),
        "provider": provider,
        "status": status,
        "cutoffDate": "2024-10-01T00:00:00.000Z",
        "logoUrl": f"resources/model-logos/{provider}.webp",
        "features": list(features),
        "creditMetadata": {"INPUT": credit[0], "OUTPUT": credit[1], "CONTEXT": credit[2],
                           "MAX_OUTPUT_TOKEN": credit[3]},
        "modality": {"INPUT": list(modality_input or ["text"]),
                     "OUTPUT": list(modality_output or ["text"])},
        "information": {},
        "createdAt": STAMP, "createdBy": "SYSTEM", "updatedAt": STAMP, "updatedBy": "SYSTEM",
        "numberOfStars": 0,
        "creditEstimation": {},
    }
    if deprecation_date:
        entry["deprecationDate"] = deprecation_date
    return entry


def default_entries() -> dict[str, dict[str, Any]]:
    entries = {}
    for mid, name, provider, feats, m_in, m_out, credit, status, dep in _SPECS:
        entries[mid] = make_entry(mid, feats, name=name, provider=provider, modality_input=m_in,
                                  modality_output=m_out, credit=credit, status=status,
                                  deprecation_date=dep)
    return entries


class Catalogue:
    """Thread-safe, mutable model list; tests add, remove or disable entries through it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries = default_entries()

    def reset(self) -> None:
        with self._lock:
            self._entries = default_entries()

    def for_feature(self, feature: Optional[str]) -> list[dict[str, Any]]:
        """Entries advertising `feature`, DISABLED ones included (the live API lists them)."""
        if not feature:
            return []
        with self._lock:
            return [copy.deepcopy(e) for e in self._entries.values() if feature in e["features"]]

    def get(self, model_id: str) -> Optional[dict[str, Any]]:
        with self._lock:
            entry = self._entries.get(model_id)
            return copy.deepcopy(entry) if entry else None

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def add(self, model_id: str, features: list[str], **kwargs: Any) -> dict[str, Any]:
        """Add or replace an entry; kwargs as make_entry (name, provider, status, credit, ...)."""
        entry = make_entry(model_id, features, **kwargs)
        with self._lock:
            self._entries[model_id] = entry
        return copy.deepcopy(entry)

    def add_entry(self, entry: dict[str, Any]) -> None:
        """Add a raw entry dict (must carry modelId) exactly as given."""
        with self._lock:
            self._entries[entry["modelId"]] = copy.deepcopy(entry)

    def remove(self, model_id: str) -> bool:
        with self._lock:
            return self._entries.pop(model_id, None) is not None

    def set_status(self, model_id: str, status: str) -> None:
        with self._lock:
            if model_id not in self._entries:
                raise KeyError(f"no model {model_id!r} in the simulator catalogue")
            self._entries[model_id]["status"] = status

    def active(self, model_id: Any, feature: str) -> Optional[dict[str, Any]]:
        """The entry when `model_id` is ACTIVE and advertises `feature`, else None."""
        if not isinstance(model_id, str):
            return None
        entry = self.get(model_id)
        if entry and entry["status"] == "ACTIVE" and feature in entry["features"]:
            return entry
        return None
