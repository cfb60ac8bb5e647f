"""The counters in Redis: admissions run in Lua scripts, on Redis's own clock; settlements ride along.

Per subject a sorted set holds the window's request ids by time (ms) and a hash holds each
one's tokens plus their running total (`_t`); budgets are plain integers named by period.
Scripts run atomically, so processes sharing the Redis never race each other's counts.

Admissions that arrive while this process's previous script is on its way go together in the
next one (at most MAX_BATCH), each counted in turn as if sent alone: under load a call costs
a share of one round trip, and redis-py's per-command work (pool, retries, packing) is paid per
script, not per call. With one call at a time nothing waits.

A settlement (a call's reservation corrected to its real count) waits, up to SETTLE_DELAY, for this
process's next admission and is applied by the same script before it counts, so under load a
settlement costs Redis no round trip of its own, and an admission never sees fewer of this
process's settlements than before. With no admission coming, a timer sends what waits as one script.
"""
from __future__ import annotations

import asyncio
import json

from quotas import shared_redis
from quotas.counters import WINDOW_MS, Budget, Denial, Outcome, State, Subject

# How long a settlement may wait for an admission to carry it (cross-process lag at most this).
SETTLE_DELAY = 0.05
# Admissions per script at most: a script holds Redis, for every client, while it runs.
MAX_BATCH = 100

# Applies spec.settles (each {id, delta, hashes, budgets}, indices into KEYS): a reservation still
# in its window is corrected to the real count, and each budget that exists moves by the same delta.
SETTLE_BODY = r"""
for _, st in ipairs(spec.settles or {}) do
  for _, index in ipairs(st.hashes) do
    local h = KEYS[index]
    local reserved = redis.call('HGET', h, st.id)
    if reserved then
      redis.call('HSET', h, st.id, tonumber(reserved) + st.delta)
      redis.call('HINCRBY', h, '_t', st.delta)
    end
  end
  for _, index in ipairs(st.budgets) do
    if redis.call('EXISTS', KEYS[index]) == 1 then redis.call('INCRBY', KEYS[index], st.delta) end
  end
end
"""

# spec = {settles, admits}: the settlements first, then each admission in turn, as if each were
# its own script (its key indices past its `offset`); returns the admissions' outcomes in order.
ADMIT = r"""
local spec = cjson.decode(ARGV[1])
""" + SETTLE_BODY + r"""
local function admit(spec)
local o = spec.offset  -- this admission's key indices count from KEYS[o + 1]
local now = spec.now
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local window, cost, id = spec.window, spec.cost, spec.id
local cutoff = now - window
local states, seeds, denial = {}, {}, nil

local function expire(z, h)
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', cutoff)
  if #old == 0 then return end
  local freed = 0
  for i = 1, #old, 500 do
    local chunk = {unpack(old, i, math.min(i + 499, #old))}
    for _, v in ipairs(redis.call('HMGET', h, unpack(chunk))) do
      if v then freed = freed + tonumber(v) end
    end
    redis.call('HDEL', h, unpack(chunk))
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', cutoff)
  if freed ~= 0 then redis.call('HINCRBY', h, '_t', -freed) end  -- Lua writes minus zero as "-0"
end

for i, s in ipairs(spec.subjects) do
  local st = {requests = 0, tokens = 0, reset_ms = 0, budgets = {}}
  if s.windowed then
    local z, h = KEYS[s.z + o], KEYS[s.h + o]
    expire(z, h)
    st.requests = redis.call('ZCARD', z)
    st.tokens = tonumber(redis.call('HGET', h, '_t') or 0)
    local oldest = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
    if #oldest > 0 then st.reset_ms = tonumber(oldest[2]) + window - now end
    if not denial and s.rpm > 0 and st.requests + 1 > s.rpm then
      local nth = redis.call('ZRANGE', z, st.requests - s.rpm, st.requests - s.rpm, 'WITHSCORES')
      denial = {subject = i, kind = 'requests', used = st.requests, limit = s.rpm,
                retry_ms = tonumber(nth[2]) + window - now}
    end
    if not denial and s.tpm > 0 and st.tokens + cost > s.tpm then
      local need, freed, retry = st.tokens + cost - s.tpm, 0, window
      local entries = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
      for j = 1, #entries, 2 do
        freed = freed + tonumber(redis.call('HGET', h, entries[j]) or 0)
        if freed >= need then retry = tonumber(entries[j + 1]) + window - now; break end
      end
      denial = {subject = i, kind = 'tokens', used = st.tokens, limit = s.tpm, retry_ms = retry}
    end
  end
  for j, b in ipairs(s.budgets) do
    local used = redis.call('GET', KEYS[b.k + o])
    if used then
      used = tonumber(used)
    elseif b.seed then
      used = b.seed
    else
      seeds[#seeds + 1] = {i, j}
      used = 0
    end
    st.budgets[j] = used
    if not denial and #seeds == 0 and used + cost > b.limit then
      denial = {subject = i, kind = 'budget', used = used, limit = b.limit, budget = j, retry_ms = 0}
    end
  end
  states[i] = st
end
if #seeds > 0 then return {seeds = seeds, states = states} end
if denial then return {ok = false, denial = denial, states = states} end

for i, s in ipairs(spec.subjects) do
  local st = states[i]
  if s.windowed then
    local z, h = KEYS[s.z + o], KEYS[s.h + o]
    redis.call('ZADD', z, now, id)
    redis.call('HSET', h, id, cost)
    st.tokens = redis.call('HINCRBY', h, '_t', cost)
    st.requests = st.requests + 1
    if st.requests == 1 then st.reset_ms = window end
    redis.call('PEXPIRE', z, window + 1000)
    redis.call('PEXPIRE', h, window + 1000)
  end
  for j, b in ipairs(s.budgets) do
    local k = KEYS[b.k + o]
    if redis.call('EXISTS', k) == 0 then redis.call('SET', k, b.seed or 0, 'PX', b.ttl) end
    st.budgets[j] = redis.call('INCRBY', k, cost)
  end
end
return {ok = true, states = states}
end

local outcomes = {}
for n, one in ipairs(spec.admits) do outcomes[n] = admit(one) end
return cjson.encode(outcomes)
"""

