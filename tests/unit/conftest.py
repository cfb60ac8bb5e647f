"""Fixtures for unit tests that drive the relay's views in this process (no relay process)."""
import pytest
from django.test import Client

from api.upstream import onemin_client
from tests.conftest import TEST_KEY


@pytest.fixture
def in_process(sim, settings):
    """Django's test client on the relay's views, in this process, with 1min.ai the simulator.

    Each request runs on its own event loop, which ends with it: the upstream pool is httpx's,
    keeping no connection, so none is left open on a closed loop. Tests using it need the
    database (`pytest.mark.django_db`)."""
    settings.ONE_MIN_CHAT_API_URL = f"{sim.url}/api/chat-with-ai"
    settings.ONE_MIN_API_URL = f"{sim.url}/api/features"
    settings.ONE_MIN_MODELS_API_URL = f"{sim.url}/models"
    settings.ONE_MIN_CONVERSATION_API_URL = f"{sim.url}/api/conversations"
    settings.LIVE_VIEW = settings.USAGE_ENABLED = False
    settings.UPSTREAM_TRANSPORT, settings.UPSTREAM_KEEPALIVE_CONNECTIONS = "httpx", 0
    yield Client(headers={"authorization": f"Bearer {TEST_KEY}"})
    onemin_client._client = onemin_client._transport = None  # bound to a loop that has ended
