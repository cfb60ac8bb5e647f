"""bench/side_by_side.py's report: medians per measure, the change, and the forwarder ratio."""
from bench.side_by_side import markdown


def _results() -> dict:
    med = {
        "before chat @64": {"cpu_ms": 2.0, "rps": 400.0, "errors": 0, "other_load": 0.0},
        "after chat @64": {"cpu_ms": 1.5, "rps": 500.0, "errors": 0, "other_load": 0.0},
        "before chat @1": {"cpu_ms": 3.0, "rps": 200.0, "errors": 0, "other_load": 0.0},
        "after chat @1": {"cpu_ms": 2.4, "rps": 250.0, "errors": 1, "other_load": 0.0},
        "forwarder chat @64": {"cpu_ms": 0.75, "rps": 900.0, "errors": 0, "other_load": 0.0},
        "floor-drf chat @64": {"cpu_ms": 1.2, "rps": 600.0, "errors": 0, "other_load": 0.0},
        "redis chat @64": {"cpu_ms": 1.75, "rps": 450.0, "errors": 0, "other_load": 0.0},
    }
    meta = {"before": "aaaa111", "after": "bbbb222", "dirty": False, "started": "2026-12-06 03:00 UTC",
            "cpu": "Test CPU", "rounds": 3, "duration_s": 8.0, "load_average_at_start": (0.1, 0, 0),
            "load_average_at_end": (0.2, 0, 0)}
    return {"meta": meta, "median": med, "runs": {}}


def test_the_table_shows_before_after_and_the_change():
    text = markdown(_results())
    assert "| Throughput, 64 connections (req/s) | 400 | 500 | +25% |" in text
    assert "| CPU per call, saturated (ms) | 2.00 | 1.50 | -25% |" in text
    assert "| CPU per call, one connection (ms) | 3.00 | 2.40 | -20% |" in text
    # Measures a run lacks are shown as missing, not invented.
    assert "| Streamed chat: CPU per call, saturated (ms) | – | – | – |" in text


def test_the_relay_is_judged_against_the_forwarder_of_the_same_run():
    text = markdown(_results())
    assert "After ÷ forwarder, CPU per call saturated: 2.00×" in text
    assert "the empty DRF view alone is 1.60× the forwarder" in text
    assert "Errors over all runs: 1." in text


def test_the_redis_configuration_is_judged_against_the_embedded_one():
    text = markdown(_results())
    assert "| redis chat | 1.75 | 450 |" in text
    assert "1.75 ms CPU per call saturated, +0.25 ms over the embedded defaults" in text
    results = _results()
    del results["median"]["redis chat @64"]  # no Redis reachable: no line rather than an invented one
    assert "REDIS_URL set" not in markdown(results)
