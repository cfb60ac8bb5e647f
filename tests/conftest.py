"""Shared fixtures: the 1min.ai simulator, relay processes under daphne, and SDK clients."""
from __future__ import annotations

import os
import shutil

import openai
import pytest

from tests.onemin_simulator import Simulator
from tests.relay_process import RelayProcess, base_env, migrate, new_workdir

TEST_KEY = "sk-test-1min-key-0123456789"


@pytest.fixture(scope="session")
def simulator():
    sim = Simulator()
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(simulator):
    """The simulator, reset to its defaults for each test."""
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture(scope="session")
def relay_factory(simulator):
    """Start extra relay processes with their own settings: `relay_factory(MODEL_CACHE_…="0")`."""
    workdir = new_workdir()
    started: list[RelayProcess] = []
    migrated: set[str] = set()

    def start(**overrides: str) -> RelayProcess:
        env = base_env(simulator.url, workdir)
        env.update(overrides)
        if env["DATABASE_URL"] not in migrated:
            migrate(env)
            migrated.add(env["DATABASE_URL"])
        process = RelayProcess(env, workdir).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    if not os.environ.get("KEEP_RELAY_LOGS"):
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def relay(relay_factory):
    """The suite's main relay process."""
    return relay_factory()


@pytest.fixture
def client(relay, sim) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the relay, with retries off so errors show as they are."""
    with openai.OpenAI(base_url=f"{relay.url}/v1", api_key=TEST_KEY, max_retries=0, timeout=30) as c:
        yield c
