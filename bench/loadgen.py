"""An asyncio + httpx load generator for loopback targets, bounded in time and in request count.

Two shapes: `constant_rate` (open loop: requests leave on a fixed schedule whatever the answers do,
and latency counts from the scheduled time, so a stalled server cannot hide its queue) and
`closed_loop` (N connections, each sending its next request when the last one is answered).
"""
from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

import httpx

MAX_DURATION = 120.0  # seconds: no run may last longer, whatever it is asked
MAX_REQUESTS = 200_000


@dataclass(frozen=True)
class Target:
    """One request shape: where it goes, what it sends, and whether the answer is a stream."""

    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    stream: bool = False

    def __post_init__(self) -> None:
        host = urlsplit(self.url).hostname or ""
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the load generator only targets loopback addresses, not {host!r}")


@dataclass
class Sample:
    scheduled: float  # when the request was meant to leave (perf_counter seconds)
    sent: float
    first_byte: float = math.nan
    done: float = math.nan
    status: int = 0
    ok: bool = False
    error: str = ""
    overhead_ms: float = math.nan  # the relay's own x-relay-overhead-ms, when present

    @property
    def latency(self) -> float:
        return self.done - self.scheduled

    @property
    def ttfb(self) -> float:
        return self.first_byte - self.scheduled


def client(max_connections: int = 2000, timeout: float = 30.0) -> httpx.AsyncClient:
    """httpx over aiohttp (the relay's upstream transport). httpx's own (httpcore) pool slows down
    sharply with many requests in flight: against the simulator, 64 connections gave about 200 req/s
    where one gave 1,100, so at saturation it measured itself, not the server."""
    from api.upstream.onemin_transport import UpstreamTransport

    transport = UpstreamTransport(max_connections=max_connections, trust_env=False)
    return httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False)


async def one(
    http: httpx.AsyncClient, target: Target, scheduled: float,
    check: Callable[[bytes], bool] | None = None, on_first_byte: Callable[[], None] | None = None,
) -> Sample:
    sample = Sample(scheduled=scheduled, sent=time.perf_counter())
    try:
        async with http.stream(target.method, target.url, content=target.body, headers=target.headers) as response:
            sample.status = response.status_code
            chunks = []
            async for chunk in response.aiter_raw():
                if math.isnan(sample.first_byte):
                    sample.first_byte = time.perf_counter()
                    if on_first_byte is not None:
                        on_first_byte()
                chunks.append(chunk)
            sample.done = time.perf_counter()
            if math.isnan(sample.first_byte):
                sample.first_byte = sample.done
            overhead = response.headers.get("x-relay-overhead-ms")
            if overhead is not None:
                sample.overhead_ms = float(overhead)
            body = b"".join(chunks)
            sample.ok = response.status_code == 200 and (check is None or check(body))
            if not sample.ok and not sample.error:
                sample.error = f"HTTP {response.status_code}" if response.status_code != 200 else "incomplete body"
    except (httpx.HTTPError, OSError) as error:
        sample.done = time.perf_counter()
        sample.error = type(error).__name__
    return sample


async def constant_rate(
    http: httpx.AsyncClient, target: Target, rate: float, duration: float,
    check: Callable[[bytes], bool] | None = None, max_in_flight: int = 5000,
) -> tuple[list[Sample], float]:
    """Requests at `rate` per second for `duration` seconds; returns samples and the worst send lag."""
    duration = min(duration, MAX_DURATION)
    count = min(int(rate * duration), MAX_REQUESTS)
    start = time.perf_counter() + 0.05
    tasks: list[asyncio.Task[Sample]] = []
    worst_lag = 0.0
    in_flight = 0

    def landed(_: object) -> None:
        nonlocal in_flight
        in_flight -= 1

    for i in range(count):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        worst_lag = max(worst_lag, time.perf_counter() - scheduled)
        if in_flight >= max_in_flight:
            break  # the target is hopelessly behind; the missing requests count as not answered
        task = asyncio.create_task(one(http, target, scheduled, check))
        in_flight += 1
        task.add_done_callback(landed)
        tasks.append(task)
    samples = list(await asyncio.gather(*tasks))
    for _ in range(count - len(samples)):
        samples.append(Sample(scheduled=math.nan, sent=math.nan, error="not sent: too many in flight"))
    return samples, worst_lag


async def closed_loop(
    http: httpx.AsyncClient, target: Target, connections: int, duration: float,
    max_requests: int = MAX_REQUESTS, check: Callable[[bytes], bool] | None = None,
) -> tuple[list[Sample], float]:
    """`connections` workers back to back for `duration` seconds; returns samples and elapsed time."""
    duration = min(duration, MAX_DURATION)
    deadline = time.perf_counter() + duration
    samples: list[Sample] = []

    async def worker() -> None:
        while time.perf_counter() < deadline and len(samples) < max_requests:
            samples.append(await one(http, target, time.perf_counter(), check))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return samples, time.perf_counter() - started
