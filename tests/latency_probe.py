"""Polls a URL from a process of its own and reports how long each answer took.

`python -m tests.latency_probe URL` prints `ready` once its connection is open, polls until its
stdin closes, then prints the latencies (seconds) as one JSON list. Its own process, so that what
the test process does meanwhile (the in-process simulator decoding an 18 MB body, the sender)
cannot hold up the probe: only the relay's answers are timed. `probing(url)` runs it around a block.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import httpx

from tests.relay_process import ROOT

PACE_SECONDS = 0.02  # between two polls: the probe measures, it does not load the relay


def poll(url: str, stop: threading.Event) -> list[float]:
    latencies = []
    with httpx.Client(timeout=10) as client:
        client.get(url).raise_for_status()  # the connection is open before timing starts
        print("ready", flush=True)
        while not stop.is_set():
            started = time.perf_counter()
            client.get(url).raise_for_status()
            latencies.append(time.perf_counter() - started)
            stop.wait(PACE_SECONDS)
    return latencies


class Probe:
    def __init__(self) -> None:
        self.latencies: list[float] = []


@contextmanager
def probing(url: str) -> Iterator[Probe]:
    """Poll `url` while the block runs; `probe.latencies` is filled when it ends."""
    process = subprocess.Popen([sys.executable, "-m", "tests.latency_probe", url],
                               cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    probe = Probe()
    try:
        assert process.stdout.readline().strip() == "ready"
        yield probe
    finally:
        process.stdin.close()  # the probe's signal to stop
        output = process.stdout.read()
        process.wait(timeout=30)
    assert process.returncode == 0, output
    probe.latencies = json.loads(output.strip().splitlines()[-1])


def main() -> None:
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(json.dumps(poll(sys.argv[1], stop)), flush=True)


if __name__ == "__main__":
    main()
