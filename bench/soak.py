"""Soak: a relay under daphne, fed a mix of endpoints, upstream faults and client disconnects for a
bounded time and request count (loopback only), then checked: every answer as expected, upstream
calls matching what clients saw, stored usage records (count per endpoint and status, cut-short
marks, tokens) matching what clients saw, memory and open connections back to their starting level.

    .venv/bin/python bench/soak.py [--seconds 180] [--max-requests 20000] [--workers 8] [--report PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak_usage import reconcile, stored_usage  # noqa: E402
from tests import media_files  # noqa: E402
from tests.onemin_simulator import Simulator  # noqa: E402
from tests.relay_process import RelayProcess, base_env, migrate, new_workdir  # noqa: E402

KEY = "sk-soak-0123456789"  # the soak's calls; warm-up and quiescing use another key
WARM_KEY = "sk-soak-warm-0123456789"
SOAK_WAV = media_files.wav(1.0)
AUTH = {"Authorization": f"Bearer {KEY}"}
# What the relay names each path in its usage records.
ENDPOINTS = {"/v1/chat/completions": "chat.completions", "/v1/responses": "responses",
             "/v1/images/generations": "images.generations", "/v1/audio/speech": "audio.speech",
             "/v1/audio/transcriptions": "audio.transcriptions"}


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    runs: Counter = field(default_factory=Counter)
    unexpected: list = field(default_factory=list)
    upstream_calls: int = 0  # chat calls 1min.ai should have seen for what the clients got
    feature_calls: int = 0  # /api/features calls (images, audio) likewise
    disconnects: int = 0
    completion_tokens: int = 0
    answers: Counter = field(default_factory=Counter)  # (endpoint, HTTP status) of every answer

    def saw(self, response: httpx.Response) -> None:
        path = response.request.url.path
        endpoint = "models" if path.startswith("/v1/models") else ENDPOINTS.get(path, path)
        with self.lock:
            self.answers[(endpoint, response.status_code)] += 1

    def stream_failed(self, endpoint: str, status: int) -> None:
        """A stream that began with 200 and ended with an error event is recorded with the error's status."""
        with self.lock:
            self.answers[(endpoint, 200)] -= 1
            self.answers[(endpoint, status)] += 1

    def add(self, name: str, ok: bool, detail: str, upstream: int = 0, tokens: int = 0, disconnect: bool = False,
            features: int = 0):
        with self.lock:
            self.runs[name] += 1
            self.upstream_calls += upstream
            self.feature_calls += features
            self.completion_tokens += tokens
            self.disconnects += int(disconnect)
            if not ok and len(self.unexpected) < 50:
                self.unexpected.append(f"{name}: {detail}")


def chat_body(tag: str, **extra) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"soak {tag}"}], **extra}


