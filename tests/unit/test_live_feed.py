"""The live view's batching and aggregation: what a process sends, and what the page is shown."""
from __future__ import annotations

import asyncio
import logging

from core.call_context import CallContext
from live.feed import MAX_BUFFERED, RECENT_PER_BATCH, STREAMS_HEARTBEAT_SECONDS, Feed
from live.publisher import GROUP, Publisher
from live.window import RATE_SECONDS, STREAMS_TTL_SECONDS, LiveWindow


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def call(endpoint="chat.completions", status=200, prompt=3, completion=4, key="f" * 32, ip="203.0.113.7", model="gpt-4o-mini"):
    c = CallContext(endpoint=endpoint, client_ip=ip, key_fingerprint=key, model=model, status=status)
    c.note_usage(prompt, completion)
    return c


def test_an_idle_feed_sends_nothing():
    assert Feed().take_batch() is None


def test_a_batch_counts_requests_errors_429s_and_tokens_by_endpoint():
    feed = Feed(clock=Clock())
    for c in [call(), call(status=502), call(status=429, prompt=0, completion=0), call("embeddings", prompt=10, completion=0)]:
        feed.add(c)
    batch = feed.take_batch()
    assert batch["counts"] == {"chat.completions": [3, 1, 1, 14], "embeddings": [1, 0, 0, 10]}
    assert [row[2] for row in batch["recent"]] == [200, 502, 429, 200]
    assert feed.take_batch() is None  # taken: nothing changed since


def test_a_batch_carries_a_fingerprint_never_a_key_and_bounds_its_rows():
    feed = Feed(clock=Clock())
    for n in range(RECENT_PER_BATCH + 20):
        feed.add(call(ip=f"198.51.100.{n % 250}"))
    batch = feed.take_batch()
    assert batch["counts"]["chat.completions"][0] == RECENT_PER_BATCH + 20
    assert len(batch["recent"]) == RECENT_PER_BATCH
    assert batch["recent"][-1][7] == f"198.51.100.{(RECENT_PER_BATCH + 19) % 250}"  # the latest are kept
    assert batch["recent"][0][6] == "f" * 32


def test_views_without_a_name_are_grouped_so_paths_cannot_grow_the_view():
    feed = Feed(clock=Clock())
    feed.add(call(endpoint="/v1/some/path"))
    assert list(feed.take_batch()["counts"]) == ["other"]


def test_a_full_buffer_still_counts_what_it_could_not_keep():
    feed = Feed(clock=Clock())
    feed.calls = [None] * MAX_BUFFERED  # a publisher that never ran
    feed.add(call())
    feed.calls = []
    assert feed.take_batch()["counts"] == {"chat.completions": [1, 0, 0, 0]}


def test_open_streams_are_sent_when_they_change_and_repeated_while_open():
    clock = Clock()
    feed = Feed(clock=clock)
    feed.stream_opened("chat.completions")
    assert feed.take_batch()["streams"] == {"chat.completions": 1}
    assert feed.take_batch() is None
    clock.now += STREAMS_HEARTBEAT_SECONDS
    assert feed.take_batch()["streams"] == {"chat.completions": 1}  # the heartbeat
    feed.stream_closed("chat.completions")
    assert feed.take_batch()["streams"] == {}
    clock.now += 2 * STREAMS_HEARTBEAT_SECONDS
    assert feed.take_batch() is None  # none open: no heartbeat


def batch(process="p1", counts=None, recent=(), streams=None):
    return {"process": process, "sent": 0, "counts": counts or {}, "recent": list(recent), "streams": streams or {}}


def row(t, status=200, endpoint="chat.completions", key="k" * 32):
    return [t, endpoint, status, 7, 12.5, "gpt-4o-mini", key, "203.0.113.7"]


def test_the_window_sums_every_process_over_the_last_minute():
    clock = Clock()
    window = LiveWindow(clock)
    window.add(batch("p1", {"chat.completions": [4, 1, 0, 40]}, streams={"chat.completions": 2}))
    clock.now += 1
    window.add(batch("p2", {"chat.completions": [6, 0, 2, 60], "embeddings": [1, 0, 0, 5]}, streams={"responses": 1}))
    snap = window.snapshot()
    assert snap["totals"] == {"requests": 11, "errors": 1, "limited": 2, "tokens": 105, "tokens_per_minute": 105,
                              "requests_per_second": round(11 / RATE_SECONDS, 2), "streams_open": 3}
    by = {e["endpoint"]: e for e in snap["endpoints"]}
    assert by["chat.completions"]["requests"] == 10 and by["chat.completions"]["streams_open"] == 2
    assert by["responses"] == {"endpoint": "responses", "requests": 0, "errors": 0, "limited": 0, "tokens": 0,
                               "requests_per_second": 0.0, "streams_open": 1}
    assert snap["processes"] == 2


