"""The API's hooks into the live feed, and the one task per process that sends it to the group.

Nothing on the request path awaits the channel layer: the hooks append to `live.feed` and make
sure the task runs; the task sends a batch every LIVE_PUBLISH_SECONDS when something changed.
A layer that is down (Redis) costs a lost batch and one log line a minute, never a request.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from channels.layers import get_channel_layer
from django.conf import settings

from live.feed import Feed, feed

if TYPE_CHECKING:
    from core.call_context import CallContext

GROUP = "relay-live"
# Seconds between two log lines about a layer that refuses batches.
LOG_EVERY_SECONDS = 60.0
logger = logging.getLogger(__name__)


class Publisher:
    def __init__(self, source: Feed, layer=None, clock=time.monotonic) -> None:
        self.feed = source
        self.layer = layer
        self.clock = clock
        self.task: asyncio.Task | None = None
        self.failures = 0
        self.logged_at: float | None = None

    def ensure_running(self) -> None:
        task, loop = self.task, asyncio.get_running_loop()
        if task is None or task.done() or task.get_loop() is not loop:
            self.task = loop.create_task(self.run(), name="live-publisher")

    async def run(self) -> None:
        while True:
            await asyncio.sleep(settings.LIVE_PUBLISH_SECONDS)
            await self.publish_once()

    async def publish_once(self) -> bool:
        """Send what changed; False when there was nothing to send or the layer refused it."""
        batch = self.feed.take_batch()
        if batch is None:
            return False
        try:
            layer = self.layer or get_channel_layer()
            # Bounded, so a hung Redis delays only the next batch, never piles batches up.
            await asyncio.wait_for(layer.group_send(GROUP, {"type": "live.batch", "batch": batch}),
                                   timeout=max(1.0, 4 * settings.LIVE_PUBLISH_SECONDS))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the live view is never worth a failed request
            self.failures += 1
            now = self.clock()
            if self.logged_at is None or now - self.logged_at >= LOG_EVERY_SECONDS:
                self.logged_at = now
                logger.warning("live view: could not publish %d batch(es) to the channel layer: %r",
                               self.failures, error)
                self.failures = 0
            return False
        return True


publisher = Publisher(feed)


async def record_call(call: "CallContext") -> None:
    """A CallContext finish hook: one tuple appended, no I/O."""
    feed.add(call)
    publisher.ensure_running()


def stream_opened(endpoint: str) -> None:
    feed.stream_opened(endpoint)
    publisher.ensure_running()


def stream_closed(endpoint: str) -> None:
    feed.stream_closed(endpoint)
