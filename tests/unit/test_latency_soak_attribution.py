"""The latency soak names where a slow request lost its time (bench/soak_attribution.py)."""
import pytest

from bench.soak_attribution import OUTSIDE, RELAY, STARVED, attribute, causes_between, probe_events


@pytest.mark.parametrize(
    "case, excess, overhead_extra, loop_cpu_extra, loop_wait, client_wait, simulator_wait, kind, shares",
    [
        ("a collection on the relay's loop, counted by its overhead clock",
         60, 58, 57, 0, 1, 0, RELAY, (1, 58, 1)),
        ("a collection on the relay's loop while 1min.ai was awaited: only the loop's CPU shows it",
         60, 0, 55, 0, 0, 0, RELAY, (0, 55, 5)),
        ("the relay's loop runnable but without a CPU: its overhead clock ran, its work did not",
         60, 58, 0, 57, 0, 0, STARVED, (57, 1, 2)),
        ("the client and simulator without a CPU",
         60, 0, 0, 0, 30, 25, STARVED, (55, 0, 5)),
        ("nothing the relay or the scheduler explains",
         60, 0, 1, 0, 2, 0, OUTSIDE, (2, 1, 57)),
        ("waits longer than the excess are capped at it",
         40, 0, 0, 30, 30, 0, STARVED, (40, 0, 0)),
    ],
)
def test_it_splits_the_excess_and_names_the_largest_share(
        case, excess, overhead_extra, loop_cpu_extra, loop_wait, client_wait, simulator_wait, kind, shares):
    share = attribute(excess, overhead_extra, loop_cpu_extra, loop_wait, client_wait, simulator_wait)
    assert share.kind == kind, case
    assert (share.starved_ms, share.relay_ms, share.outside_ms) == pytest.approx(shares), case


def test_it_names_the_probe_events_that_overlap_the_request(tmp_path):
    log = tmp_path / "probe.log"
    log.write_text(
        "100.000 0.015 gen-2 GC (1500 collected)\n"
        "99.000 0.020 loop callback (task ApiHandler.handle.<locals>.process_request, 19 ms CPU)\n"
        "100.500 0.012 gen-1 GC (10 collected) on thread asyncio_0\n"
    )
    events = probe_events(log)
    assert causes_between(events, 100.010, 100.070) == ["gen-2 GC (1500 collected) 15 ms"]
    assert causes_between(events, 99.010, 99.030) == [
        "loop callback (task ApiHandler.handle.<locals>.process_request, 19 ms CPU) 20 ms"]
    assert causes_between(events, 100.2, 100.3) == []


def test_a_run_without_the_probe_has_no_events(tmp_path):
    assert probe_events(tmp_path / "absent.log") == []


def test_the_report_counts_the_causes_and_explains_each_slow_request():
    from bench.latency_soak import markdown

    slow = {"at_s": 132.55, "ms": 64.8, "cause": RELAY, "relay_overhead_ms": 58.1, "relay_loop_cpu_ms": 60.2,
            "relay_loop_wait_ms": 0.4, "relay_workers_cpu_ms": 0.9, "client_cpu_ms": 2.0, "client_wait_ms": 0.5,
            "shares_ms": {"starved": 0.9, "relay": 56.6, "outside": 0.8},
            "relay_events": ["gen-2 GC (1500 collected) 55 ms"]}
    result = {"minutes": 10, "rate": 50, "requests": 29941, "non_200": 0, "median_ms": 6.5, "p99_ms": 17.6,
              "p999_ms": 27.7, "max_ms": 64.8, "median_overhead_ms": 1.5, "median_loop_cpu_ms": 3.9,
              "over_median_plus_50ms": [slow], "gen2_collections": 50, "attributed": True, "probe": True,
              "machine": {"cpus": 2, "load_average_before": 0.4, "load_average_after": 0.5, "busy_cpus": 0.5,
                          "soak_cpus": 0.4, "other_cpus": 0.1},
              "target_met": False}
    text = markdown(result)
    assert "- 1 inside the relay (its own work)\n- 0 CPU taken by other processes" in text
    assert "- 132.55 s: 64.8 ms (inside the relay (its own work); relay overhead 58.1 ms" in text
    assert "in the relay: gen-2 GC (1500 collected) 55 ms)" in text
    assert "0.1 by other processes" in text