class Scenarios:
    """Each scenario makes one client call and records whether the answer was the expected one."""

    def __init__(self, relay: RelayProcess, sim: Simulator, tally: Tally, auth: dict[str, str] = AUTH) -> None:
        self.relay, self.sim, self.tally, self.auth = relay, sim, tally, auth
        self.url = relay.url

    def client(self) -> httpx.Client:
        """A client whose every answer (status known at its headers) is tallied."""
        return httpx.Client(timeout=30, event_hooks={"response": [lambda r: self.tally.saw(r)]})

    def _post(self, http: httpx.Client, body, **kwargs) -> httpx.Response:
        return http.post(f"{self.url}/v1/chat/completions", json=body, headers=self.auth, **kwargs)

    def chat(self, http, tag):
        r = self._post(http, chat_body(tag))
        tokens = r.json()["usage"]["completion_tokens"] if r.status_code == 200 else 0
        self.tally.add("chat", r.status_code == 200, r.text[:200], upstream=1, tokens=tokens)

    def stream(self, http, tag):
        body = chat_body(tag, stream=True, stream_options={"include_usage": True})
        with http.stream("POST", f"{self.url}/v1/chat/completions", json=body, headers=self.auth) as r:
            lines = [line for line in r.iter_lines() if line.startswith("data: ")]
        ok = r.status_code == 200 and lines[-1] == "data: [DONE]"
        tokens = json.loads(lines[-2][6:])["usage"]["completion_tokens"] if ok else 0
        self.tally.add("stream", ok, f"{r.status_code} {lines[-1:]}", upstream=1, tokens=tokens)

    def disconnect(self, http, tag):
        self.sim.script({"text": "z" * 1500, "chunk_size": 16, "chunk_delay_ms": 5}, prompt_contains=tag)
        with http.stream("POST", f"{self.url}/v1/chat/completions", json=chat_body(tag, stream=True), headers=self.auth) as r:
            got = b""
            for piece in r.iter_raw():
                got += piece
                if got.count(b"data: ") >= 3:
                    break
            ok = r.status_code == 200
        # Leaving the block closes this connection mid-stream.
        self.tally.add("disconnect", ok, str(r.status_code), upstream=1, disconnect=True)

    def models(self, http, tag):
        r = http.get(f"{self.url}/v1/models", headers=self.auth)
        self.tally.add("models", r.status_code == 200 and r.json()["data"], r.text[:200])

    def unknown_model(self, http, tag):
        r = http.get(f"{self.url}/v1/models/no-such-{tag}", headers=self.auth)
        self.tally.add("unknown_model", r.status_code == 404, r.text[:200])

    def bad_request(self, http, tag):
        r = self._post(http, {"model": "gpt-4o-mini", "messages": "nope"})
        self.tally.add("bad_request", r.status_code == 400, r.text[:200])

    def deep_json(self, http, tag):
        body = '{"model":"gpt-4o-mini","messages":' + "[" * 5000 + "]" * 5000 + "}"
        r = http.post(f"{self.url}/v1/chat/completions", content=body, headers={**self.auth, "Content-Type": "application/json"})
        self.tally.add("deep_json", r.status_code == 400, r.text[:200])

    def oversized(self, http, tag):
        r = self._post(http, chat_body(tag + "x" * (1024 * 1024)))
        self.tally.add("oversized", r.status_code == 413, r.text[:200])

    def fault_503_once(self, http, tag):
        self.sim.script({"status": 503}, prompt_contains=tag)
        r = self._post(http, chat_body(tag))
        tokens = r.json()["usage"]["completion_tokens"] if r.status_code == 200 else 0
        self.tally.add("fault_503_once", r.status_code == 200, r.text[:200], upstream=2, tokens=tokens)

    def fault_500(self, http, tag):
        self.sim.script({"status": 500, "message": "soak"}, prompt_contains=tag)
        r = self._post(http, chat_body(tag))
        self.tally.add("fault_500", r.status_code == 502, r.text[:200], upstream=1)

    def fault_invalid_json(self, http, tag):
        self.sim.script({"invalid_json": True}, prompt_contains=tag)
        r = self._post(http, chat_body(tag))
        self.tally.add("fault_invalid_json", r.status_code == 502, r.text[:200], upstream=1)

    def fault_429(self, http, tag):
        self.sim.script({"status": 429, "retry_after": "60"}, prompt_contains=tag)
        r = self._post(http, chat_body(tag))
        self.tally.add("fault_429", r.status_code == 429 and r.headers.get("retry-after") == "60", r.text[:200], upstream=1)

    def fault_stall(self, http, tag):
        self.sim.script({"stall_after": 2, "stall_ms": 10_000}, prompt_contains=tag)
        with http.stream("POST", f"{self.url}/v1/chat/completions", json=chat_body(tag, stream=True), headers=self.auth) as r:
            lines = [line for line in r.iter_lines() if line.startswith("data: ")]
        ok = r.status_code == 200 and '"upstream_timeout"' in lines[-1]
        self.tally.add("fault_stall", ok, f"{r.status_code} {lines[-1:]}", upstream=1)
        if ok:
            self.tally.stream_failed("chat.completions", 504)

    def responses(self, http, tag):
        r = http.post(f"{self.url}/v1/responses", json={"model": "gpt-4o-mini", "input": f"soak {tag}"}, headers=self.auth)
        ok = r.status_code == 200 and r.json()["status"] == "completed"
        tokens = r.json()["usage"]["output_tokens"] if ok else 0
        self.tally.add("responses", ok, r.text[:200], upstream=1, tokens=tokens)

    def responses_stream(self, http, tag):
        body = {"model": "gpt-4o-mini", "input": f"soak {tag}", "stream": True}
        with http.stream("POST", f"{self.url}/v1/responses", json=body, headers=self.auth) as r:
            lines = list(r.iter_lines())
        events = [line[7:] for line in lines if line.startswith("event: ")]
        ok = r.status_code == 200 and events[-1:] == ["response.completed"]
        data = [line[6:] for line in lines if line.startswith("data: ")]
        tokens = json.loads(data[-1])["response"]["usage"]["output_tokens"] if ok else 0
        self.tally.add("responses_stream", ok, f"{r.status_code} {events[-1:]}", upstream=1, tokens=tokens)

    def image(self, http, tag):
        r = http.post(f"{self.url}/v1/images/generations", headers=self.auth,
                      json={"model": "dall-e-3", "prompt": f"soak {tag}", "response_format": "url"})
        self.tally.add("image", r.status_code == 200 and r.json()["data"], r.text[:200], features=1)

    def speech(self, http, tag):
        r = http.post(f"{self.url}/v1/audio/speech", headers=self.auth,
                      json={"model": "tts-1", "input": f"soak {tag}", "voice": "alloy"})
        self.tally.add("speech", r.status_code == 200 and len(r.content) > 100, f"{r.status_code}", features=1)

    def transcription(self, http, tag):
        r = http.post(f"{self.url}/v1/audio/transcriptions", headers=self.auth, data={"model": "whisper-1"},
                      files={"file": (f"{tag}.wav", SOAK_WAV, "audio/wav")})
        self.tally.add("transcription", r.status_code == 200 and "text" in r.json(), r.text[:200], features=1)

    MIX = [("chat", 22), ("stream", 18), ("responses", 6), ("responses_stream", 5), ("image", 4), ("speech", 4),
           ("transcription", 3), ("disconnect", 8), ("models", 8), ("unknown_model", 4), ("bad_request", 4),
           ("deep_json", 2), ("oversized", 2), ("fault_503_once", 5), ("fault_500", 3), ("fault_invalid_json", 3),
           ("fault_429", 3), ("fault_stall", 3)]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sockets(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return count


def quiesce(relay: RelayProcess, scenarios: "Scenarios") -> int:
    """Open sockets of an idle relay: past httpx's 5 s keep-alive expiry, then one call (expired
    pooled connections are closed when the pool is next used), then polled until stable."""
    time.sleep(6)
    with httpx.Client(timeout=30) as http:
        scenarios.chat(http, "quiesce")
    previous, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = sockets(relay.proc.pid)
        if now != previous:
            previous, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since > 1.0:
            break
        time.sleep(0.2)
    return previous


def run(seconds: float, max_requests: int, workers: int, seed: int) -> dict:
    sim = Simulator().start()
    workdir = new_workdir()
    env = base_env(sim.url, workdir)
    env.pop("REDIS_URL", None)
    env.update({"DATABASE_URL": f"sqlite:///{workdir / 'soak.sqlite3'}", "UPSTREAM_READ_TIMEOUT": "5",
                "UPSTREAM_STREAM_IDLE_TIMEOUT": "1", "MAX_JSON_BODY_BYTES": str(1024 * 1024), "LOG_LEVEL": "INFO"})
    migrate(env)
    relay = RelayProcess(env, workdir).start()
    tally = Tally()
    scenarios = Scenarios(relay, sim, tally)
    warm = Scenarios(relay, sim, Tally(), auth={"Authorization": f"Bearer {WARM_KEY}"})
    names, weights = zip(*Scenarios.MIX)
    stopped = False
    try:
        with httpx.Client(timeout=30) as http:  # warm-up: model cache, token tables, pools
            for i in range(30):
                warm.chat(http, f"warm{i}")
                warm.stream(http, f"warmstream{i}")
        start_sockets = quiesce(relay, warm)
        start_rss = rss_kb(relay.proc.pid)
        warm_upstream = len(sim.requests_to("/api/chat-with-ai"))
        warm_features = len(sim.requests_to("/api/features"))
        budget = iter(range(max_requests))
        budget_lock = threading.Lock()
        deadline = time.monotonic() + seconds
        started = time.monotonic()

        def worker(index: int) -> None:
            rng = random.Random(seed + index)
            with scenarios.client() as http:
                while time.monotonic() < deadline:
                    with budget_lock:
                        number = next(budget, None)
                    if number is None:
                        return
                    name = rng.choices(names, weights)[0]
                    try:
                        getattr(scenarios, name)(http, f"t{number}q")
                    except Exception as error:  # noqa: BLE001 - a client-side failure is a finding
                        tally.add(name, False, repr(error)[:200])

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        peak_rss = start_rss
        while any(t.is_alive() for t in threads):
            peak_rss = max(peak_rss, rss_kb(relay.proc.pid))
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        upstream_seen = len(sim.requests_to("/api/chat-with-ai")) - warm_upstream
        features_seen = len(sim.requests_to("/api/features")) - warm_features
        end_sockets = quiesce(relay, warm)
        end_rss = rss_kb(relay.proc.pid)
        cut_short = relay.logs().count("stream cut short: endpoint=chat.completions")
        # Stopped as an operator stops it (SIGTERM): what is still buffered is written on the way out.
        relay.stop()
        stopped = True
        tracebacks = relay.logs().count("Traceback")
        stored = stored_usage(workdir / "soak.sqlite3", KEY)
    finally:
        if not stopped:
            relay.stop()
        sim.stop()
    total = sum(tally.runs.values())
    usage = reconcile(tally.answers, tally.completion_tokens, stored)
    checks = {
        "every answer was the expected one": not tally.unexpected,
        "upstream chat calls == calls implied by client results": upstream_seen == tally.upstream_calls,
        "upstream feature calls == calls implied by client results": features_seen == tally.feature_calls,
        "cut-short calls == client disconnects": cut_short == tally.disconnects,
        "no tracebacks in the relay log": tracebacks == 0,
        "open sockets back to the start": end_sockets <= start_sockets,
        "memory back near the start (< +64 MiB)": end_rss - start_rss < 64 * 1024,
        "stored usage records == answers clients saw (per endpoint and status)": usage["records_match"],
        "stored cut-short records == client disconnects": usage["cut_short_records"] == tally.disconnects,
        "stored completion tokens == tokens reported to clients": usage["tokens_match"],
    }
    return {
        "seconds": round(elapsed, 1), "requests": total, "rate_per_s": round(total / elapsed, 1), "workers": workers,
        "seed": seed, "scenarios": dict(sorted(tally.runs.items())), "unexpected": tally.unexpected,
        "upstream_chat_calls": {"expected": tally.upstream_calls, "seen_by_1min_sim": upstream_seen},
        "upstream_feature_calls": {"expected": tally.feature_calls, "seen_by_1min_sim": features_seen},
        "disconnects": {"clients": tally.disconnects, "relay_cut_short": cut_short},
        "completion_tokens_reported_to_clients": tally.completion_tokens,
        "usage_records": usage,
        "rss_kib": {"start": start_rss, "peak": peak_rss, "end": end_rss},
        "open_sockets": {"start": start_sockets, "end": end_sockets},
        "checks": checks, "passed": all(checks.values()),
    }


def render(result: dict) -> str:
    lines = ["# Soak report", "", f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {os.cpu_count()} cores, "
             "relay under daphne and the 1min.ai simulator on loopback.", "",
             f"- {result['requests']} requests in {result['seconds']} s ({result['rate_per_s']}/s) from {result['workers']} "
             f"workers, seed {result['seed']}",
             f"- Scenarios: {', '.join(f'{k} {v}' for k, v in result['scenarios'].items())}",
             f"- Upstream chat calls: expected {result['upstream_chat_calls']['expected']}, "
             f"seen by 1min.ai (simulator) {result['upstream_chat_calls']['seen_by_1min_sim']}",
             f"- Upstream feature calls (images, audio): expected {result['upstream_feature_calls']['expected']}, "
             f"seen {result['upstream_feature_calls']['seen_by_1min_sim']}",
             f"- Disconnects: clients {result['disconnects']['clients']}, relay marked cut short "
             f"{result['disconnects']['relay_cut_short']}",
             f"- Completion tokens reported to clients: {result['completion_tokens_reported_to_clients']}, "
             f"stored in usage records {result['usage_records']['completion_tokens_stored']}",
             f"- Usage records stored: {result['usage_records']['records']}, answers clients saw (less 413s) "
             f"{result['usage_records']['answers_seen_by_clients']}, cut short {result['usage_records']['cut_short_records']}",
             f"- Relay RSS KiB: start {result['rss_kib']['start']}, peak {result['rss_kib']['peak']}, end {result['rss_kib']['end']}",
             f"- Relay open sockets: start {result['open_sockets']['start']}, end {result['open_sockets']['end']}", "",
             "| Check | Result |", "| --- | --- |"]
    lines += [f"| {name} | {'pass' if ok else 'FAIL'} |" for name, ok in result["checks"].items()]
    if result["unexpected"]:
        lines += ["", "Unexpected answers (first 50):", ""] + [f"- `{u}`" for u in result["unexpected"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--report", type=Path, default=None, help="also write the Markdown report here")
    args = parser.parse_args()
    result = run(min(args.seconds, 900.0), args.max_requests, args.workers, args.seed)  # hard cap: 15 min
    text = render(result)
    print(text)
    print(json.dumps(result, indent=1))
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text + "\n```json\n" + json.dumps(result, indent=1) + "\n```\n")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
