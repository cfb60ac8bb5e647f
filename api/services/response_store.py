"""Stored responses on Django's async ORM: save, fetch for one key, delete, rebuild a chain, prune."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.errors import NotFound
from api.models import StoredResponse
from core.storable_text import storable, storable_text

logger = logging.getLogger(__name__)


@dataclass
class History:
    """The conversation before a new turn: stored items in order, and the chain's first response."""

    items: list[dict[str, Any]]
    root_id: str | None = None
    # Which response was read, for which key: a later step of the call reuses it only for the same.
    response_id: str | None = None
    key_fingerprint: str | None = None


def _oldest_kept() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=settings.RESPONSES_RETENTION_DAYS)


def _live(key_fingerprint: str):
    """Responses this key may see: its own, not past retention (even if not yet pruned)."""
    return StoredResponse.objects.filter(key_fingerprint=key_fingerprint, created_at__gte=_oldest_kept())


def _not_found(response_id: str) -> NotFound:
    # Another key's response is reported exactly like a missing one, as OpenAI does.
    return NotFound(f"Response with id '{response_id}' not found.", param="response_id")


async def get(response_id: str, key_fingerprint: str) -> StoredResponse:
    try:
        return await _live(key_fingerprint).aget(id=response_id)
    except StoredResponse.DoesNotExist:
        raise _not_found(response_id) from None


async def delete(response_id: str, key_fingerprint: str) -> None:
    deleted, _ = await _live(key_fingerprint).filter(id=response_id).adelete()
    if not deleted:
        raise _not_found(response_id)


async def history_for_reservation(body: Any, key_fingerprint: str | None) -> History | None:
    """The stored conversation a request's `previous_response_id` puts in front of its prompt, for
    the token reservation; None when there is none, it is unknown (the service answers 404) or the
    database fails (the service meets and reports the same failure)."""
    previous = body.get("previous_response_id") if isinstance(body, dict) else None
    if not isinstance(previous, str) or not previous or not key_fingerprint:
        return None
    try:
        return await history(previous, key_fingerprint)
    except NotFound:
        return None
    except Exception:  # noqa: BLE001
        logger.warning("could not read the history of a previous response for its reservation", exc_info=True)
        return None


async def history_once(kept: History | None, previous_response_id: str, key_fingerprint: str) -> History:
    """`kept` (what admission read for the reservation) when it is this response's for this key,
    else `history()` read now: a call reads its history once, and a read admission could not make
    is made again here, so its 404 or database error reaches the client."""
    if (isinstance(kept, History) and kept.response_id == previous_response_id
            and kept.key_fingerprint == key_fingerprint):
        return kept
    return await history(previous_response_id, key_fingerprint)


async def history(previous_response_id: str, key_fingerprint: str) -> History:
    """Every stored turn up to and including `previous_response_id`: its inputs then its outputs.

    A chain whose earlier link was deleted or pruned continues from the first link still kept.
    """
    try:
        last = await _live(key_fingerprint).aget(id=previous_response_id)
    except StoredResponse.DoesNotExist:
        raise NotFound(
            f"Previous response with id '{previous_response_id}' not found.",
            param="previous_response_id", code="previous_response_not_found",
        ) from None
    chain = {
        row.id: row
        async for row in _live(key_fingerprint).filter(root_id=last.root_id).only(
            "id", "previous_response_id", "input_items", "response"
        )
    }
    turns, row = [], last
    while row is not None:
        turns.append(row)
        row = chain.get(row.previous_response_id) if row.previous_response_id else None
    items: list[dict[str, Any]] = []
    for turn in reversed(turns):
        items.extend(turn.input_items)
        items.extend(turn.response.get("output") or [])
    return History(items, last.root_id, previous_response_id, key_fingerprint)


async def save(
    body: dict[str, Any], input_items: list[dict[str, Any]], key_fingerprint: str, root_id: str | None
) -> None:
    """Keep a finished response. A database failure is logged, never turned into a lost answer.

    Client text is stored with NUL (refused by PostgreSQL's jsonb) replaced, so the id answered is kept.
    """
    try:
        await StoredResponse(
            id=body["id"],
            key_fingerprint=key_fingerprint,
            previous_response_id=body.get("previous_response_id"),
            root_id=root_id or body["id"],
            created_at=dt.datetime.fromtimestamp(body["created_at"], tz=dt.timezone.utc),
            model=storable_text(body["model"]),
            status=body["status"],
            input_items=storable(input_items),
            response=storable(body),
        ).asave(force_insert=True)
    except Exception:  # noqa: BLE001
        logger.exception("could not store response %s", body.get("id"))


def prune(days: int | None = None) -> int:
    """Delete responses older than the retention (or `days`); returns how many (sync: a command)."""
    cutoff = timezone.now() - dt.timedelta(days=days if days is not None else settings.RESPONSES_RETENTION_DAYS)
    deleted, _ = StoredResponse.objects.filter(created_at__lt=cutoff).delete()
    return deleted
