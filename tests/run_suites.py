"""`make test`: the suite on the embedded backends, then again on PostgreSQL and Redis.

Where PostgreSQL or Redis does not answer, the shared run is skipped with a loud warning,
except under CI=true, where their absence fails the run.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
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


def _pytest(label: str, env: dict[str, str], args: list[str]) -> tuple[int, dict[str, int]]:
    _banner(f"{label}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    last = ""
    for line in proc.stdout:  # type: ignore[union-attr]
        sys.stdout.write(line)
        last = line if line.strip() else last
    proc.wait()
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", last):
        counts["error" if word.startswith("error") else word] += int(number)
    return proc.returncode, counts


def main(args: list[str]) -> int:
    ci = os.environ.get("CI", "").lower() == "true"
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    results = []
    results.append(_pytest("Suite 1/2: embedded backends (SQLite, in-process cache)", base, args))

    problems = [p for p in (_postgres_ok(), _redis_ok()) if p]
    if problems:
        _banner("!!! SHARED-BACKEND SUITE NOT RUN !!!\n" + "\n".join(problems))
        if ci:
            print("CI=true: PostgreSQL and Redis are required; failing.", flush=True)
            return 1
    else:
        run_id = uuid.uuid4().hex[:8]
        e2e_db = f"relay_e2e_{run_id}"
        env = dict(base)
        pg = PG_ADMIN_URL.rsplit("/", 1)[0]
        env.update(
            {
                # pytest-django creates test_<name> itself; the daphne processes use e2e_db.
                "DATABASE_URL": f"{pg}/relay_{run_id}",
                "RELAY_TEST_E2E_DATABASE_URL": f"{pg}/{e2e_db}",
                "REDIS_URL": REDIS_TEST_URL,
                "CACHE_KEY_PREFIX": f"relay-test-{run_id}",
            }
        )
        _with_database(e2e_db, "CREATE")
        try:
            # Pure unit, simulator and schema tests touch no backend: they ran in suite 1.
            shared_args = args if any(not a.startswith("-") for a in args) else [*args, *BACKEND_TESTS]
            results.append(_pytest("Suite 2/2: shared backends (PostgreSQL, Redis)", env, shared_args))
        finally:
            _with_database(e2e_db, "DROP")

    passed = sum(c["passed"] for _, c in results)
    failed = sum(c["failed"] + c["error"] for _, c in results)
    skipped = sum(c["skipped"] for _, c in results)
    code = 0 if all(rc == 0 for rc, _ in results) else 1
    print(f"\n{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
