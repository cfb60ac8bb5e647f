"""A usage record the database refuses is dropped alone: the rest of its batch is written."""
from datetime import datetime, timezone

import pytest

from quotas.models import UsageRecord
from quotas.usage import write_isolating


def row(model: str, status: object = 200) -> dict:
    return {"time": datetime.now(tz=timezone.utc), "client_ip": "127.0.0.1", "key_fingerprint": "fp-isolation",
            "endpoint": "chat.completions", "model": model, "prompt_tokens": 1, "completion_tokens": 1,
            "credits": 0, "status": status, "latency_ms": 1, "streamed": False, "cut_short": False,
            "unmetered": False}


@pytest.mark.django_db(transaction=True)
def test_one_refused_record_does_not_hold_back_its_batch():
    batch = [row("first"), row("refused", status="not a number"), row("third")]
    assert write_isolating(batch) == []
    assert sorted(UsageRecord.objects.filter(key_fingerprint="fp-isolation").values_list("model", flat=True)) == [
        "first", "third"]
