"""The model catalogue: fetched from 1min.ai, cached in process memory and the shared cache."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from api.upstream import onemin_client
from core.errors import InvalidRequest, ModelNotFound, ModelNotSupported, UpstreamError
from api.model_aliases import ONLINE_SUFFIX
from api.model_aliases import table as alias_table
from api.translators.models import (
    CHAT, FEATURES, IMAGE, SPEECH_TO_TEXT, TEXT_TO_SPEECH, TRANSLATION, ModelEntry, merge_catalogues,
)

logger = logging.getLogger(__name__)

MODELS = "api.models"  # the core.broadcast topic: refresh_models stored a new list in the shared cache
SHARED_KEY = "model-registry:v1"
# A last good copy kept far longer than the shared TTL, served only when 1min.ai is unreachable.
LAST_GOOD_KEY = "model-registry:last-good:v1"
LAST_GOOD_SECONDS = 7 * 24 * 3600


@dataclass
class Snapshot:
    models: dict[str, ModelEntry]
    fetched_at: float

    def to_cache(self) -> dict[str, Any]:
        return {"models": self.models, "fetched_at": self.fetched_at}

    @classmethod
    def from_cache(cls, value: Any) -> "Snapshot | None":
        if isinstance(value, dict) and isinstance(value.get("models"), dict):
            return cls(value["models"], float(value.get("fetched_at") or 0))
        return None


class ModelRegistry:
    """Per-process registry: memory first, then the shared cache, then one upstream fetch."""

    def __init__(self) -> None:
        self._memory: Snapshot | None = None
        self._memory_until = 0.0
        self._inflight: asyncio.Future[Snapshot] | None = None

    def reset(self) -> None:
        self._memory, self._memory_until, self._inflight = None, 0.0, None

    def expire(self) -> None:
        """Read the shared cache on the next call (a newer list is there); the copy in memory stays
        as the stale fallback and for `is_known`."""
        self._memory_until = 0.0

    async def snapshot(self) -> Snapshot:
        now = time.monotonic()
        if self._memory is not None and now < self._memory_until:
            return self._memory
        shared = Snapshot.from_cache(await _cache_get(SHARED_KEY))
        if shared is not None:
            self._remember(shared)
            return shared
        return await self._refresh_once()

    async def _refresh_once(self) -> Snapshot:
        # One upstream fetch at a time per process: concurrent callers await the same future.
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self._fetch_or_stale())
        return await asyncio.shield(self._inflight)

    async def _fetch_or_stale(self) -> Snapshot:
        try:
            return await self.refresh()
        except UpstreamError:
            stale = self._memory or Snapshot.from_cache(await _cache_get(LAST_GOOD_KEY))
            if stale is None:
                raise UpstreamError(
                    "The model list is unavailable: 1min.ai could not be reached.", status=503
                ) from None
            logger.warning("model list refresh failed; serving a copy from %.0f", stale.fetched_at)
            # Retry upstream after a short pause, not on every request.
            self._memory, self._memory_until = stale, time.monotonic() + 30
            return stale

    async def refresh(self) -> Snapshot:
        """Fetch every feature's catalogue now and store it in both tiers."""
        results = await asyncio.gather(
            *(_fetch_feature(f) for f in FEATURES), return_exceptions=True
        )
        catalogues: dict[str, Any] = {}
        previous = self._memory.models if self._memory else {}
        failed = []
        for feature, result in zip(FEATURES, results):
            if isinstance(result, BaseException):
                failed.append(feature)
            else:
                catalogues[feature] = result
        if len(failed) == len(FEATURES):
            raise UpstreamError("1min.ai's model list could not be fetched.")
        models = merge_catalogues(catalogues)
        for model_id, entry in previous.items():
            # A feature whose catalogue failed keeps its previous entries instead of vanishing.
            if model_id not in models and any(f in failed for f in entry["features"]):
                models[model_id] = entry
        snapshot = Snapshot(models, time.time())
        self._remember(snapshot)
        await _cache_set(SHARED_KEY, snapshot.to_cache(), settings.MODEL_CACHE_SHARED_SECONDS)
        await _cache_set(LAST_GOOD_KEY, snapshot.to_cache(), LAST_GOOD_SECONDS)
        return snapshot

    def is_known(self, model_id: str) -> bool:
        """Whether the list in memory names this model (no I/O: for labelling metrics)."""
        return self._memory is not None and model_id in self._memory.models

    def _remember(self, snapshot: Snapshot) -> None:
        self._memory = snapshot
        self._memory_until = time.monotonic() + settings.MODEL_CACHE_MEMORY_SECONDS

    async def resolve(self, model_id: str, feature: str) -> ModelEntry | None:
        """The entry for a model usable with `feature`; None when the catalogue is unavailable.

        Unknown or DISABLED models raise ModelNotFound. When 1min.ai's catalogue cannot be had
        at all, the request goes on and the upstream judges the model itself.
        """
        try:
            snapshot = await self.snapshot()
        except UpstreamError:
            return None
        entry = snapshot.models.get(model_id)
        if entry is None or entry["status"] != "ACTIVE":
            raise ModelNotFound(model_id)
        if feature not in entry["features"]:
            raise _wrong_kind(model_id, entry, feature)
        return entry


