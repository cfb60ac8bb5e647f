"""Usage records are written in batches with their daily roll-ups; budgets read those counts."""
import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest

from core.call_context import CallContext
from quotas.models import UsageDaily, UsageRecord
from quotas.usage import UsageRecorder, row_of, tokens_used_since, write_batch

pytestmark = pytest.mark.django_db(transaction=True)


def call(key="ab" * 16, ip="192.0.2.1", status=200, prompt=10, completion=5, **extra):
    context = CallContext(endpoint="chat.completions", client_ip=ip, key_fingerprint=key, model="gpt-4o-mini", status=status)
    context.note_usage(prompt, completion, extra.pop("credits", None))
    for name, value in extra.items():
        setattr(context, name, value)
    return context


def test_a_batch_writes_every_record_and_sums_them_per_day_and_group():
    write_batch([row_of(call()), row_of(call(credits=7, streamed=True)), row_of(call(status=429, prompt=0, completion=0))])
    assert UsageRecord.objects.count() == 3
    ok = UsageDaily.objects.get(status=200)
    assert (ok.requests, ok.prompt_tokens, ok.completion_tokens, ok.credits, ok.streamed) == (2, 20, 10, 7, 1)
    assert UsageDaily.objects.get(status=429).requests == 1


def test_later_batches_add_to_the_same_rollup():
    write_batch([row_of(call())])
    write_batch([row_of(call(cut_short=True)), row_of(call())])
    rollup = UsageDaily.objects.get()
    assert (rollup.requests, rollup.prompt_tokens, rollup.cut_short) == (3, 30, 1)


def test_records_land_on_their_utc_day():
    yesterday = row_of(call())
    yesterday["time"] = datetime.now(timezone.utc) - timedelta(days=1)
    write_batch([yesterday, row_of(call())])
    assert sorted(UsageDaily.objects.values_list("day", flat=True)) == [
        yesterday["time"].date(), datetime.now(timezone.utc).date()]


def test_budgets_count_written_and_still_buffered_usage():
    write_batch([row_of(call(prompt=100, completion=50))])
    recorder = UsageRecorder()
    from quotas import usage

    original, usage.recorder = usage.recorder, recorder
    try:
        recorder._rows.append(row_of(call(prompt=1, completion=2)))
        today = datetime.now(timezone.utc).date()
        assert asyncio.run(tokens_used_since(f"key:{'ab' * 16}", today)) == 153
        assert asyncio.run(tokens_used_since("ip:192.0.2.1", today)) == 153
        assert asyncio.run(tokens_used_since("ip:192.0.2.2", date(2000, 1, 1))) == 0
    finally:
        usage.recorder = original


def test_a_recorder_flushes_what_it_buffered():
    recorder = UsageRecorder()

    async def record_two():
        recorder.add(call())
        recorder.add(call())
        return await recorder.flush()

    assert asyncio.run(record_two()) == 2
    assert UsageRecord.objects.count() == 2 and recorder.flush_sync() == 0
