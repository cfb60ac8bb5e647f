"""`make test`: the suite on the embedded backends and, beside it, again on PostgreSQL and Redis.

The two runs share nothing (their own databases, cache prefixes and ports), so on a machine with
two or more cores they run at the same time: each keeps about one core busy (a pytest process
waiting on its relay), and together they finish in little more than the longer one's time. The
second run's output is held and printed after the first's. RELAY_TEST_SERIAL=1 runs them one after
the other. Where PostgreSQL or Redis does not answer, the shared run is skipped with a loud warning,
except under CI=true, where their absence fails the run.
"""
from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Everything that touches the database or Redis (the rest ran in suite 1 and is backend-free).
BACKEND_TESTS = ["tests/e2e", "tests/operations", "tests/unit/test_response_store.py", "tests/unit/test_counters.py",
                 "tests/unit/test_failed_key_lookups.py"]
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _banner(text: str) -> None:
    line = "=" * 78
    print(f"\n{line}\n{text}\n{line}", flush=True)


def _postgres_ok() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as error:  # noqa: BLE001
        return f"PostgreSQL at {PG_ADMIN_URL} does not answer: {error}"


def _redis_ok() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as error:  # noqa: BLE001
        return f"Redis at {REDIS_TEST_URL} does not answer: {error}"


def _with_database(name: str, action: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'{action} DATABASE "{name}"' + (" WITH (FORCE)" if action.startswith("DROP") else ""))


class _Suite:
    """One pytest run in a subprocess; its output is kept until `report` prints it."""

    def __init__(self, label: str, env: dict[str, str], args: list[str]) -> None:
        self.label = label
        # pytest's tmp_path folders go here, not to /tmp/pytest-of-<user> (which pytest keeps):
        # removed when the run ends (KEEP_RELAY_LOGS=1 keeps them, like the relays' logs).
        self.basetemp = tempfile.mkdtemp(prefix="relay-pytest-")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", f"--basetemp={self.basetemp}", *args], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self._lines.put(line)
        self._lines.put(None)

    def report(self) -> tuple[int, dict[str, int]]:
        """Print the run's output (what it held so far, then live) and return its status and counts."""
        _banner(self.label)
        last = ""
        while (line := self._lines.get()) is not None:
            sys.stdout.write(line)
            last = line if line.strip() else last
        sys.stdout.flush()
        counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
        for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", last):
            counts["error" if word.startswith("error") else word] += int(number)
        return self.proc.wait(), counts

    def stop(self) -> None:
        # As one Ctrl-C (a terminal's own reached it already if it stops within 5 s): pytest tears
        # its fixtures down, relay processes and its test database included.
        for nudge, wait in ((None, 5), (signal.SIGINT, 60), (signal.SIGKILL, None)):
            if self.proc.poll() is not None:
                return
            if nudge:
                self.proc.send_signal(nudge)
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass

    def remove_files(self) -> None:
        if not os.environ.get("KEEP_RELAY_LOGS"):
            shutil.rmtree(self.basetemp, ignore_errors=True)


def _shared_env(base: dict[str, str], run_id: str) -> dict[str, str]:
    pg = PG_ADMIN_URL.rsplit("/", 1)[0]
    return {
        **base,
        # pytest-django creates test_<name> itself; the daphne processes use the e2e database.
        "DATABASE_URL": f"{pg}/relay_{run_id}",
        "RELAY_TEST_E2E_DATABASE_URL": f"{pg}/relay_e2e_{run_id}",
        "REDIS_URL": REDIS_TEST_URL,
        "CACHE_KEY_PREFIX": f"relay-test-{run_id}",
    }


def main(args: list[str]) -> int:
    ci = os.environ.get("CI", "").lower() == "true"
    serial = os.environ.get("RELAY_TEST_SERIAL", "") == "1" or (os.cpu_count() or 1) < 2
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    problems = [p for p in (_postgres_ok(), _redis_ok()) if p]
    if problems and ci:
        _banner("!!! SHARED-BACKEND SUITE CANNOT RUN !!!\n" + "\n".join(problems))
        print("CI=true: PostgreSQL and Redis are required; failing.", flush=True)
        return 1
    # Pure unit, simulator and schema tests touch no backend: suite 1 runs them once. Arguments naming
    # tests run on both; option values (`-p no:cacheprovider`) name none.
    names_tests = any((ROOT / a.split("::")[0]).exists() for a in args if not a.startswith("-"))
    shared_args = args if names_tests else [*args, *BACKEND_TESTS]
    run_id = uuid.uuid4().hex[:8]
    if not problems:
        _with_database(f"relay_e2e_{run_id}", "CREATE")
    plans = [("Suite 1/2: embedded backends (SQLite, in-process cache)", base, args)]
    if not problems:
        plans.append(("Suite 2/2: shared backends (PostgreSQL, Redis)", _shared_env(base, run_id), shared_args))
    suites: list[_Suite] = []
    results = []
    try:
        for plan in plans:
            suites.append(_Suite(*plan))
            if serial:
                results.append(suites[-1].report())
        if not serial:
            results = [suite.report() for suite in suites]
    finally:
        for suite in suites:
            suite.stop()
            suite.remove_files()
        if not problems:
            _with_database(f"relay_e2e_{run_id}", "DROP")
    if problems:
        _banner("!!! SHARED-BACKEND SUITE NOT RUN !!!\n" + "\n".join(problems))

    passed = sum(c["passed"] for _, c in results)
    failed = sum(c["failed"] + c["error"] for _, c in results)
    skipped = sum(c["skipped"] for _, c in results)
    code = 0 if len(results) == len(suites) and all(rc == 0 for rc, _ in results) else 1
    print(f"\n{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return code


if __name__ == "__main__":
    # A stopped run (CI's timeout, kill) still stops its pytest processes and drops its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main(sys.argv[1:]))
