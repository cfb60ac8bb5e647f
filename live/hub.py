"""This process's window on the live group: subscribed while someone watches, it folds every
process's batches into one LiveWindow and wakes the watchers (WebSocket consumers, polling).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.layers import get_channel_layer

from core.db_thread import run_db
from core.key_labels import labels_by_fingerprint
from live.publisher import GROUP
from live.window import LiveWindow

# With no WebSocket watcher and no poll for this long, the process leaves the group.
IDLE_SECONDS = 60.0
# Seconds between attempts to join the group when the layer (Redis) refuses.
RETRY_SECONDS = 2.0
REJOIN_SECONDS = 3600.0
LABELS_SECONDS = 10.0  # how long the key names are reused before being read again
logger = logging.getLogger(__name__)


class Hub:
    def __init__(self, layer=None, clock=time.monotonic) -> None:
        self.layer = layer
        self.clock = clock
        self.window = LiveWindow(clock)
        self.watchers: set[asyncio.Event] = set()
        self.task: asyncio.Task | None = None
        self.polled_at = 0.0
        self.error: str | None = None
        self._labels: dict[str, dict] = {}
        self._labels_at: float | None = None

    def watch(self) -> asyncio.Event:
        """A WebSocket watcher: the event is set after each batch."""
        changed = asyncio.Event()
        self.watchers.add(changed)
        self._ensure_running()
        return changed

    def unwatch(self, changed: asyncio.Event) -> None:
        self.watchers.discard(changed)

    def polled(self) -> None:
        self.polled_at = self.clock()
        self._ensure_running()

    def _idle(self) -> bool:
        return not self.watchers and self.clock() - self.polled_at > IDLE_SECONDS

    def _ensure_running(self) -> None:
        task, loop = self.task, asyncio.get_running_loop()
        if task is None or task.done() or task.get_loop() is not loop:
            self.task = loop.create_task(self._listen(), name="live-hub")

    async def _listen(self) -> None:
        while not self._idle():
            layer = self.layer or get_channel_layer()
            channel = receiving = None
            try:
                channel = await layer.new_channel("live-hub.")
                await layer.group_add(GROUP, channel)
                joined = self.clock()
                self.error = None
                while not self._idle():
                    if self.clock() - joined > REJOIN_SECONDS:  # layers expire group members (a day)
                        await layer.group_add(GROUP, channel)
                        joined = self.clock()
                    # Never a timeout on receive() itself: channels-redis drops a channel whose
                    # receive was cancelled, so one receive stays pending across idle checks.
                    receiving = receiving or asyncio.ensure_future(layer.receive(channel))
                    done, _ = await asyncio.wait({receiving}, timeout=5.0)
                    if not done:
                        continue
                    message, receiving = receiving.result(), None
                    if message.get("type") == "live.batch":
                        self.window.add(message["batch"])
                        for changed in self.watchers:
                            changed.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the page says so, and it retries
                if self.error is None:
                    logger.warning("live view: cannot follow the channel layer: %r", error)
                self.error = f"the channel layer does not answer ({type(error).__name__})"
                for changed in self.watchers:
                    changed.set()
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                if receiving is not None:
                    receiving.cancel()
                if channel is not None:
                    try:
                        await asyncio.wait_for(layer.group_discard(GROUP, channel), timeout=2.0)
                    except Exception:  # noqa: BLE001 - leaving a group that is gone
                        pass

    async def snapshot(self) -> dict[str, Any]:
        labels = await self._key_labels()

        def key_label(fp: str) -> str:
            known = labels.get(fp)
            return known["name"] if known and known.get("name") else f"key {fp[:8]}…"

        return {**self.window.snapshot(key_label), "following": self.error is None, "problem": self.error}

    async def _key_labels(self) -> dict[str, dict]:
        now = self.clock()
        if self._labels_at is None or now - self._labels_at >= LABELS_SECONDS:
            self._labels_at = now
            try:
                self._labels = await run_db(labels_by_fingerprint)
            except Exception:  # noqa: BLE001 - the database is down: bare fingerprints it is
                logger.warning("live view: cannot read key names", exc_info=True)
        return self._labels


hub = Hub()
