"""Dependency outages: with Redis or PostgreSQL gone — from the start or in the middle of a load —
the relay keeps serving chat. Outages are made with a private TCP proxy in front of the suite's
servers (cut and restored by the test) or a closed port; the real servers are never touched."""
from __future__ import annotations

import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from core.identity import fingerprint
from tests.conftest import TEST_KEY
from tests.relay_process import RelayProcess, base_env, free_port
from tests.socket_pipe import pipe

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


class CuttableProxy:
    """Forwards a loopback port to a server; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.up = threading.Event()
        self.up.set()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stop = False
        self._open_listener()
        threading.Thread(target=self._accept, daemon=True).start()

    def _open_listener(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener

    def _accept(self) -> None:
        while not self._stop:
            if not self.up.is_set():
                self.up.wait(0.1)
                continue
            try:
                client, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    def cut(self) -> None:
        self.up.clear()
        self._listener.close()  # new connections are refused
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass

    def restore(self) -> None:
        self._open_listener()
        self.up.set()

    def close(self) -> None:
        self._stop = True
        self.cut()


def via(url: str, proxy: CuttableProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def target_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def chat(relay, stream: bool = False, key: str = TEST_KEY) -> int:
    body = {"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(f"{relay.url}/v1/chat/completions", json=body, timeout=30,
                          headers={"Authorization": f"Bearer {key}"})
    if stream:
        assert response.text.rstrip().endswith("data: [DONE]"), response.text[-300:]
    return response.status_code


def load(relay, count: int, during=None, key: str = TEST_KEY) -> list[int]:
    """`count` chat calls (half streamed) from 4 threads; `during()` runs when a third are done."""
    statuses: list[int] = []
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(chat, relay, i % 2 == 1, key) for i in range(count)]
        for index, future in enumerate(futures):
            statuses.append(future.result())
            if during is not None and index == count // 3:
                during()
    return statuses


def readiness(relay) -> httpx.Response | None:
    response = httpx.get(f"{relay.url}/readyz", timeout=10)
    return None if response.status_code == 404 else response


def test_redis_going_down_during_load_does_not_stop_chat(relay_factory, sim):
    host, port = target_of(REDIS)
    if not reachable(host, port):
        pytest.skip("no Redis on this machine to put a proxy in front of")
    proxy = CuttableProxy(host, port)
    try:
        relay = relay_factory(REDIS_URL=via(REDIS, proxy), MODEL_CACHE_MEMORY_SECONDS="0")
        assert chat(relay) == 200
        statuses = load(relay, 30, during=proxy.cut)
        assert statuses == [200] * 30
        assert sim.wait_for(lambda: "shared cache unavailable" in relay.logs()), "the outage was felt"
        ready = readiness(relay)
        if ready is not None:  # /readyz arrives with the observability work
            assert ready.status_code == 503 and ("redis" in ready.text.lower() or "cache" in ready.text.lower())
        proxy.restore()
        assert load(relay, 6) == [200] * 6
    finally:
        proxy.close()


def test_a_relay_whose_redis_is_down_from_the_start_serves_chat(relay_factory, sim):
    relay = relay_factory(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert load(relay, 12) == [200] * 12
    assert httpx.get(f"{relay.url}/v1/models", headers=AUTH).status_code == 200


def test_a_relay_whose_database_is_down_serves_chat(simulator, sim, tmp_path):
    """No migration is possible against a closed port, so this relay is started by hand."""
    env = base_env(simulator.url, tmp_path)
    env["DATABASE_URL"] = f"postgresql://relay@127.0.0.1:{free_port()}/relay"
    relay = RelayProcess(env, tmp_path).start()
    try:
        assert load(relay, 12) == [200] * 12
        assert httpx.get(f"{relay.url}/v1/models", headers=AUTH).status_code == 200
        ready = readiness(relay)
        if ready is not None:
            assert ready.status_code == 503 and "database" in ready.text.lower()
    finally:
        relay.stop()


@pytest.mark.skipif(not os.environ.get("RELAY_TEST_E2E_DATABASE_URL"), reason="needs the shared PostgreSQL run")
def test_postgresql_going_down_during_load_loses_no_usage(relay_factory, sim):
    """Chat goes on through the outage; usage is buffered and every record is written on return."""
    import psycopg

    database = os.environ["RELAY_TEST_E2E_DATABASE_URL"]
    parts = urlsplit(database)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    key = f"sk-outage-{uuid.uuid4().hex}"  # its own key, so its records are told from other tests'

    def stored_records() -> int:
        with psycopg.connect(database, connect_timeout=5) as db:
            return db.execute("SELECT count(*) FROM quotas_usagerecord WHERE key_fingerprint = %s",
                              (fingerprint(key),)).fetchone()[0]

    def outage() -> None:
        proxy.cut()
        # Made to last until a flush has failed: the records are then only in the relay's buffer.
        assert sim.wait_for(lambda: "usage records; will retry" in relay.logs(), timeout=15, interval=0.1)
        ready = readiness(relay)
        assert ready is not None and ready.status_code == 503 and "database" in ready.text.lower()

    try:
        relay = relay_factory(DATABASE_URL=via(database, proxy), DATABASE_CONN_MAX_AGE="0",
                              USAGE_FLUSH_SECONDS="0.2")
        during_outage = load(relay, 30, during=outage, key=key)
        assert during_outage == [200] * 30
        assert stored_records() < 30, "some records waited in the buffer"
        proxy.restore()
        assert load(relay, 6, key=key) == [200] * 6
        assert sim.wait_for(lambda: stored_records() == 36, timeout=20, interval=0.2), stored_records()
        assert readiness(relay).status_code == 200
    finally:
        proxy.close()
