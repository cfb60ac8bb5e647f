"""The live view's WebSocket: staff only, one JSON snapshot after every batch (and every few seconds)."""
from __future__ import annotations

import asyncio

import orjson
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from live.hub import hub

# Rates decay with no traffic: the page gets a fresh snapshot at least this often.
REFRESH_SECONDS = 2.0


def may_watch(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


class LiveConsumer(AsyncWebsocketConsumer):
    # No channel of its own on the layer: snapshots come from this process's hub, which follows the
    # group once for every watcher. (An alias that names no layer gives None; with a per-socket
    # channel, a Redis outage would fail the handshake instead of showing on the page.)
    channel_layer_alias = "live-view-needs-no-layer"
    sender: asyncio.Task | None = None
    changed: asyncio.Event | None = None

    async def connect(self) -> None:
        # The Origin was checked by AllowedHostsOriginValidator (relay_site/asgi.py); closing
        # before accept() refuses the handshake (HTTP 403).
        if not settings.LIVE_VIEW or not may_watch(self.scope.get("user")):
            await self.close()
            return
        await self.accept()
        self.changed = hub.watch()
        self.sender = asyncio.ensure_future(self._send_snapshots())

    async def disconnect(self, code: int) -> None:
        if self.sender is not None:
            self.sender.cancel()
        if self.changed is not None:
            hub.unwatch(self.changed)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        """The page sends nothing that matters; anything it sends is ignored."""

    async def _send_snapshots(self) -> None:
        while True:
            await self.send(text_data=orjson.dumps({"mode": "websocket", **await hub.snapshot()}).decode())
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=REFRESH_SECONDS)
            except asyncio.TimeoutError:
                pass
            self.changed.clear()
