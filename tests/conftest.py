"""Shared fixtures: the 1min.ai simulator, relay processes under daphne, and SDK clients."""
from __future__ import annotations

import signal

import openai
import pytest

from tests.onemin_simulator import Simulator
from tests.relay_process import RelayProcess, base_env, migrate, new_workdir

TEST_KEY = "sk-test-1min-key-0123456789"


def pytest_configure(config):
    # A shell starts background jobs with SIGINT ignored, and Python keeps it so: then neither Ctrl-C
    # nor tests/run_suites.py stopping a run could make pytest stop its relays and drop its database.
    signal.signal(signal.SIGINT, signal.default_int_handler)


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
    """Start extra relay processes with their own settings: `relay_factory(MODEL_CACHE_…="0")`;
    `backlog=` listens with that many pending connections instead of daphne's default."""
    workdir = new_workdir()
    started: list[RelayProcess] = []
    migrated: set[str] = set()

    def start(*, backlog: int | None = None, **overrides: str) -> RelayProcess:
        env = base_env(simulator.url, workdir)
        env.update(overrides)
        if env["DATABASE_URL"] not in migrated:
            migrate(env)
            migrated.add(env["DATABASE_URL"])
        process = RelayProcess(env, workdir, backlog).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def relay(relay_factory):
    """The suite's main relay process."""
    return relay_factory()


@pytest.fixture
def client(relay, sim) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the relay, with retries off so errors show as they are."""
    with openai.OpenAI(base_url=f"{relay.url}/v1", api_key=TEST_KEY, max_retries=0, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def keyed_relay(relay_factory):
    """A relay in `both` mode (keys/): `rk-` relay keys served from its upstream key pool, any
    other key passed through. Tests set the pool they need through `keyed_admin`."""
    from tests.relay_admin import managed_env

    return relay_factory(**managed_env(RELAY_AUTH_MODE="both"))


@pytest.fixture(scope="session")
def keyed_admin(keyed_relay):
    """A superuser logged in to keyed_relay's admin (tests.relay_admin.Admin)."""
    from tests.relay_admin import Admin

    return Admin(keyed_relay)
