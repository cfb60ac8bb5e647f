"""The counters' rules, identical in process memory and in Redis (the Redis cases run in the shared run)."""
import asyncio
import os
import time
import uuid

import pytest

from quotas.counters import WINDOW_MS, Budget, MemoryCounters, Subject

BACKENDS = ["memory"] + (["redis"] if os.environ.get("REDIS_URL") else [])
T0 = int(time.time() * 1000)  # Redis keys expire in real time, so test clocks start near it


@pytest.fixture(params=BACKENDS)
def counters(request, settings):
    if request.param == "memory":
        return MemoryCounters()
    from quotas.counters_redis import RedisCounters

    settings.REDIS_URL = os.environ["REDIS_URL"]
    return RedisCounters()


def name() -> str:
    return f"key:{uuid.uuid4().hex}"


def run(coroutine):
    return asyncio.run(coroutine)


def admit(counters, subjects, cost=0, at=T0, request_id=None):
    return run(counters.admit(request_id or uuid.uuid4().hex, subjects, cost, at))


def test_it_admits_exactly_the_request_limit_and_says_when_a_slot_frees(counters):
    subject = Subject(name(), 3, 0)
    outcomes = [admit(counters, [subject], at=T0 + n * 1000) for n in range(4)]
    assert [o.admitted for o in outcomes] == [True, True, True, False]
    assert [o.states[0].requests for o in outcomes[:3]] == [1, 2, 3]
    denial = outcomes[3].denial
    assert (denial.kind, denial.used, denial.limit) == ("requests", 3, 3)
    assert denial.retry_ms == WINDOW_MS - 3000  # the first request leaves the window then


def test_a_request_fits_again_exactly_when_the_oldest_leaves_the_window(counters):
    subject = Subject(name(), 1, 0)
    assert admit(counters, [subject], at=T0).admitted
    assert not admit(counters, [subject], at=T0 + WINDOW_MS - 1).admitted
    again = admit(counters, [subject], at=T0 + WINDOW_MS)
    assert again.admitted and again.states[0].requests == 1


def test_reset_is_the_time_until_the_oldest_counted_request_leaves(counters):
    subject = Subject(name(), 10, 0)
    admit(counters, [subject], at=T0)
    assert admit(counters, [subject], at=T0 + 15_000).states[0].reset_ms == WINDOW_MS - 15_000


def test_tokens_are_reserved_then_settled_to_the_real_count(counters):
    subject = Subject(name(), 0, 1000)
    first = uuid.uuid4().hex
    assert admit(counters, [subject], 800, request_id=first).states[0].tokens == 800
    assert not admit(counters, [subject], 300, at=T0 + 1).admitted
    run(counters.settle(first, [subject], 800, 150))
    fits = admit(counters, [subject], 300, at=T0 + 2)
    assert fits.admitted and fits.states[0].tokens == 450


def test_a_token_refusal_waits_for_enough_old_tokens_to_leave(counters):
    subject = Subject(name(), 0, 1000)
    admit(counters, [subject], 300, at=T0)
    admit(counters, [subject], 300, at=T0 + 10_000)
    admit(counters, [subject], 300, at=T0 + 20_000)
    refused = admit(counters, [subject], 600, at=T0 + 30_000)
    assert (refused.denial.kind, refused.denial.used, refused.denial.limit) == ("tokens", 900, 1000)
    assert refused.denial.retry_ms == WINDOW_MS + 10_000 - 30_000  # two old ones must go: the second's expiry


def test_a_refusal_by_one_subject_counts_against_none(counters):
    ip, key = Subject(name(), 5, 0), Subject(name(), 1, 0)
    assert admit(counters, [ip, key]).admitted
    refused = admit(counters, [ip, key], at=T0 + 1)
    assert not refused.admitted and refused.denial.subject == 1
    assert refused.states[0].requests == 1  # the IP's counter did not take the refused request
    assert admit(counters, [ip], at=T0 + 2).states[0].requests == 2


def test_a_settlement_after_the_request_left_the_window_changes_nothing(counters):
    subject = Subject(name(), 0, 1000)
    old = uuid.uuid4().hex
    admit(counters, [subject], 500, at=T0 - WINDOW_MS, request_id=old)
    admit(counters, [subject], 100, at=T0)  # expires the old one
    run(counters.settle(old, [subject], 500, 900))
    assert admit(counters, [subject], 0, at=T0 + 1).states[0].tokens == 100


