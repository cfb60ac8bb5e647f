"""Cross-process cache signals: a change announced anywhere drops every relay process's cached copy at once.

Apps register cache-drop handlers per topic with `on(topic, handler)` in their AppConfig.ready.
`announce(topic)` (sync: signals, the admin, management commands) and `aannounce(topic)` (async)
run this process's handlers, then publish the topic on the channel layer's group, which every
relay process's listener (`ensure_listening()`, started by the first request) receives and runs
its own handlers for. With the in-memory layer (no REDIS_URL) there is one process, so the local
call is all there is; a management command run without REDIS_URL cannot reach the server, whose
caches then expire on their own lifetimes. A publish that fails (Redis down) is logged and
swallowed: it never breaks a save or a command, and the caches' lifetimes still bound staleness.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from typing import Callable

logger = logging.getLogger(__name__)

GROUP = "relay.cache-signals"
PUBLISH_TIMEOUT_SECONDS = 2.0
RETRY_SECONDS = 1.0
ORIGIN = uuid.uuid4().hex  # this process: it ran its handlers when it announced, not again on receipt

Handler = Callable[[], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)
_listener: asyncio.Task | None = None


def on(topic: str, handler: Handler) -> Handler:
    """Run `handler` (sync, cheap, no I/O: drop a cache) whenever `topic` is announced anywhere."""
    if handler not in _handlers[topic]:
        _handlers[topic].append(handler)
    return handler


def topics() -> list[str]:
    return list(_handlers)


def run_handlers(topic: str) -> None:
    """This process's handlers for `topic`; one failing handler does not stop the others."""
    for handler in list(_handlers.get(topic, ())):
        try:
            handler()
        except Exception:  # noqa: BLE001
            logger.exception("cache signal handler %r for %r failed", handler, topic)


def _layer():
    """The channel layer when it reaches other processes; None for the in-memory (one-process) layer."""
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer()
    return None if layer is None or isinstance(layer, InMemoryChannelLayer) else layer


async def _publish(topic: str) -> None:
    try:
        layer = _layer()
        if layer is not None:
            message = {"type": "cache.signal", "topic": topic, "origin": ORIGIN}
            await asyncio.wait_for(layer.group_send(GROUP, message), PUBLISH_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001 - Redis down must not break a save or a command
        logger.warning("could not announce %r to the other relay processes (%s: %s); they catch up when "
                       "their cached copies expire", topic, type(error).__name__, error)


def announce(topic: str) -> None:
    """From sync code: drop this process's caches for `topic`, then tell every other process."""
    from asgiref.sync import async_to_sync

    run_handlers(topic)
    try:
        async_to_sync(_publish)(topic)
    except Exception as error:  # noqa: BLE001 - e.g. called from a thread inside a running loop
        logger.warning("could not announce %r (%s)", topic, error)


async def aannounce(topic: str) -> None:
    """From async code: the same as `announce`."""
    run_handlers(topic)
    await _publish(topic)


def ensure_listening() -> None:
    """Start this process's listener on the running loop, once (called on each request; cheap)."""
    global _listener
    loop = asyncio.get_running_loop()
    if _listener is not None and not _listener.done() and _listener.get_loop() is loop:
        return
    if _layer() is None:
        return  # one process: announcements already ran the local handlers
    _listener = loop.create_task(_listen(), name="cache-signals")


async def _listen() -> None:
    layer = _layer()
    while True:
        try:
            channel = await layer.new_channel()
            await layer.group_add(GROUP, channel)
            # Whatever was announced while this process was not subscribed is lost: drop everything.
            for topic in topics():
                run_handlers(topic)
            while True:
                message = await layer.receive(channel)
                if message.get("origin") != ORIGIN and isinstance(message.get("topic"), str):
                    run_handlers(message["topic"])
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - Redis down: try again; caches still expire
            logger.warning("cache signals unavailable (%s: %s); retrying in %.0fs",
                           type(error).__name__, error, RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)