SETTLE = r"""
local spec = cjson.decode(ARGV[1])
""" + SETTLE_BODY + r"""
return 1
"""


# An admission waiting for the next script: its keys, its spec, and its caller's future.
Queued = tuple[list[str], dict, asyncio.Future]


def _list(value) -> list:
    # cjson writes an empty Lua table as {}.
    return value if isinstance(value, list) else []


class RedisCounters:
    """Counters shared by every process on the same Redis and CACHE_KEY_PREFIX."""

    def __init__(self) -> None:
        self._scripts: dict[int, tuple] = {}
        self._waiting: list[tuple[list[str], dict]] = []  # settlements not sent yet: their keys and spec
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self._sending: set[asyncio.Task] = set()
        # Per event loop with a script on its way, the admissions waiting for its next one (like
        # shared_redis's clients, one per loop: daphne has one, tests may run others).
        self._queued: dict[asyncio.AbstractEventLoop, list[Queued]] = {}

    def _script(self, which: str):
        client = shared_redis.client()
        found = self._scripts.get(id(client))
        if found is None or found[0] is not client:
            found = (client, client.register_script(ADMIT), client.register_script(SETTLE))
            self._scripts[id(client)] = found
        return found[1] if which == "admit" else found[2]

    @staticmethod
    def _keys(subject: Subject) -> tuple[str, str]:
        base = shared_redis.key(f"rl:{subject.name}")
        return f"{base}:z", f"{base}:h"

    @staticmethod
    def _budget_key(budget: Budget) -> str:
        return shared_redis.key(f"rl:budget:{budget.key}")

    async def admit(self, request_id: str, subjects: list[Subject], cost: int, now_ms: int | None = None) -> Outcome:
        keys: list[str] = []
        spec_subjects = []
        for subject in subjects:
            entry: dict = {"windowed": subject.windowed, "rpm": subject.requests_per_minute,
                           "tpm": subject.tokens_per_minute, "budgets": []}
            if subject.windowed:
                keys.extend(self._keys(subject))
                entry["z"], entry["h"] = len(keys) - 1, len(keys)
            for budget in subject.budgets:
                keys.append(self._budget_key(budget))
                item = {"k": len(keys), "limit": budget.limit, "ttl": budget.ttl_ms}
                if budget.seed is not None:
                    item["seed"] = budget.seed
                entry["budgets"].append(item)
            spec_subjects.append(entry)
        spec = {"window": WINDOW_MS, "cost": cost, "id": request_id, "subjects": spec_subjects}
        if now_ms is not None:
            spec["now"] = now_ms
        loop = asyncio.get_running_loop()
        queued = self._queued.get(loop)
        if queued is not None:  # a script is on its way: go with the next one
            answer = loop.create_future()
            queued.append((keys, spec, answer))
            return await answer
        self._queued[loop] = []
        try:
            [outcome] = await self._send([(keys, spec)])
        finally:
            self._send_queued(loop)
        return outcome

    async def _send(self, admissions: list[tuple[list[str], dict]]) -> list[Outcome]:
        """One script: the waiting settlements, then these admissions in order."""
        keys: list[str] = []
        spec: dict = {"admits": []}
        if self._waiting:
            # Taken before the call: if it fails they are lost, as a failed settlement always was
            # (the reservation ages out of the window); sent twice they would count twice.
            spec["settles"] = _carried(self._waiting, keys)
            self._waiting = []
        for own_keys, admission in admissions:
            admission["offset"] = len(keys)
            spec["admits"].append(admission)
            keys.extend(own_keys)
        script = self._script("admit")
        raw = await shared_redis.run(lambda: script(keys=keys, args=[json.dumps(spec)]))
        return [_outcome(outcome) for outcome in json.loads(raw)]

    def _send_queued(self, loop: asyncio.AbstractEventLoop) -> None:
        """Once a script is back: send what queued meanwhile as the next one, or note none on its way."""
        queued = [one for one in self._queued.get(loop, []) if not one[2].done()]  # callers gone: not counted
        if not queued:
            self._queued.pop(loop, None)
            return
        batch, self._queued[loop] = queued[:MAX_BATCH], queued[MAX_BATCH:]
        task = loop.create_task(self._answer(loop, batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _answer(self, loop: asyncio.AbstractEventLoop, batch: list[Queued]) -> None:
        try:
            if not shared_redis.reachable():  # the script before failed: no second wait for the outage
                raise shared_redis.Unavailable("Redis failed moments ago")
            outcomes = await self._send([(keys, spec) for keys, spec, _ in batch])
        except asyncio.CancelledError:  # only when the loop itself is closing, and its callers with it
            for *_, answer in [*batch, *self._queued.pop(loop, [])]:
                answer.cancel()
            raise
        except Exception as error:  # each caller gets what a script of its own would have raised
            for *_, answer in batch:
                if not answer.done():  # a caller that went away has its future cancelled
                    answer.set_exception(_own_copy(error))
        else:
            for (*_, answer), outcome in zip(batch, outcomes):
                if not answer.done():
                    answer.set_result(outcome)
        self._send_queued(loop)

    async def settle(self, request_id: str, subjects: list[Subject], reserved: int, actual: int) -> None:
        """Queue the correction; the next admission carries it, or a timer sends it (SETTLE_DELAY)."""
        delta = actual - reserved
        if delta == 0:
            return
        keys: list[str] = []
        hashes, budgets = [], []
        for subject in subjects:
            if subject.windowed:
                keys.append(self._keys(subject)[1])
                hashes.append(len(keys))
            for budget in subject.budgets:
                keys.append(self._budget_key(budget))
                budgets.append(len(keys))
        if not keys:
            return
        self._waiting.append((keys, {"id": request_id, "delta": delta, "hashes": hashes, "budgets": budgets}))
        loop = asyncio.get_running_loop()
        if self._timer is None or self._timer_loop is not loop:
            self._timer, self._timer_loop = loop.call_later(SETTLE_DELAY, self._send_waiting), loop

    def _send_waiting(self) -> None:
        self._timer = None
        if self._waiting:
            task = asyncio.get_running_loop().create_task(self.flush())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def flush(self) -> None:
        """Send every waiting settlement now (the timer's job; also at shutdown and in tests)."""
        if not self._waiting:
            return
        keys: list[str] = []
        spec = {"settles": _carried(self._waiting, keys)}
        self._waiting = []
        # With Redis down (the limiter logs the outage) the reservations simply age out of the
        # window, as a failed settlement's always did; no timer keeps retrying against the outage.
        if not shared_redis.reachable():
            return
        script = self._script("settle")
        try:
            await shared_redis.run(lambda: script(keys=keys, args=[json.dumps(spec)]))
        except (shared_redis.Unavailable, shared_redis.Busy):
            pass


def _own_copy(error: BaseException) -> BaseException:
    """The failure of a shared script, one per caller: raised in many tasks, one exception object
    would gather all their tracebacks."""
    if isinstance(error, (shared_redis.Unavailable, shared_redis.Busy)):
        copy = type(error)(*error.args)
        copy.__cause__ = error.__cause__
        return copy
    return error


def _carried(waiting: list[tuple[list[str], dict]], keys: list[str]) -> list[dict]:
    """The waiting settlements' specs, their key indices moved past `keys`, which gains their keys."""
    specs = []
    for own_keys, spec in waiting:
        offset = len(keys)
        keys.extend(own_keys)
        specs.append({**spec, "hashes": [i + offset for i in spec["hashes"]],
                      "budgets": [i + offset for i in spec["budgets"]]})
    return specs


def _outcome(raw: dict) -> Outcome:
    states = [
        State(int(s["requests"]), int(s["tokens"]), int(s["reset_ms"]), [int(b) for b in _list(s["budgets"])])
        for s in _list(raw.get("states"))
    ]
    if "seeds" in raw:
        return Outcome(False, states, needs_seed=[(int(i) - 1, int(j) - 1) for i, j in raw["seeds"]])
    denial = raw.get("denial")
    if denial:
        return Outcome(False, states, Denial(
            int(denial["subject"]) - 1, denial["kind"], int(denial["used"]), int(denial["limit"]),
            int(denial.get("retry_ms") or 0), int(denial.get("budget", 0)) - 1,
        ))
    return Outcome(True, states)
