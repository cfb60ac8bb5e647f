"""Graceful shutdown under daphne: on SIGTERM stop accepting connections, let in-flight requests
and streams finish for up to SHUTDOWN_GRACE_SECONDS, cancel what is left, then run the flush hooks.

Daphne's own shutdown cancels every running request at once. Apps register work that must happen
before the process exits (flushing buffered usage, closing pools) with `on_shutdown`.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from django.conf import settings

logger = logging.getLogger(__name__)

ShutdownHook = Callable[[], Awaitable[None]]
_hooks: list[ShutdownHook] = []
# True once SIGTERM arrived (readiness checks can report it).
draining = False
HOOK_TIMEOUT_SECONDS = 10.0
CANCEL_WAIT_SECONDS = 5.0


def on_shutdown(hook: ShutdownHook) -> ShutdownHook:
    """Run `hook` (an async callable) once at shutdown, after in-flight requests are done."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


async def run_hooks() -> None:
    for hook in list(_hooks):
        try:
            await asyncio.wait_for(hook(), HOOK_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - one failing hook must not stop the others
            logger.exception("shutdown hook %r failed", hook)


def _running(server) -> dict:
    """{protocol: application instance} for requests still being served."""
    running = {}
    for protocol, details in list(server.connections.items()):
        instance = details.get("application_instance")
        if instance is not None and not instance.done():
            running[protocol] = instance
    return running


async def shut_down(server) -> None:
    global draining
    draining = True
    started = time.monotonic()
    for port in getattr(server, "relay_ports", []):
        port.stopListening()
    for protocol in _running(server):
        # A WebSocket (the admin's live view) never ends by itself: closed now, so it does not hold
        # the process for the whole grace period; the page polls, then reconnects to a live process.
        # (autobahn lets a server send only 1000 or 3000-4999, not 1001 "going away".)
        if hasattr(protocol, "serverClose"):
            try:
                protocol.serverClose(code=1000)
            except Exception:  # noqa: BLE001 - a socket already closing must not stop the shutdown
                logger.exception("shutdown: could not close a WebSocket")
    grace = settings.SHUTDOWN_GRACE_SECONDS
    logger.info(
        "shutdown: stopped accepting connections; %d request(s) in flight, grace %gs",
        len(_running(server)), grace,
    )
    while _running(server) and time.monotonic() - started < grace:
        await asyncio.sleep(0.05)
    left = _running(server)
    for protocol in left:
        # As if the client had gone: Django cancels the view, which closes its upstream call and
        # finishes its CallContext (a stream is recorded as cut short, with what was delivered).
        protocol.send_disconnect()
    if left:
        await asyncio.wait(list(left.values()), timeout=CANCEL_WAIT_SECONDS)
    for instance in _running(server).values():
        instance.cancel()
    await run_hooks()
    logger.info(
        "shutdown: done in %.1fs; %d request(s) cancelled at the deadline",
        time.monotonic() - started, len(left),
    )


def install(server_cls: type) -> None:
    """Replace daphne's kill-everything shutdown trigger with `shut_down` (idempotent)."""
    if getattr(server_cls, "_relay_graceful", False):
        return
    from twisted.internet import defer

    original_listen_success = server_cls.listen_success

    def listen_success(self, port):
        # Kept so shutdown can close the listening sockets first.
        self.__dict__.setdefault("relay_ports", []).append(port)
        return original_listen_success(self, port)

    def kill_all_applications(self):
        deferred = defer.Deferred.fromFuture(asyncio.ensure_future(shut_down(self)))
        deferred.addErrback(lambda failure: logger.error("shutdown failed: %s", failure.getErrorMessage()))
        return deferred

    server_cls.listen_success = listen_success
    server_cls.kill_all_applications = kill_all_applications
    server_cls._relay_graceful = True
