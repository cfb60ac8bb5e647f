"""WEB_CONCURRENCY=N: N daphne workers on one listening socket, sharing Redis, metrics summed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.relay_process import ROOT, RelayProcess, base_env, migrate, new_workdir

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="several workers need Redis: runs in the shared-backend suite"
)
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


class LauncherProcess(RelayProcess):
    """The relay started the way `make run WEB_CONCURRENCY=2` starts it."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "relay_site.serve", "-b", "127.0.0.1", "-p", str(self.port)]


@pytest.fixture(scope="module")
def two_workers(simulator):
    workdir = new_workdir()
    env = base_env(simulator.url, workdir)
    env.update(WEB_CONCURRENCY="2", REDIS_URL=os.environ.get("REDIS_URL", ""))
    migrate(env)
    launcher = LauncherProcess(env, workdir).start()
    yield launcher
    launcher.stop()


def pid_answering(relay) -> int:
    # A new connection each time, so the kernel may hand it to either worker.
    with httpx.Client(timeout=5) as fresh:
        return fresh.get(f"{relay.url}/healthz").json()["pid"]


@needs_redis
def test_two_workers_answer_on_one_port(two_workers, sim):
    pids: set[int] = set()
    assert sim.wait_for(lambda: pids.add(pid_answering(two_workers)) or len(pids) == 2, timeout=20)
    assert two_workers.proc.pid not in pids


@needs_redis
def test_metrics_from_any_worker_count_every_workers_calls(two_workers, sim):
    def chat_count(text: str) -> float:
        from tests.e2e.test_observability import sample

        return sample(text, "relay_requests_total", endpoint="chat.completions", model="gpt-4o-mini", status="200")

    before = chat_count(httpx.get(f"{two_workers.url}/metrics").text)
    for _ in range(20):
        with httpx.Client(timeout=10) as fresh:
            response = fresh.post(f"{two_workers.url}/v1/chat/completions", json=CHAT,
                                  headers={"Authorization": f"Bearer {TEST_KEY}"})
            assert response.status_code == 200
    scrapes = [httpx.get(f"{two_workers.url}/metrics", headers={"Connection": "close"}).text for _ in range(6)]
    assert {chat_count(text) - before for text in scrapes} == {20}


@needs_redis
def test_a_worker_that_dies_is_replaced(two_workers, sim):
    victim = pid_answering(two_workers)
    os.kill(victim, signal.SIGKILL)
    seen: set[int] = set()

    def two_live_workers() -> bool:
        try:
            seen.add(pid_answering(two_workers))
        except httpx.HTTPError:
            pass
        return len(seen - {victim}) == 2

    assert sim.wait_for(two_live_workers, timeout=30)


@needs_redis
def test_sigterm_refuses_new_connections_while_an_in_flight_stream_finishes(simulator, sim):
    from tests.e2e.test_graceful_shutdown import TEXT, StreamInBackground, refuses_connections

    workdir = new_workdir()
    env = base_env(simulator.url, workdir)
    env.update(WEB_CONCURRENCY="2", REDIS_URL=os.environ["REDIS_URL"], SHUTDOWN_GRACE_SECONDS="15")
    migrate(env)
    launcher = LauncherProcess(env, workdir).start()
    try:
        sim.script({"text": TEXT, "chunk_delay_ms": 50})  # about 5 s of streaming
        stream = StreamInBackground(launcher)
        assert stream.started.wait(10) and stream.error is None
        launcher.proc.send_signal(signal.SIGTERM)
        assert sim.wait_for(lambda: refuses_connections(launcher.port), timeout=5.0), "new connections stop"
        assert not stream.done, "refused while the stream was still in flight, not once everything had ended"
        stream.thread.join(20)
        assert stream.done and stream.text.rstrip().endswith(b"data: [DONE]"), "the stream finished, not cut"
        assert launcher.proc.wait(timeout=30) == 0
    finally:
        launcher.stop()


def test_more_than_one_worker_without_redis_is_refused_with_the_reason():
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "relay_site.serve", "--workers", "2", "-p", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "WEB_CONCURRENCY=2 needs REDIS_URL" in result.stderr
