"""Why a slow request of the latency soak was slow: the relay's own clock, and the CPU scheduler's.

Per request the soak keeps the relay's `x-relay-overhead-ms` and, from /proc/<pid>/task/<tid>/schedstat
(Linux), how long each thread that carries a request ran and how long it waited, runnable, for a CPU
(the run-queue delay: the CPU was taken by another process). A slow request's excess over the median
is then split between run-queue waits, the relay's own work and the rest, which happened outside the
relay (client, simulator, loopback).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

STARVED, RELAY, OUTSIDE = "starved", "relay", "outside"
CLASSES = {
    RELAY: "inside the relay (its own work)",
    STARVED: "CPU taken by other processes (run-queue wait)",
    OUTSIDE: "outside the relay (client, simulator, loopback)",
}


def _schedstat(path: str) -> tuple[float, float]:
    """(ms on a CPU, ms runnable but waiting for one) of one thread since it started; 0s if gone."""
    try:
        with open(path) as f:
            run, wait, _ = f.read().split()
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(run) / 1e6, int(wait) / 1e6


class Threads:
    """The threads a soak request passes through, read before and after each request."""

    def __init__(self, relay_pid: int, simulator_tid: int | None) -> None:
        self.relay_pid = relay_pid
        self.loop = f"/proc/{relay_pid}/task/{relay_pid}/schedstat"  # daphne's main thread runs the loop
        self.client = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self.simulator = f"/proc/self/task/{simulator_tid}/schedstat" if simulator_tid else None
        self.available = os.path.exists(self.loop)
        self._workers: list[str] = []
        self._reads = 0

    def _relay_workers(self) -> list[str]:
        if self._reads % 100 == 0:  # threads come and go (executor threads), rarely
            try:
                tids = [t for t in os.listdir(f"/proc/{self.relay_pid}/task") if t != str(self.relay_pid)]
            except OSError:
                tids = []
            self._workers = [f"/proc/{self.relay_pid}/task/{t}/schedstat" for t in tids]
        self._reads += 1
        return self._workers

    def read(self) -> tuple[float, ...]:
        """Milliseconds so far: relay loop ran, relay loop waited, other relay threads ran, client ran,
        client waited, simulator ran, simulator waited."""
        if not self.available:
            return (0.0,) * 7
        loop_run, loop_wait = _schedstat(self.loop)
        workers_run = sum(_schedstat(p)[0] for p in self._relay_workers())
        client_run, client_wait = _schedstat(self.client)
        simulator_run, simulator_wait = _schedstat(self.simulator) if self.simulator else (0.0, 0.0)
        return loop_run, loop_wait, workers_run, client_run, client_wait, simulator_run, simulator_wait


def cpu_seconds(pid: int | str = "self") -> float:
    """CPU time a whole process (all its threads) has used."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def machine_busy_seconds() -> float:
    """CPU time all CPUs of the machine have spent not idle."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Attribution:
    kind: str  # STARVED, RELAY or OUTSIDE: the largest share of the excess
    starved_ms: float
    relay_ms: float
    outside_ms: float


def attribute(excess_ms: float, overhead_extra_ms: float, loop_cpu_extra_ms: float, loop_wait_ms: float,
              client_wait_ms: float, simulator_wait_ms: float) -> Attribution:
    """Split a request's time over the median (`excess_ms`) into three shares.

    Run-queue waits of the three threads come first: while waiting for a CPU, none of them was
    working. The relay's work is the larger of what its own clock counted beyond its median overhead
    (less its loop's wait) and what its loop ran beyond its median: the overhead clock stops while
    1min.ai is awaited, so work the loop did meanwhile (a collection, another task) shows only in
    the second. The remainder happened outside the relay.
    """
    excess = max(0.0, excess_ms)
    starved = min(excess, loop_wait_ms + client_wait_ms + simulator_wait_ms)
    relay = min(excess - starved, max(0.0, overhead_extra_ms - loop_wait_ms, loop_cpu_extra_ms))
    outside = excess - starved - relay
    shares = {STARVED: starved, RELAY: relay, OUTSIDE: outside}
    return Attribution(max(shares, key=shares.__getitem__), starved, relay, outside)


def probe_events(path: Path) -> list[tuple[float, float, str]]:
    """The relay probe's log (bench/soak_probe): (start, seconds, what) per line, sorted."""
    events = []
    if path.exists():
        for line in path.read_text().splitlines():
            start, seconds, what = line.split(" ", 2)
            events.append((float(start), float(seconds), what))
    return sorted(events)


def causes_between(events: list[tuple[float, float, str]], start: float, end: float) -> list[str]:
    """What the probe saw in the relay overlapping [start, end] (CLOCK_MONOTONIC seconds)."""
    return [f"{what} {seconds * 1000:.0f} ms" for begin, seconds, what in events
            if begin <= end and begin + seconds >= start]
