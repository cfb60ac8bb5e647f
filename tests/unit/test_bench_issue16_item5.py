"""The benchmark's verdict on issue 16 item 5, from hand-made results (bench/issue16_item5.py)."""
from bench.issue16_item5 import NOT_MEASURED, rows, section


def run(rps=700.0, relay=(1.0, 1.2), forwarder=(0.55, 0.6), stream=(2.1, 2.2), redis: dict | None = None):
    """Results shaped as bench.run writes them: (saturated, one connection) CPU ms per call."""
    def cpu(ms, **more):
        return {"cpu_ms_per_request": ms, **more}
    return {
        "meta": {"date": "2027-01-01"},
        "saturation": {"relay": cpu(relay[0], achieved_rps=rps), "forwarder": cpu(forwarder[0]),
                       "relay-stream": cpu(stream[0])},
        "one_connection": {"relay": cpu(relay[1]), "forwarder": cpu(forwarder[1]), "relay-stream": cpu(stream[1])},
        "relay_redis": redis if redis is not None else {"saturation": cpu(1.25), "one_connection": cpu(1.5)},
    }


def old_run():
    """A run from before item 5: no forwarder, no relay-redis."""
    results = run(rps=613.0, relay=(1.62, 2.11), stream=(2.66, 3.11))
    del results["saturation"]["forwarder"], results["one_connection"]["forwarder"], results["relay_redis"]
    results["meta"]["date"] = "2026-12-05"
    return results


def verdicts(results, before=None):
    return [row.met for row in rows(results, before)]


def test_a_run_meeting_every_target_says_yes_to_each():
    assert verdicts(run()) == [True] * 6


def test_each_target_is_judged_at_its_own_bound():
    assert verdicts(run(rps=656.0))[0] is False  # under 90% of 730
    assert verdicts(run(rps=657.0))[0] is True
    assert verdicts(run(relay=(1.2, 1.2), forwarder=(0.5, 0.6)))[1:3] == [False, True]  # 2.4× saturated, 2× one
    assert verdicts(run(relay=(1.0, 1.2), redis={"saturation": {"cpu_ms_per_request": 1.31}}))[3] is False
    assert verdicts(run(stream=(2.2, 2.21)))[4:] == [True, False]


def test_the_redis_row_shows_the_difference_it_judges():
    row = rows(run(), None)[3]
    assert row.now == "1.25 − 1.00 = +0.25 ms" and row.met is True


def test_an_older_run_says_what_it_did_not_measure():
    now = rows(old_run(), None)
    assert [row.met for row in now] == [False, None, None, None, False, False]
    assert now[1].now == f"forwarder {NOT_MEASURED} (relay 1.62 ms)"
    assert now[3].now == NOT_MEASURED


def test_the_before_column_comes_from_the_earlier_report():
    table = rows(run(), old_run())
    assert [row.before for row in table] == [
        "613 req/s (84% of 730)", "forwarder not measured (relay 1.62 ms)",
        "forwarder not measured (relay 2.11 ms)", "not measured", "2.66 ms", "3.11 ms",
    ]
    assert {row.before for row in rows(run(), None)} == {"no report"}


def test_a_run_without_redis_gives_the_reason():
    row = rows(run(redis={"skipped": "no Redis reachable"}), None)[3]
    assert row.now == f"{NOT_MEASURED}: no Redis reachable" and row.met is None


def test_the_section_is_a_table_with_one_line_per_target():
    lines: list[str] = []
    section(run(), old_run(), lines.append)
    table = [line for line in "\n".join(lines).splitlines() if line.startswith("| ")]
    assert table[0] == "| Target | Wanted | 2026-12-05 | This run | Met |"
    assert len(table) == 2 + 6 and all(line.endswith("| yes |") for line in table[2:])