# What each kind of model is, and where a client should send it.
KINDS = {
    CHAT: ("a chat model", "POST /v1/chat/completions, POST /v1/responses or POST /v1/messages"),
    IMAGE: ("an image generation model", "POST /v1/images/generations"),
    SPEECH_TO_TEXT: ("a transcription model", "POST /v1/audio/transcriptions"),
    TRANSLATION: ("an audio translation model", "POST /v1/audio/translations"),
    TEXT_TO_SPEECH: ("a text-to-speech model", "POST /v1/audio/speech"),
}


def _wrong_kind(model_id: str, entry: ModelEntry, feature: str) -> ModelNotSupported:
    kinds = [KINDS[f] for f in entry["features"] if f in KINDS]
    what = " and ".join(k[0] for k in kinds) or "not usable here"
    where = "; ".join(k[1] for k in kinds)
    wanted = KINDS.get(feature, ("the right kind of model", ""))[0]
    return ModelNotSupported(
        f"The model `{model_id}` is {what}, not {wanted}." + (f" Use {where} instead." if where else ""))


@dataclass(frozen=True)
class ResolvedModel:
    """A model name as requested and the 1min.ai model that serves it (the same unless aliased)."""

    requested: str  # the client's name (or the default), without `:online`
    target: str  # the 1min.ai model id to call
    entry: ModelEntry | None  # None when the catalogue could not be had

    @property
    def aliased(self) -> bool:
        return self.requested != self.target

    def reported(self, as_sent: str) -> str:
        """The `model` an answer reports: the model that answered (the alias's target), keeping
        the client's `:online`; as sent when no alias applied."""
        if as_sent and not self.aliased:
            return as_sent
        online = as_sent.strip().lower().endswith(ONLINE_SUFFIX)
        return self.target + (ONLINE_SUFFIX if online else "")


def default_model(feature: str) -> str | None:
    """The model used when a request names none: DEFAULT_MODEL for chat (chat completions,
    Responses, Messages); other endpoints choose their own default or require `model`."""
    return settings.DEFAULT_MODEL if feature == CHAT else None


async def resolve_model(requested: str | None, feature: str) -> ResolvedModel:
    """The one model check of every endpoint: default, then alias, then the catalogue.

    `requested` is the client's model name without `:online` (None or "" for the default);
    `feature` the kind the endpoint needs (api.translators.models.CHAT, IMAGE, ...). Unknown
    models raise ModelNotFound (404), models of another kind ModelNotSupported (400).
    """
    name = (requested or "").strip() or default_model(feature)
    if not name:
        raise InvalidRequest("You must provide a model parameter.", param="model",
                             code="missing_required_parameter")
    target = (await alias_table.current()).get(name, name)
    try:
        entry = await registry.resolve(target, feature)
    except ModelNotSupported as error:
        if target != name:
            error.message = error.message.replace(f"`{target}`", f"`{name}` (an alias of `{target}`)", 1)
        raise
    except ModelNotFound as error:
        if target != name:
            error.message = (f"The model `{name}` is an alias of `{target}`, which 1min.ai does not "
                             "offer; the relay's operator should correct the alias.")
        raise
    return ResolvedModel(name, target, entry)


async def _fetch_feature(feature: str) -> Any:
    return await onemin_client.get_json(settings.ONE_MIN_MODELS_API_URL, {"feature": feature})


async def _cache_get(key: str) -> Any:
    try:
        return await cache.aget(key)
    except Exception:  # noqa: BLE001 - a cache outage must not take the model list down
        logger.warning("shared cache unavailable while reading %s", key)
        return None


async def _cache_set(key: str, value: Any, timeout: int) -> None:
    try:
        await cache.aset(key, value, timeout)
    except Exception:  # noqa: BLE001
        logger.warning("shared cache unavailable while writing %s", key)


def known_model_names() -> set[str] | None:
    """Every model id of the cached catalogue and every alias, for commands (sync, no upstream
    fetch): registered with core.known_models in ApiConfig.ready. None when nothing is cached."""
    from django.core.cache import cache as shared

    from api.models import ModelAlias

    snapshot = registry._memory or Snapshot.from_cache(shared.get(SHARED_KEY)) or Snapshot.from_cache(
        shared.get(LAST_GOOD_KEY))
    if snapshot is None:
        return None
    return set(snapshot.models) | set(ModelAlias.objects.values_list("alias", flat=True))


registry = ModelRegistry()
