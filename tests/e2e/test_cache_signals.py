"""Changes made by a third process reach both relay processes' in-memory caches at once (core/broadcast.py).

Every cache lifetime and fallback poll is set to ten minutes, so only the signal can make a
change show within the few seconds these tests wait.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.relay_admin import managed_env
from tests.relay_admin import manage as manage_with_stdin
from tests.relay_operator import fresh_ip, manage
from tests.relay_process import RelayProcess, base_env, migrate, new_workdir

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="two processes need Redis: shared-backend run")
LONG = "600"
SIGNAL_DEADLINE = 5.0  # far below every lifetime above


@pytest.fixture(scope="module")
def relays(simulator):
    workdir = new_workdir()
    env = base_env(simulator.url, workdir)
    env.update(managed_env(RELAY_AUTH_MODE="both"))
    env.update(
        REDIS_URL=os.environ["REDIS_URL"], CACHE_KEY_PREFIX=f"relay-signals-{uuid.uuid4().hex[:8]}",
        TRUSTED_PROXIES="127.0.0.1/32,::1/128", QUOTA_POLICY_REFRESH_SECONDS=LONG,
        MODEL_CACHE_MEMORY_SECONDS=LONG, RELAY_KEY_CACHE_SECONDS=LONG, RELAY_KEY_SYNC_SECONDS=LONG,
    )
    migrate(env)
    started = [RelayProcess(env, workdir).start(), RelayProcess(env, workdir).start()]
    yield started
    for relay in started:
        relay.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def chat(relay, key: str = TEST_KEY, ip: str = "", model: str = "gpt-4o-mini") -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", **({"X-Forwarded-For": ip} if ip else {})}
    return httpx.post(f"{relay.url}/v1/chat/completions", headers=headers, timeout=30,
                      json={"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]})


def each_answers(relays, status: int, **call) -> None:
    """Poll each relay until the call answers `status`, within SIGNAL_DEADLINE of the change."""
    deadline = time.monotonic() + SIGNAL_DEADLINE
    for relay in relays:
        while (response := chat(relay, **call)).status_code != status:
            assert time.monotonic() < deadline, f"{relay.url} still answers {response.status_code}: {response.text}"
            time.sleep(0.05)  # polling with a deadline


def shell(relay, code: str) -> None:
    manage(relay, "shell", "-c", code)


def add_upstream_key(relay, label: str, secret: str) -> None:
    result = manage_with_stdin(relay, "add_upstream_key", "--label", label, stdin=secret + "\n")
    assert result.returncode == 0 or "already in the pool" in result.stderr, result.stderr


def test_a_block_made_by_a_command_is_honoured_by_both_processes_at_once(relays, sim):
    ip = fresh_ip()
    each_answers(relays, 200, ip=ip)  # both have read (and cached) the policy table
    manage(relays[0], "quota", "block", "ip", ip, "--reason", "signals")
    each_answers(relays, 403, ip=ip)
    manage(relays[0], "quota", "unblock", "ip", ip)
    each_answers(relays, 200, ip=ip)


def test_a_policy_assigned_by_a_command_applies_in_both_processes_at_once(relays, sim):
    ip = fresh_ip()
    each_answers(relays, 200, ip=ip, model="gpt-4o")
    manage(relays[1], "quota", "policy", f"mini-{uuid.uuid4().hex[:8]}", "--models", "gpt-4o-mini",
           "--assign", f"ip:{ip}")
    each_answers(relays, 403, ip=ip, model="gpt-4o")


def test_an_alias_saved_through_the_orm_resolves_in_both_processes_at_once(relays, sim):
    alias = f"signal-{uuid.uuid4().hex[:8]}"
    each_answers(relays, 404, model=alias)  # both have cached an alias table without it
    shell(relays[0], f"from api.models import ModelAlias; ModelAlias.objects.create(alias={alias!r}, target='gpt-4o-mini')")
    each_answers(relays, 200, model=alias)


def test_a_relay_key_revoked_through_the_orm_is_refused_by_both_processes_at_once(relays, sim):
    add_upstream_key(relays[0], f"pool-{uuid.uuid4().hex[:6]}", TEST_KEY)
    name = f"signals-{uuid.uuid4().hex[:8]}"
    key = manage(relays[0], "create_relay_key", "--name", name).stdout.strip().splitlines()[0]
    each_answers(relays, 200, key=key)
    shell(relays[1], f"from keys.models import RelayKey; k = RelayKey.objects.get(name={name!r}); "
                     "k.enabled = False; k.save()")
    each_answers(relays, 401, key=key)


def test_refresh_models_reaches_both_processes_at_once(relays, sim):
    each_answers(relays, 200, model="gpt-4o")  # both hold the catalogue in memory
    sim.set_model_status("gpt-4o", "DISABLED")
    manage(relays[0], "refresh_models")
    each_answers(relays, 404, model="gpt-4o")
    sim.set_model_status("gpt-4o", "ACTIVE")
    manage(relays[0], "refresh_models")
    each_answers(relays, 200, model="gpt-4o")
