"""Stored responses in the database: retention, the prune command, and chains with missing links."""
import datetime as dt
import io

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.utils import timezone

from core.errors import NotFound
from api.models import StoredResponse
from api.services import response_store

pytestmark = pytest.mark.django_db


def stored(response_id: str, age_days: float, previous: str | None = None, root: str | None = None,
           key: str = "fp-1") -> StoredResponse:
    return StoredResponse.objects.create(
        id=response_id, key_fingerprint=key, previous_response_id=previous, root_id=root or response_id,
        created_at=timezone.now() - dt.timedelta(days=age_days), model="gpt-4o-mini", status="completed",
        input_items=[{"id": f"msg_in_{response_id}", "type": "message", "role": "user", "status": "completed",
                      "content": [{"type": "input_text", "text": f"asked {response_id}"}]}],
        response={"id": response_id, "output": [{"id": f"msg_out_{response_id}", "type": "message", "role": "assistant",
                                                 "status": "completed", "content": [{"type": "output_text", "text": f"answered {response_id}"}]}]},
    )


def test_prune_deletes_only_responses_past_retention_and_says_how_many(settings):
    settings.RESPONSES_RETENTION_DAYS = 30
    stored("resp_old", 31)
    stored("resp_new", 29)
    out = io.StringIO()
    call_command("prune_responses", stdout=out)
    assert out.getvalue().strip() == "Done! Pruned 1 stored responses older than 30 days."
    assert list(StoredResponse.objects.values_list("id", flat=True)) == ["resp_new"]


def test_prune_takes_another_retention_on_the_command_line():
    stored("resp_a", 3)
    stored("resp_b", 1)
    out = io.StringIO()
    call_command("prune_responses", "--days", "2", stdout=out)
    assert "Pruned 1 stored responses older than 2 days" in out.getvalue()


def test_responses_past_retention_are_not_served_even_before_pruning(settings):
    settings.RESPONSES_RETENTION_DAYS = 7
    stored("resp_old", 8)
    with pytest.raises(NotFound):
        async_to_sync(response_store.get)("resp_old", "fp-1")


def test_a_chain_is_rebuilt_in_order_and_only_for_its_own_key():
    stored("resp_1", 0.3)
    stored("resp_2", 0.2, previous="resp_1", root="resp_1")
    stored("resp_2b", 0.2, previous="resp_1", root="resp_1")  # a branch that is not in the chain
    stored("resp_3", 0.1, previous="resp_2", root="resp_1")
    history = async_to_sync(response_store.history)("resp_3", "fp-1")
    texts = [item["content"][0]["text"] for item in history.items]
    assert texts == ["asked resp_1", "answered resp_1", "asked resp_2", "answered resp_2", "asked resp_3", "answered resp_3"]
    assert history.root_id == "resp_1"
    with pytest.raises(NotFound) as caught:
        async_to_sync(response_store.history)("resp_3", "fp-other")
    assert caught.value.param == "previous_response_id"


def test_a_chain_with_a_deleted_link_continues_from_what_is_kept():
    stored("resp_1", 0.3)
    stored("resp_2", 0.2, previous="resp_1", root="resp_1")
    stored("resp_3", 0.1, previous="resp_2", root="resp_1")
    async_to_sync(response_store.delete)("resp_2", "fp-1")
    history = async_to_sync(response_store.history)("resp_3", "fp-1")
    assert [item["content"][0]["text"] for item in history.items] == ["asked resp_3", "answered resp_3"]


def test_a_history_read_before_is_reused_only_for_the_same_response_and_key():
    stored("resp_1", 0.2)
    stored("resp_2", 0.1, previous="resp_1", root="resp_1")
    kept = async_to_sync(response_store.history)("resp_2", "fp-1")
    assert async_to_sync(response_store.history_once)(kept, "resp_2", "fp-1") is kept
    again = async_to_sync(response_store.history_once)(kept, "resp_1", "fp-1")  # another response: read
    assert again is not kept and len(again.items) == 2
    with pytest.raises(NotFound):  # another key's read is not this key's to use
        async_to_sync(response_store.history_once)(kept, "resp_2", "fp-other")
    assert len(async_to_sync(response_store.history_once)(None, "resp_2", "fp-1").items) == 4


def test_a_reservation_reads_no_history_it_cannot_use():
    stored("resp_1", 0.1)
    read = async_to_sync(response_store.history_for_reservation)
    assert read({"previous_response_id": "resp_1"}, "fp-1").response_id == "resp_1"
    assert read({"previous_response_id": "resp_1"}, "fp-other") is None  # the service answers the 404
    assert read({"previous_response_id": "resp_1"}, None) is None
    assert read({"input": "hi"}, "fp-1") is None
    assert read(["not", "a", "dict"], "fp-1") is None
