"""Everything the simulator remembers between requests, behind one lock shared with test threads."""
from __future__ import annotations

import copy
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import config as cfg
from .catalogue import Catalogue


@dataclass
class Script:
    reply: dict[str, Any]
    path: str
    remaining: Optional[int]  # None: applies until reset
    prompt_contains: Optional[str]


@dataclass
class StoredFile:
    data: bytes
    content_type: str


class SimState:
    """Recorded requests, scripts, switches, assets, generated files, conversations and counters."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.lock = threading.RLock()
        self.catalogue = Catalogue()
        self.valid_keys: set[str] = set()
        self.base_url = ""
        self._clock = clock
        self._clear()

    def _clear(self) -> None:
        self.config: dict[str, Any] = cfg.defaults()
        self._requests: list[dict[str, Any]] = []
        self._scripts: list[Script] = []
        self.assets: dict[str, dict[str, Any]] = {}  # by fileContent.path
        # (space, path) -> bytes; space is "public", "generated" (tmp+cdn) or "asset" (cdn)
        self.files: dict[tuple[str, str], StoredFile] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self._windows: dict[str, deque[float]] = {}
        self._used_credit: dict[str, int] = {}

    def reset(self) -> None:
        with self.lock:
            self._clear()
            self.valid_keys.clear()
        self.catalogue.reset()

    # -- switches ---------------------------------------------------------------------------
    def configure(self, switches: dict[str, Any]) -> dict[str, Any]:
        cfg.validate_switches(switches)
        with self.lock:
            self.config.update(switches)
            return dict(self.config)

    def snapshot_config(self) -> dict[str, Any]:
        with self.lock:
            return dict(self.config)

    def public_base(self) -> str:
        with self.lock:
            return (self.config["public_url"] or self.base_url).rstrip("/")

    # -- recording --------------------------------------------------------------------------
    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if self.config["record_requests"]:
                self._requests.append(entry)
        return entry

    def annotate(self, entry: dict[str, Any], **fields: Any) -> None:
        with self.lock:
            entry.update(fields)

    def requests(self) -> list[dict[str, Any]]:
        # Copies, so a test reading them never races a handler that is still annotating.
        with self.lock:
            return [copy.deepcopy(r) for r in self._requests]

    # -- scripts ----------------------------------------------------------------------------
    def add_script(self, reply: dict[str, Any], path: str, times: Optional[int],
                   prompt_contains: Optional[str]) -> None:
        cfg.validate_script(reply)
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for 'until reset')")
        path = path.split("?", 1)[0]
        with self.lock:
            self._scripts.append(Script(copy.deepcopy(reply), path, times, prompt_contains))

    def peek_script(self, path: str, match_text: str) -> Optional[Script]:
        with self.lock:
            for script in self._scripts:
                if script.path != path:
                    continue
                if script.prompt_contains is not None and script.prompt_contains not in match_text:
                    continue
                return script
        return None

    def consume_script(self, script: Script) -> dict[str, Any]:
        with self.lock:
            if script.remaining is not None:
                script.remaining -= 1
                if script.remaining <= 0 and script in self._scripts:
                    self._scripts.remove(script)
            return copy.deepcopy(script.reply)

    def take_script(self, path: str, match_text: str) -> dict[str, Any]:
        """Claim the next matching script (a copy of its reply), or {} when none matches."""
        script = self.peek_script(path, match_text)
        return self.consume_script(script) if script else {}

    # -- files, assets, conversations ---------------------------------------------------------
    def store_file(self, space: str, path: str, data: bytes, content_type: str) -> None:
        with self.lock:
            self.files[(space, path)] = StoredFile(data, content_type)

    def find_file(self, spaces: tuple[str, ...], path: str) -> Optional[StoredFile]:
        with self.lock:
            for space in spaces:
                found = self.files.get((space, path))
                if found:
                    return found
        return None

    def add_asset(self, asset: dict[str, Any]) -> None:
        with self.lock:
            self.assets[asset["path"]] = asset
        self.store_file("asset", asset["path"], asset["data"], asset["content_type"])

    def asset_by_path(self, path: Any) -> Optional[dict[str, Any]]:
        with self.lock:
            return self.assets.get(path) if isinstance(path, str) else None

    def asset_by_uuid(self, file_uuid: Any) -> Optional[dict[str, Any]]:
        with self.lock:
            return next((a for a in self.assets.values() if a["uuid"] == file_uuid), None)

    def conversation(self, conversation_id: Any) -> Optional[dict[str, Any]]:
        with self.lock:
            return self.conversations.get(conversation_id) if isinstance(conversation_id, str) \
                else None

    # -- limits and credits -------------------------------------------------------------------
    def hit_rate_limit(self, key: str) -> Optional[int]:
        """Count a request for `key`; seconds to wait when over the per-minute limit, else None."""
        with self.lock:
            limit = self.config["rate_limit_per_minute"]
            if not limit:
                return None
            now = self._clock()
            window = self._windows.setdefault(key, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= limit:
                wait = self.config["rate_limit_retry_after"]
                return int(wait) if wait is not None else max(1, int(60 - (now - window[0]) + 0.999))
            window.append(now)
            return None

    def charge(self, key: str, credit: int) -> int:
        """Add `credit` to the key's usage; returns the usage *before* this call (it lags live)."""
        with self.lock:
            before = self._used_credit.get(key, self.config["initial_used_credit"])
            self._used_credit[key] = before + credit
            return before
