"""Redis through Sentinel (REDIS_SENTINELS): a real sentinel in front of the suite's Redis, and two
relay processes that find the master through it and share exact limits."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from urllib.parse import urlsplit

import httpx
import pytest
import redis

from tests.conftest import TEST_KEY
from tests.relay_operator import fresh_ip, manage
from tests.relay_process import free_port

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs the suite's Redis: runs in the shared-backend suite"
)
SERVICE = "relaymaster"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture
def sentinel(tmp_path, sim):
    """A sentinel process monitoring the suite's Redis as SERVICE; yields its port."""
    server = shutil.which("redis-server") or shutil.which("redis-sentinel")
    if server is None:
        pytest.fail("redis-server is needed to run a sentinel")
    target = urlsplit(os.environ["REDIS_URL"])
    port = free_port()
    config = tmp_path / "sentinel.conf"  # a sentinel rewrites its config, so it gets its own file
    config.write_text(f"port {port}\nbind 127.0.0.1\ndaemonize no\nsave \"\"\n"
                      f"sentinel monitor {SERVICE} {target.hostname} {target.port or 6379} 1\n")
    proc = subprocess.Popen([server, str(config), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    asker = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)

    def knows_master() -> bool:
        try:
            return asker.execute_command("SENTINEL", "get-master-addr-by-name", SERVICE) is not None
        except redis.RedisError:
            return False

    try:
        assert sim.wait_for(knows_master, timeout=15, interval=0.1), "the sentinel never came up"
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def chat(relay, ip: str = "") -> httpx.Response:
    return httpx.post(f"{relay.url}/v1/chat/completions", json=CHAT, timeout=30,
                      headers={"Authorization": f"Bearer {TEST_KEY}", **({"X-Forwarded-For": ip} if ip else {})})


@needs_redis
def test_relays_find_redis_through_sentinel_and_share_limits(relay_factory, sentinel, sim):
    db = urlsplit(os.environ["REDIS_URL"]).path.strip("/") or "0"
    settings = {"REDIS_URL": f"redis://{SERVICE}/{db}", "REDIS_SENTINELS": f"127.0.0.1:{sentinel}",
                "RATE_LIMIT_REQUESTS_PER_MINUTE": "3", "RATE_LIMIT_FAIL_MODE": "closed",
                # Only a cross-process signal (the channel layer, through Sentinel too) can make a
                # block show within seconds: the policy table is otherwise re-read every 10 minutes.
                "QUOTA_POLICY_REFRESH_SECONDS": "600", "TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}
    first = relay_factory(**settings)
    second = relay_factory(**settings, CACHE_KEY_PREFIX=first.env["CACHE_KEY_PREFIX"])
    # Alternating processes: only counters kept in the one Redis can refuse the fourth call.
    answers = [chat(relay) for relay in (first, second, first, second)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[2].headers["x-ratelimit-remaining-requests"] == "0"

    direct = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert direct.keys(f"{first.env['CACHE_KEY_PREFIX']}:*"), "the counters are in the suite's Redis"
    ready = httpx.get(f"{first.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    for relay in (first, second):
        assert "unavailable" not in relay.logs().lower()

    ip = fresh_ip()
    manage(first, "quota", "block", "ip", ip, "--reason", "sentinel")
    deadline = time.monotonic() + 5
    for relay in (first, second):
        while (answer := chat(relay, ip)).status_code != 403:
            assert time.monotonic() < deadline, f"{relay.url} still answers {answer.status_code} for a blocked IP"
            time.sleep(0.05)  # polling with a deadline
