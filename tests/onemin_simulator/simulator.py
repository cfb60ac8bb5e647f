"""The Simulator: runs the server on its own event loop in a thread and exposes test controls."""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, Optional

from . import files
from .catalogue import Catalogue
from .router import Router
from .server import HttpServer
from .state import SimState


class Simulator:
    """A local 1min.ai. `start()` it, point the relay at `url`, script and inspect it from tests.

    Every public method is safe to call from any thread while the server runs.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._state = SimState()
        self._server = HttpServer(Router(self._state).dispatch)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._startup_error: Optional[BaseException] = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "Simulator":
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        self._thread = threading.Thread(target=self._run, name="onemin-simulator", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise self._startup_error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            self.port = loop.run_until_complete(self._server.start(self.host, self.port))
        except BaseException as exc:  # reported to the starting thread
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        url_host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        self._state.base_url = f"http://{url_host}:{self.port}"
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._server.close())
            loop.close()

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None
        self._ready.clear()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT` (the address the server listens on)."""
        if not self._state.base_url:
            raise RuntimeError("simulator not started")
        return self._state.base_url

    @property
    def cdn_url(self) -> str:
        """The stand-in for https://asset.1min.ai: `{url}/cdn`."""
        return f"{self.url}/cdn"

    # -- controls -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget requests, scripts, uploads, generated files, conversations, counters, keys;
        restore default switches and the default catalogue."""
        self._state.reset()

    def configure(self, **switches: Any) -> dict[str, Any]:
        """Set global switches (see README); returns the full resulting configuration."""
        return self._state.configure(switches)

    @property
    def config(self) -> dict[str, Any]:
        return self._state.snapshot_config()

    def script(self, reply: dict[str, Any], *, path: str = "/api/chat-with-ai",
               times: Optional[int] = 1, prompt_contains: Optional[str] = None) -> None:
        """Queue `reply` for the next `times` matching requests (None: until reset)."""
        self._state.add_script(reply, path, times, prompt_contains)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Copies of every recorded request, oldest first (control routes are not recorded)."""
        return self._state.requests()

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self._state.requests() if r["path"] == path]

    @property
    def valid_keys(self) -> set[str]:
        """The live set of accepted keys; mutate it in place (add/discard)."""
        return self._state.valid_keys

    @property
    def catalogue(self) -> Catalogue:
        return self._state.catalogue

    def set_model_status(self, model_id: str, status: str) -> None:
        self._state.catalogue.set_status(model_id, status)

    def publish(self, path: str, data: bytes, content_type: str) -> str:
        """Serve `data` at `{url}/public/{path}`; returns that URL."""
        return files.publish(self._state, path, data, content_type)

    def redirect_url(self, to: str, status: int = 302) -> str:
        """A URL on the simulator that answers `status` with `Location: to`."""
        return files.redirect_url(self._state, to, status)

    @property
    def assets(self) -> dict[str, dict[str, Any]]:
        """Uploaded assets by fileContent.path (uuid, filename, content_type, data, size, ...)."""
        with self._state.lock:
            return {path: dict(asset) for path, asset in self._state.assets.items()}

    @property
    def conversations(self) -> dict[str, dict[str, Any]]:
        """Live conversations by uuid, with their `messages` history."""
        with self._state.lock:
            return {cid: {**c, "messages": list(c["messages"])}
                    for cid, c in self._state.conversations.items()}

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0,
                 interval: float = 0.005) -> bool:
        """Poll `predicate` until truthy or `timeout` seconds pass; True if it became truthy."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)
