"""A Responses call continuing a stored one reads that history from the database once, in-process."""
import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from api.models import StoredResponse
from api.services import response_store
from core.identity import fingerprint
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted_reads(in_process, monkeypatch):
    """The relay's views in this process, every read of a stored history counted."""
    reads: list[tuple[str, str]] = []
    read = response_store.history

    async def counted(previous_response_id: str, key_fingerprint: str) -> response_store.History:
        reads.append((previous_response_id, key_fingerprint))
        return await read(previous_response_id, key_fingerprint)

    monkeypatch.setattr(response_store, "history", counted)
    return in_process, reads


def stored_turn(response_id: str) -> None:
    StoredResponse.objects.create(
        id=response_id, key_fingerprint=fingerprint(TEST_KEY), root_id=response_id,
        created_at=timezone.now() - dt.timedelta(minutes=1), model="gpt-4o-mini", status="completed",
        input_items=[{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "My name is Ann."}]}],
        response={"id": response_id, "output": [{"type": "message", "role": "assistant",
                                                 "content": [{"type": "output_text", "text": "Hello Ann."}]}]},
    )


def post(client: Client, body: dict):
    return client.post("/v1/responses", body, content_type="application/json")


def test_a_continued_response_reads_its_history_once(counted_reads):
    client, reads = counted_reads
    stored_turn("resp_earlier")
    answer = post(client, {"model": "gpt-4o-mini", "input": "What is my name?", "previous_response_id": "resp_earlier"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["previous_response_id"] == "resp_earlier"
    assert reads == [("resp_earlier", fingerprint(TEST_KEY))]  # by admission, for the reservation; reused


def test_an_unknown_previous_response_is_still_a_404(counted_reads):
    client, _ = counted_reads
    answer = post(client, {"model": "gpt-4o-mini", "input": "hi", "previous_response_id": "resp_missing"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "previous_response_not_found"
    assert answer.json()["error"]["param"] == "previous_response_id"
