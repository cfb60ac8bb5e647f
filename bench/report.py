"""The benchmark report: Markdown tables, the targets verdict and PNG plots, from the results dict."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import issue16_item5, plots
from bench.formatting import f, ratio

TARGETS = {
    "cpu": 2.5, "rps": 350, "p50_one_connection": 2.5, "p99_at_100": 10.0, "kb_per_stream": 100,
}


def verdict(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    one, rates, sat = results["one_connection"], results["constant_rate"], results["saturation"]
    cpu = sat["relay"]["cpu_ms_per_request"]
    rps = sat["relay"]["achieved_rps"]
    added_p50 = one["relay"]["latency_ms"]["p50"] - one["direct"]["latency_ms"]["p50"]
    added_p99 = rates["relay@100"]["latency_ms"]["p99"] - rates["direct@100"]["latency_ms"]["p99"]
    streams = results["streams"]
    stream_errors = streams["requests"] - streams["ok"]
    return [
        ("CPU per request (one process, saturated)", f"≤ {TARGETS['cpu']} ms", f"{f(cpu)} ms", cpu <= TARGETS["cpu"]),
        ("Throughput (one process, 64 connections)", f"≥ {TARGETS['rps']} req/s", f"{f(rps, 0)} req/s", rps >= TARGETS["rps"]),
        ("Added latency p50, one connection", f"≤ {TARGETS['p50_one_connection']} ms", f"{f(added_p50)} ms", added_p50 <= TARGETS["p50_one_connection"]),
        ("Added latency p99 at 100 req/s constant", f"≤ {TARGETS['p99_at_100']} ms", f"{f(added_p99)} ms", added_p99 <= TARGETS["p99_at_100"]),
        ("1,000 concurrent streams: memory each", f"< {TARGETS['kb_per_stream']} KB", f"{f(streams['kb_per_stream'], 1)} KB", streams["kb_per_stream"] < TARGETS["kb_per_stream"]),
        ("1,000 concurrent streams: all open at once, no errors", "1,000 open, 0 errors",
         f"{streams['concurrent_at_peak']:,} open, {stream_errors} errors",
         stream_errors == 0 and streams["concurrent_at_peak"] == streams["streams"]),
    ]


def _lat_row(name: str, s: dict[str, Any], key: str = "latency_ms") -> str:
    l = s[key]
    return f"| {name} | {f(l['p50'])} | {f(l['p95'])} | {f(l['p99'])} | {f(s.get('cpu_ms_per_request'))} | {f(s['achieved_rps'], 0)} | {s['requests'] - s['ok']} |"


def write(results: dict[str, Any], stem: Path) -> None:
    images = plots.draw(results, stem)
    meta, one, rates, sat = results["meta"], results["one_connection"], results["constant_rate"], results["saturation"]
    out: list[str] = []
    add = out.append
    add(f"# Relay overhead benchmark, {meta['date']}\n")
    add("Non-streaming and streaming chat (`gpt-4o-mini`, a one-line prompt) through the relay, against the "
        "1min.ai simulator answering instantly in its own process; *direct* is the same request sent to the "
        "simulator without the relay, *floor* an empty async view under daphne (bench/floor_app.py), "
        "*forwarder* a bare ASGI app under daphne that forwards the direct request through the relay's upstream "
        "transport (bench/forwarder_app.py), *relay-redis* the relay with `REDIS_URL` set. Added latency = relay percentile − direct percentile at the same load.\n")
    add("## Targets (one daphne process, non-streaming short chat)\n")
    add("| Target | Wanted | Measured | Met |\n| --- | --- | --- | --- |")
    for name, wanted, measured, met in verdict(results):
        add(f"| {name} | {wanted} | {measured} | {'yes' if met else '**no**'} |")
    add("")
    issue16_item5.section(results, issue16_item5.load_before(), add)
    add("## Setup\n")
    add(f"- Machine: {meta['cpu']}, {meta['cores']} cores; Python {meta['python']}, Django {meta['django']}, "
        f"daphne {meta['daphne']}, httpx {meta['httpx']}; commit {meta['commit']}.")
    add(f"- Load average at start {', '.join(f(x) for x in meta['load_average_at_start'])}, at end "
        f"{', '.join(f(x) for x in meta.get('load_average_at_end', []))}. Each table's *other load* column is CPU "
        "used meanwhile by processes outside the benchmark (other work on this shared machine), in cores.")
    add("- The relay runs as `make run` runs it: `python -m daphne -b 127.0.0.1 -p PORT relay_site.asgi:application` "
        "(plain logs, daphne's access log to a file, SQLite, in-process cache, rate limits and usage records on "
        "with limits too high to bind), pinned to CPU 0 (the floor too, "
        "measured at other times); the simulator and the load generator (asyncio, httpx over aiohttp, the transport of api/upstream/onemin_transport.py, keep-alive connections; httpx's own pool could not drive 64 connections) "
        "share CPU 1. The whole-machine runs use `make run WEB_CONCURRENCY=2` (two workers, Redis), nothing pinned.")
    add("- Each run uses a fresh load-generator client, so connections left by one run do not slow the next.\n"
        "- Latency is measured from the moment a request was scheduled to leave (open loop at a constant rate), "
        "so a server that falls behind shows its queue. CPU per request is the server process's user+system CPU "
        "time over the run divided by the requests sent.\n")

    add("## One connection (requests back to back)\n")
    add("| Endpoint | p50 ms | p95 ms | p99 ms | CPU ms/req | req/s | errors |\n| --- | --- | --- | --- | --- | --- | --- |")
    redis = results.get("relay_redis") or {}
    for name in ("direct", "forwarder", "relay", "relay-redis", "floor-drf", "floor-django"):
        measured = redis.get("one_connection") if name == "relay-redis" else one.get(name)
        if measured:  # runs before issue 16 item 5 have no forwarder or relay-redis
            add(_lat_row(name, measured))
    for name in ("direct-stream", "relay-stream"):
        add(_lat_row(f"{name} (last byte)", one[name]))
        add(_lat_row(f"{name} (first byte)", one[name], "ttfb_ms"))
    r, d, fl = one["relay"]["latency_ms"], one["direct"]["latency_ms"], one["floor-drf"]["latency_ms"]
    add(f"\nAdded latency p50 {f(r['p50'] - d['p50'])} ms, p99 {f(r['p99'] - d['p99'])} ms; the relay's own "
        f"`x-relay-overhead-ms` p50 {f(one['relay']['relay_overhead_header_ms']['p50'])} ms. Relay latency is "
        f"{ratio(r['p50'], fl['p50'])} the floor's at p50; CPU per request {ratio(one['relay'].get('cpu_ms_per_request'), one['floor-drf'].get('cpu_ms_per_request'))} the floor's.\n")

    add("## Overhead at a constant rate, non-streaming\n")
    add(f"![added latency]({images['overhead'].name})\n")
    add("| Offered req/s | direct p50/p95/p99 ms | relay p50/p95/p99 ms | added p50/p95/p99 ms | relay header overhead p50/p99 ms | relay CPU ms/req | floor p50/p99 ms | floor CPU ms/req | errors | other load |")
    add("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for rate in (50, 100, 200, 500):
        dr, rr, fr = rates[f"direct@{rate}"], rates[f"relay@{rate}"], rates[f"floor-drf@{rate}"]
        a, b = rr["latency_ms"], dr["latency_ms"]
        add(f"| {rate} | {f(b['p50'])} / {f(b['p95'])} / {f(b['p99'])} | {f(a['p50'])} / {f(a['p95'])} / {f(a['p99'])} | "
            f"{f(a['p50'] - b['p50'])} / {f(a['p95'] - b['p95'])} / {f(a['p99'] - b['p99'])} | "
            f"{f(rr['relay_overhead_header_ms']['p50'])} / {f(rr['relay_overhead_header_ms']['p99'])} | {f(rr.get('cpu_ms_per_request'))} | "
            f"{f(fr['latency_ms']['p50'])} / {f(fr['latency_ms']['p99'])} | {f(fr.get('cpu_ms_per_request'))} | "
            f"{rr['requests'] - rr['ok']} | {f(rr['other_load_cores'])} |")
    add("\nAt low rates CPU per request is higher for the empty floor view as much as for the relay: each "
        "request wakes an idle process, and daphne's own timers run in between, so the saturated figure "
        "(Throughput, below) is what a request itself costs.\n")
    add("## Overhead at a constant rate, streaming\n")
    add(f"![streaming]({images['streaming'].name})\n")
    add("| Offered req/s | added first byte p50/p95/p99 ms | added last byte p50/p95/p99 ms | relay first byte p99 ms | relay last byte p99 ms | relay CPU ms/req | errors |")
    add("| --- | --- | --- | --- | --- | --- | --- |")
    for rate in (50, 200, 500):
        rr, dr = rates[f"relay-stream@{rate}"], rates[f"direct-stream@{rate}"]
        t = {k: rr["ttfb_ms"][k] - dr["ttfb_ms"][k] for k in ("p50", "p95", "p99")}
        l = {k: rr["latency_ms"][k] - dr["latency_ms"][k] for k in ("p50", "p95", "p99")}
        add(f"| {rate} | {f(t['p50'])} / {f(t['p95'])} / {f(t['p99'])} | {f(l['p50'])} / {f(l['p95'])} / {f(l['p99'])} | "
            f"{f(rr['ttfb_ms']['p99'])} | {f(rr['latency_ms']['p99'])} | {f(rr.get('cpu_ms_per_request'))} | {rr['requests'] - rr['ok']} |")
    add("")
    add("## Throughput\n")
    add("Saturated (64 connections back to back, keep-alive):\n")
    add("| Endpoint | req/s | CPU ms/req | p50 ms | p99 ms | errors | ratio to floor (req/s) |\n| --- | --- | --- | --- | --- | --- | --- |")
    for name in ("relay", "relay-redis", "relay-stream", "floor-drf", "floor-django", "forwarder", "direct"):
        s = redis.get("saturation") if name == "relay-redis" else sat.get(name)
        if not s:
            continue
        add(f"| {name} | {f(s['achieved_rps'], 0)} | {f(s.get('cpu_ms_per_request'))} | {f(s['latency_ms']['p50'])} | "
            f"{f(s['latency_ms']['p99'])} | {s['requests'] - s['ok']} | {ratio(s['achieved_rps'], sat['floor-drf']['achieved_rps'])} |")
    machine = results.get("machine", {})
    if "saturation" in machine:
        s = machine["saturation"]
        add(f"| relay, 2 workers (whole machine) | {f(s['achieved_rps'], 0)} | {f(s.get('cpu_ms_per_request'))} | "
            f"{f(s['latency_ms']['p50'])} | {f(s['latency_ms']['p99'])} | {s['requests'] - s['ok']} | – |")
    add("")
    if "saturation" in machine:
        add("The two-worker rows measure this machine, not how the relay scales: with 2 cores, the load "
            "generator and the simulator take most of a core themselves at these rates, so two workers "
            "share the cores with them (the one-process rows give each side its own core).\n")
    add(f"Highest constant rate with p99 under 50 ms (steps of 50 req/s, then 25; 5 s each):\n")
    add(f"![p99 search]({images['search'].name})\n")
    add("| Endpoint | highest rate, p99 < 50 ms |\n| --- | --- |")
    for name, s in results["p99_search"].items():
        add(f"| {name} (one process) | {s['best_rps']} req/s |")
    if "p99_search" in machine:
        add(f"| relay, whole machine (2 workers) | {machine['p99_search']['best_rps']} req/s |")
    elif machine.get("skipped"):
        add(f"| relay, whole machine | not measured: {machine['skipped']} |")
    add("")
    if results.get("transport_httpx"):
        _transport_section(results, add)
    _streams_section(results["streams"], images, add)
    if results.get("profile"):
        _profile_section(results["profile"], add)
    add("## Reproduce\n")
    add("```sh\nmake bench            # = .venv/bin/python -m bench.run  (about 11 minutes; needs bench/requirements.txt)\n"
        f".venv/bin/python -m bench.run --from-json bench/reports/{stem.name}.json   # redraw this report\n```\n")
    stem.with_suffix(".md").write_text("\n".join(out) + "\n")


def _transport_section(results: dict[str, Any], add) -> None:
    aio_one, aio_sat = results["one_connection"]["relay"], results["saturation"]["relay"]
    httpx_one, httpx_sat = results["transport_httpx"]["one_connection"], results["transport_httpx"]["saturation"]
    add("## Upstream transport: aiohttp vs httpx's own\n")
    add("The same relay with `UPSTREAM_TRANSPORT=httpx` (httpx's httpcore transport, the fallback) against the "
        "default `aiohttp` one (api/upstream/onemin_transport.py), each measured alone on CPU 0:\n")
    add("| Transport | one connection p50 ms | CPU ms/req (one connection) | saturated req/s | CPU ms/req (saturated) |")
    add("| --- | --- | --- | --- | --- |")
    for name, one, sat in (("aiohttp (default)", aio_one, aio_sat), ("httpx", httpx_one, httpx_sat)):
        add(f"| {name} | {f(one['latency_ms']['p50'])} | {f(one.get('cpu_ms_per_request'))} | "
            f"{f(sat['achieved_rps'], 0)} | {f(sat.get('cpu_ms_per_request'))} |")
    add("")


def _streams_section(s: dict[str, Any], images: dict[str, Path], add) -> None:
    add(f"## {s['streams']:,} concurrent open streams\n")
    add(f"![streams]({images['streams'].name})\n")
    add(f"The simulator was slowed to one event per 1.5 s, so each stream stays open about 40 s; the load generator "
        f"started {s['streams']:,} streams over 4 s. Memory is read when every stream has had its first byte.\n")
    add("| Measure | Value |\n| --- | --- |")
    add(f"| Streams that got their first byte | {s['opened']:,} of {s['streams']:,} (all after {s['all_open_after_s']} s) |")
    add(f"| Open at the same time when memory was read | {s['concurrent_at_peak']:,} |")
    add(f"| Completed without error | {s['ok']:,} (errors: {s['errors'] or 'none'}) |")
    add(f"| Relay RSS before / with all open | {s['baseline_rss'] / 2**20:.1f} MiB / {s['peak_rss'] / 2**20:.1f} MiB |")
    add(f"| Memory per stream (RSS delta / streams open) | {f(s['kb_per_stream'], 1)} KB |")
    ramp, hold = s["loop_lag_ramp"], s["loop_lag_hold"]
    add(f"| Event-loop lag while opening (p50 / p99 / max, bucket bounds) | ≤ {f(ramp['p50_le_ms'], 1)} / ≤ {f(ramp['p99_le_ms'], 1)} / ≤ {f(ramp['p100_le_ms'], 1)} ms ({ramp['samples']} samples) |")
    add(f"| Event-loop lag while holding | ≤ {f(hold['p50_le_ms'], 1)} / ≤ {f(hold['p99_le_ms'], 1)} / ≤ {f(hold['p100_le_ms'], 1)} ms ({hold['samples']} samples) |")
    h = s["healthz_during_hold_ms"]
    add(f"| `/healthz` latency while holding (p50 / max) | {f(h['p50'])} / {f(h['max'])} ms |")
    add("")


def _profile_section(p: dict[str, Any], add) -> None:
    add("## Where the time goes\n")
    add(f"py-spy sampled the relay's event-loop thread while saturated ({p['samples']} samples, "
        f"{f(p['achieved_rps'], 0)} req/s, {f(p['cpu_ms_per_request'])} ms CPU per request). Self time by component "
        "(the component of the innermost Python frame; time in a system call counts for the Python function making it):\n")
    add("| Component | share | ≈ ms per request |\n| --- | --- | --- |")
    for name, share in p["by_component"].items():
        add(f"| {name} | {share * 100:.1f}% | {share * p['cpu_ms_per_request']:.2f} |")
    add("\nHottest functions (self time):\n")
    add("| Function | share |\n| --- | --- |")
    for frame, share in p["top_leaves"][:15]:
        add(f"| `{frame}` | {share * 100:.1f}% |")
    add("\nInclusive time of the main callers:\n")
    add("| Function | share |\n| --- | --- |")
    for frame, share in p["top_inclusive"][:20]:
        add(f"| `{frame}` | {share * 100:.1f}% |")
    add("")