def test_rates_decay_and_old_counts_leave_the_window():
    clock = Clock()
    window = LiveWindow(clock)
    window.add(batch(counts={"chat.completions": [10, 0, 0, 100]}))
    clock.now += RATE_SECONDS + 1
    snap = window.snapshot()
    assert snap["totals"]["requests_per_second"] == 0 and snap["totals"]["requests"] == 10
    clock.now += 60
    assert window.snapshot()["totals"]["requests"] == 0


def test_a_silent_process_stops_counting_its_streams():
    clock = Clock()
    window = LiveWindow(clock)
    window.add(batch("p1", streams={"chat.completions": 3}))
    assert window.snapshot()["totals"]["streams_open"] == 3
    clock.now += STREAMS_TTL_SECONDS + 1
    assert window.snapshot()["totals"]["streams_open"] == 0


def test_the_latest_requests_come_newest_first_with_key_names():
    window = LiveWindow(Clock(), recent_rows=3)
    window.add(batch(recent=[row(1.0), row(2.0, 502), row(3.0, 429), row(4.0, key="")]))
    recent = window.snapshot(key_label=lambda fp: "team-a")["recent"]
    assert [r["time"] for r in recent] == [4.0, 3.0, 2.0]
    assert recent[0]["key"] == "" and recent[1]["key"] == "team-a"
    assert [r["error"] for r in recent] == [False, False, True]


class FakeLayer:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.fail = fail

    async def group_send(self, group, message):
        if self.fail:
            raise self.fail
        self.sent.append((group, message))


def test_the_publisher_sends_only_when_something_changed(settings):
    settings.LIVE_PUBLISH_SECONDS = 0.25
    feed, layer = Feed(clock=Clock()), FakeLayer()
    publisher = Publisher(feed, layer)
    assert asyncio.run(publisher.publish_once()) is False
    feed.add(call())
    assert asyncio.run(publisher.publish_once()) is True
    [(group, message)] = layer.sent
    assert group == GROUP and message["type"] == "live.batch" and message["batch"]["counts"]["chat.completions"][0] == 1


def test_a_layer_that_is_down_costs_a_batch_and_one_log_line(settings, caplog):
    settings.LIVE_PUBLISH_SECONDS = 0.25
    clock = Clock()
    feed = Feed(clock=clock)
    publisher = Publisher(feed, FakeLayer(fail=ConnectionError("redis is down")), clock=clock)
    with caplog.at_level(logging.WARNING, logger="live.publisher"):
        for _ in range(5):
            feed.add(call())
            assert asyncio.run(publisher.publish_once()) is False
            clock.now += 1
    assert len([r for r in caplog.records if "could not publish" in r.message]) == 1
    assert feed.calls == []  # dropped, not piling up


def test_a_published_batch_reaches_a_watching_hub_through_the_channel_layer(settings):
    from channels.layers import InMemoryChannelLayer

    from live.hub import Hub

    settings.LIVE_PUBLISH_SECONDS = 0.25

    async def scenario():
        layer = InMemoryChannelLayer()
        hub, feed = Hub(layer), Feed()
        hub._labels_at = hub.clock()  # key names are not this test's subject (no database here)
        changed = hub.watch()
        for _ in range(200):  # the hub joins the group on its own task
            if layer.groups.get(GROUP):
                break
            await asyncio.sleep(0.005)
        feed.add(call(status=503))
        assert await Publisher(feed, layer).publish_once()
        await asyncio.wait_for(changed.wait(), timeout=2)
        snapshot = await hub.snapshot()
        hub.unwatch(changed)
        hub.task.cancel()
        return snapshot

    snapshot = asyncio.run(scenario())
    assert snapshot["totals"]["requests"] == 1 and snapshot["totals"]["errors"] == 1
    assert snapshot["recent"][0]["status"] == 503 and snapshot["following"] is True
