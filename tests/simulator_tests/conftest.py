"""Fixtures for the simulator's own tests: one server per session, reset before every test."""
from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from tests.onemin_simulator import Simulator


@pytest.fixture(scope="session")
def running_sim() -> Iterator[Simulator]:
    sim = Simulator().start()
    yield sim
    sim.stop()


@pytest.fixture()
def sim(running_sim: Simulator) -> Iterator[Simulator]:
    running_sim.reset()
    yield running_sim
    running_sim.reset()


@pytest.fixture()
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, timeout=10.0) as http:
        yield http