def test_budgets_ask_once_for_what_was_used_before_then_count_exactly(counters):
    who = name()
    budget = Budget(f"{who}:d:20261125", 1000, 60_000)
    subject = Subject(who, 0, 0, [budget])
    first = admit(counters, [subject], 100)
    assert not first.admitted and first.needs_seed == [(0, 0)]
    budget.seed = 600
    assert admit(counters, [subject], 300).states[0].budgets == [900]
    budget.seed = None  # the counter now exists: no seed needed any more
    refused = admit(counters, [subject], 200)
    assert (refused.denial.kind, refused.denial.used, refused.denial.limit, refused.denial.budget) == ("budget", 900, 1000, 0)
    assert admit(counters, [subject], 100).admitted


def test_settling_adjusts_the_budget_too(counters):
    who = name()
    budget = Budget(f"{who}:m:202611", 1000, 60_000, seed=0)
    subject = Subject(who, 0, 0, [budget])
    request_id = uuid.uuid4().hex
    admit(counters, [subject], 900, request_id=request_id)
    run(counters.settle(request_id, [subject], 900, 100))
    assert admit(counters, [subject], 800).states[0].budgets == [900]


def test_concurrent_admissions_take_exactly_the_limit(counters):
    subject = Subject(name(), 25, 0)

    async def burst():
        return await asyncio.gather(*(counters.admit(uuid.uuid4().hex, [subject], 0) for _ in range(60)))

    outcomes = run(burst())
    assert sum(o.admitted for o in outcomes) == 25


redis_only = pytest.mark.skipif("redis" not in BACKENDS, reason="needs REDIS_URL (set in the shared run)")


@pytest.fixture
def redis_counters(settings):
    from quotas.counters_redis import RedisCounters

    settings.REDIS_URL = os.environ["REDIS_URL"]
    return RedisCounters()


def _reserved_total(counters, subject) -> int:
    from quotas import shared_redis

    return int(shared_redis.sync_client().hget(counters._keys(subject)[1], "_t") or 0)


@redis_only
def test_a_settlement_waits_for_the_next_admission_and_rides_with_it(redis_counters):
    counters = redis_counters  # the shared fixture `counters` runs each backend; these are Redis's own
    subject = Subject(name(), 0, 1000)
    first = uuid.uuid4().hex

    async def scenario():
        await counters.admit(first, [subject], 800)
        await counters.settle(first, [subject], 800, 150)
        waiting = _reserved_total(counters, subject)  # not sent yet: it waits for an admission
        return waiting, await counters.admit(uuid.uuid4().hex, [subject], 300)

    waiting, carried = run(scenario())
    assert waiting == 800
    assert carried.admitted and carried.states[0].tokens == 450
    assert _reserved_total(counters, subject) == 450  # applied once, by the admission's script
    assert counters._waiting == []


@redis_only
def test_with_no_admission_coming_the_settlement_is_sent_on_its_own(redis_counters):
    from quotas.counters_redis import SETTLE_DELAY

    counters = redis_counters
    subject, other = Subject(name(), 0, 1000), Subject(name(), 0, 1000)
    first, second = uuid.uuid4().hex, uuid.uuid4().hex

    async def scenario():
        await counters.admit(first, [subject], 800)
        await counters.admit(second, [other], 500)
        await counters.settle(first, [subject], 800, 150)
        await counters.settle(second, [other], 500, 700)
        deadline = time.monotonic() + 5
        while _reserved_total(counters, subject) != 150 and time.monotonic() < deadline:
            await asyncio.sleep(SETTLE_DELAY / 5)  # polling: the timer runs on this loop

    run(scenario())
    assert (_reserved_total(counters, subject), _reserved_total(counters, other)) == (150, 700)
    assert counters._waiting == []


@redis_only
def test_the_limiter_sends_waiting_settlements_at_graceful_shutdown(settings, monkeypatch):
    from quotas.limits import LimiterState
    from relay_site import shutdown

    settings.REDIS_URL = os.environ["REDIS_URL"]
    monkeypatch.setattr(shutdown, "_hooks", [])  # only this limiter's hook, and none left behind
    counters = LimiterState().counters()
    subject = Subject(name(), 0, 1000)
    first = uuid.uuid4().hex

    async def scenario():
        await counters.admit(first, [subject], 800)
        await counters.settle(first, [subject], 800, 100)
        await shutdown.run_hooks()  # what daphne's graceful shutdown runs once requests are done
        return _reserved_total(counters, subject)

    assert run(scenario()) == 100


@pytest.fixture
def scripts_sent(monkeypatch):
    """How many calls reach Redis (each is one script): shared_redis.run, counted and run as is."""
    from quotas import shared_redis

    sent, real = [], shared_redis.run

    async def counted(command):
        sent.append(1)
        return await real(command)

    monkeypatch.setattr(shared_redis, "run", counted)
    return sent


