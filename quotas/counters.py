"""Exact counting: a sliding one-minute window log of requests and tokens, plus token budgets.

A check-and-count is one atomic step over every subject of a request (its IP and its key):
either all counters take the request or none does. `MemoryCounters` does it inside one
process; `quotas.counters_redis.RedisCounters` does the same in one Redis Lua script, so
several processes share exact counts. Both speak the types below and are tested alike.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Protocol

WINDOW_MS = 60_000


@dataclass
class Budget:
    key: str  # names the subject and the period, e.g. "key:ab12…:d:20261125"
    limit: int
    ttl_ms: int  # kept until the period is over
    seed: int | None = None  # tokens already used this period, from the usage roll-ups


@dataclass
class Subject:
    name: str  # "ip:203.0.113.7" or "key:<fingerprint>"
    requests_per_minute: int  # 0: unlimited
    tokens_per_minute: int  # 0: unlimited
    budgets: list[Budget] = field(default_factory=list)

    @property
    def windowed(self) -> bool:
        return self.requests_per_minute > 0 or self.tokens_per_minute > 0


@dataclass
class State:
    """A subject's counters: after the request when admitted, as they stand when refused."""

    requests: int = 0
    tokens: int = 0
    reset_ms: int = 0  # until the oldest counted request leaves the window
    budgets: list[int] = field(default_factory=list)


@dataclass
class Denial:
    subject: int  # index into the request's subjects
    kind: str  # "requests", "tokens" or "budget"
    used: int
    limit: int
    retry_ms: int = 0  # windows only; a budget's retry is its period's end
    budget: int = -1


@dataclass
class Outcome:
    admitted: bool
    states: list[State]
    denial: Denial | None = None
    needs_seed: list[tuple[int, int]] = field(default_factory=list)  # (subject, budget) unknown


class Counters(Protocol):
    async def admit(self, request_id: str, subjects: list[Subject], cost: int, now_ms: int | None = None) -> Outcome: ...

    async def settle(self, request_id: str, subjects: list[Subject], reserved: int, actual: int) -> None: ...


class _Window:
    __slots__ = ("entries", "tokens", "total")

    def __init__(self) -> None:
        self.entries: deque[tuple[int, str]] = deque()  # (time ms, request id), oldest first
        self.tokens: dict[str, int] = {}
        self.total = 0


class MemoryCounters:
    """One process's counters; one lock makes each admit atomic for threads and coroutines alike."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._budgets: dict[str, tuple[int, float]] = {}  # key -> (used, expires at ms)
        self._calls = 0

    def _now(self, now_ms: int | None) -> int:
        return int(self._clock() * 1000) if now_ms is None else now_ms

    def _expire(self, window: _Window, cutoff: int) -> None:
        while window.entries and window.entries[0][0] <= cutoff:
            _, request_id = window.entries.popleft()
            window.total -= window.tokens.pop(request_id, 0)

    def _budget(self, key: str, now: int) -> int | None:
        found = self._budgets.get(key)
        if found is None or found[1] <= now:
            return None
        return found[0]

    async def admit(self, request_id: str, subjects: list[Subject], cost: int, now_ms: int | None = None) -> Outcome:
        with self._lock:
            return self._admit(request_id, subjects, cost, self._now(now_ms))

    def _admit(self, request_id: str, subjects: list[Subject], cost: int, now: int) -> Outcome:
        self._sweep(now)
        states: list[State] = []
        denial: Denial | None = None
        seeds: list[tuple[int, int]] = []
        for i, subject in enumerate(subjects):
            state = State()
            if subject.windowed:
                window = self._windows.get(subject.name) or _Window()
                self._expire(window, now - WINDOW_MS)
                state.requests, state.tokens = len(window.entries), window.total
                if window.entries:
                    state.reset_ms = window.entries[0][0] + WINDOW_MS - now
                denial = denial or _window_denial(i, subject, window, cost, now)
            for j, budget in enumerate(subject.budgets):
                used = self._budget(budget.key, now)
                if used is None:
                    if budget.seed is None:
                        seeds.append((i, j))
                    used = budget.seed or 0
                state.budgets.append(used)
                if denial is None and not seeds and used + cost > budget.limit:
                    denial = Denial(i, "budget", used, budget.limit, budget=j)
            states.append(state)
        if seeds:
            return Outcome(False, states, needs_seed=seeds)
        if denial is not None:
            return Outcome(False, states, denial)
        for subject, state in zip(subjects, states):
            if subject.windowed:
                window = self._windows.setdefault(subject.name, _Window())
                window.entries.append((now, request_id))
                window.tokens[request_id] = cost
                window.total += cost
                state.requests, state.tokens = len(window.entries), window.total
                state.reset_ms = window.entries[0][0] + WINDOW_MS - now
            for j, budget in enumerate(subject.budgets):
                used = self._budget(budget.key, now)
                used = (budget.seed or 0) if used is None else used
                self._budgets[budget.key] = (used + cost, now + budget.ttl_ms)
                state.budgets[j] = used + cost
        return Outcome(True, states)

    async def settle(self, request_id: str, subjects: list[Subject], reserved: int, actual: int) -> None:
        delta = actual - reserved
        if delta == 0:
            return
        with self._lock:
            now = self._now(None)
            for subject in subjects:
                window = self._windows.get(subject.name)
                if window is not None and request_id in window.tokens:
                    window.tokens[request_id] += delta
                    window.total += delta
                for budget in subject.budgets:
                    used = self._budget(budget.key, now)
                    if used is not None:
                        self._budgets[budget.key] = (used + delta, self._budgets[budget.key][1])

    def _sweep(self, now: int) -> None:
        """Now and then, forget subjects and budgets with nothing left to count."""
        self._calls += 1
        if self._calls % 1000:
            return
        for name in [n for n, w in self._windows.items() if not w.entries or w.entries[-1][0] <= now - WINDOW_MS]:
            del self._windows[name]
        for key in [k for k, (_, until) in self._budgets.items() if until <= now]:
            del self._budgets[key]


def _window_denial(index: int, subject: Subject, window: _Window, cost: int, now: int) -> Denial | None:
    count = len(window.entries)
    if subject.requests_per_minute and count + 1 > subject.requests_per_minute:
        # This many of the oldest requests must leave the window before one more fits.
        nth = window.entries[count - subject.requests_per_minute][0]
        return Denial(index, "requests", count, subject.requests_per_minute, nth + WINDOW_MS - now)
    if subject.tokens_per_minute and window.total + cost > subject.tokens_per_minute:
        need, freed, retry = window.total + cost - subject.tokens_per_minute, 0, WINDOW_MS
        for at, request_id in window.entries:
            freed += window.tokens.get(request_id, 0)
            if freed >= need:
                retry = at + WINDOW_MS - now
                break
        return Denial(index, "tokens", window.total, subject.tokens_per_minute, retry)
    return None
