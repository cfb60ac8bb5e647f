"""Timed calls to a running relay for the set-up comparisons (quotas_overhead.py, keys_overhead.py)."""
from __future__ import annotations

import asyncio
import time

import httpx


def redis_answers(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no Redis to compare against"
        return False


async def sequential(url: str, key: str, count: int, path: str, body: dict | None) -> list[float]:
    """Milliseconds for each of `count` calls made one after the other (a POST of `body`, else a GET)."""
    times = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        for _ in range(count):
            started = time.perf_counter()
            response = await (http.post(path, json=body) if body else http.get(path))
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return times


async def burst(url: str, key: str, count: int, concurrency: int, body: dict) -> float:
    """Requests per second for `count` chat calls with `concurrency` in flight."""
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60,
                                 limits=limits) as http:
        remaining = count

        async def worker():
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                response = await http.post("/v1/chat/completions", json=body)
                assert response.status_code == 200, response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)