@redis_only
def test_admissions_arriving_while_a_script_is_out_go_together_in_the_next(redis_counters, scripts_sent, monkeypatch):
    from quotas import counters_redis

    monkeypatch.setattr(counters_redis, "MAX_BATCH", 100)
    subject = Subject(name(), 120, 0)

    async def burst():
        return await asyncio.gather(*(redis_counters.admit(uuid.uuid4().hex, [subject], 0) for _ in range(250)))

    outcomes = run(burst())
    # The first goes alone; the 249 that queued behind it go 100, 100 and 49 to a script.
    assert len(scripts_sent) == 4
    admitted = [o for o in outcomes if o.admitted]
    assert len(admitted) == 120  # each still counted in turn, as if sent alone
    assert sorted(o.states[0].requests for o in admitted) == list(range(1, 121))
    assert all(o.denial.kind == "requests" and o.denial.used == 120 for o in outcomes if not o.admitted)


def test_concurrent_calls_of_different_clients_each_count_on_their_own_counters(counters):
    # In Redis these share scripts: each admission's windows and budgets must stay its own.
    clients = []
    for _ in range(3):
        who = name()
        ip = Subject(f"ip:{uuid.uuid4().hex}", 2, 0)
        clients.append((ip, Subject(who, 0, 0, [Budget(f"{who}:d:20261207", 250, 60_000, seed=0)])))

    async def burst():
        calls = [counters.admit(uuid.uuid4().hex, [ip, key], 100) for ip, key in clients for _ in range(3)]
        return await asyncio.gather(*calls)

    outcomes = run(burst())
    for n in range(3):
        mine = outcomes[3 * n:3 * n + 3]
        assert [o.admitted for o in mine] == [True, True, False]  # the IP's two requests a minute
        assert [o.states[1].budgets for o in mine[:2]] == [[100], [200]]
        assert (mine[2].denial.subject, mine[2].denial.kind) == (0, "requests")


@redis_only
def test_one_call_at_a_time_waits_for_no_batch(redis_counters, scripts_sent):
    subject = Subject(name(), 1000, 0)

    async def one_by_one():
        return [await redis_counters.admit(uuid.uuid4().hex, [subject], 0) for _ in range(3)]

    assert [o.states[0].requests for o in run(one_by_one())] == [1, 2, 3]
    assert len(scripts_sent) == 3 and redis_counters._queued == {}


@redis_only
def test_a_queued_caller_that_goes_away_is_not_counted(redis_counters):
    from quotas import shared_redis

    subject = Subject(name(), 1000, 0)

    async def scenario():
        first = asyncio.create_task(redis_counters.admit(uuid.uuid4().hex, [subject], 0))
        queued = [asyncio.create_task(redis_counters.admit(uuid.uuid4().hex, [subject], 0)) for _ in range(5)]
        def waiting() -> int:
            return len(redis_counters._queued.get(asyncio.get_running_loop(), []))

        deadline = time.monotonic() + 5
        while waiting() < 5 and time.monotonic() < deadline:  # behind the first's script
            await asyncio.sleep(0)
        assert waiting() == 5
        queued[0].cancel()
        await asyncio.gather(first, *queued, return_exceptions=True)
        return queued[0].cancelled()

    assert run(scenario())
    assert shared_redis.sync_client().zcard(redis_counters._keys(subject)[0]) == 5


@redis_only
def test_each_caller_in_a_failed_script_gets_its_own_outage(redis_counters, settings, monkeypatch):
    from quotas import shared_redis

    for state, value in [("_down_until", 0.0), ("_tripped", False), ("_last_success", float("-inf"))]:
        monkeypatch.setattr(shared_redis, state, value)  # the breaker as it was, once the test ends
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    subject = Subject(name(), 10, 0)

    async def burst():
        return await asyncio.gather(*(redis_counters.admit(uuid.uuid4().hex, [subject], 0) for _ in range(5)),
                                    return_exceptions=True)

    errors = run(burst())
    assert all(isinstance(e, shared_redis.Unavailable) for e in errors)
    assert len({id(e) for e in errors}) == 5  # one exception each, not one shared traceback
    assert redis_counters._queued == {}


@redis_only
def test_event_loops_in_two_threads_each_get_every_admission_answered(redis_counters):
    # shared_redis keeps a client per event loop; a burst on one loop must not take over, or drop,
    # the admissions queued on another.
    import threading

    subjects = [Subject(name(), 1000, 0), Subject(name(), 1000, 0)]
    results: dict[int, object] = {}

    async def burst(subject):
        calls = asyncio.gather(*(redis_counters.admit(uuid.uuid4().hex, [subject], 0) for _ in range(200)))
        return await asyncio.wait_for(calls, timeout=10)

    def in_thread(n: int) -> None:
        try:
            results[n] = run(burst(subjects[n]))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            results[n] = error

    threads = [threading.Thread(target=in_thread, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for n in range(2):
        assert isinstance(results.get(n), list), results.get(n)
        assert sorted(o.states[0].requests for o in results[n]) == list(range(1, 201))
