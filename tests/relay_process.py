"""Runs the relay under daphne in a subprocess, as production does, for end-to-end tests."""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RelayProcess:
    """One daphne process serving relay_site.asgi:application on a free loopback port."""

    def __init__(self, env: dict[str, str], log_dir: Path, backlog: int | None = None) -> None:
        self.port = free_port()
        self.backlog = backlog
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_dir / f"relay-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> "RelayProcess":
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        try:
            return self._wait_until_it_answers(timeout)
        except BaseException:  # a failed or interrupted start leaves no process behind
            self.stop()
            raise

    def _wait_until_it_answers(self, timeout: float) -> "RelayProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.logs()}")
            try:
                if httpx.get(self.url + "/", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)  # polling a starting server, not synchronising a test
        raise RuntimeError(f"daphne did not answer within {timeout}s:\n{self.logs()}")

    def command(self) -> list[str]:
        if self.backlog is None:
            listen = ["-b", "127.0.0.1", "-p", str(self.port)]
        else:  # daphne's endpoint form: -b/-p listen with Twisted's default backlog, 50
            listen = ["-e", f"tcp:port={self.port}:interface=127.0.0.1:backlog={self.backlog}"]
        return [sys.executable, "-m", "daphne", *listen, "relay_site.asgi:application"]

    def logs(self) -> str:
        if not self.log.closed:  # still running; after stop() the file is complete
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "log"):
            self.log.close()


def migrate(env: dict[str, str]) -> None:
    """Bring env's database to the current schema. A new SQLite file is a copy of one migrated once
    per test run: `migrate` costs a Django start (5-6 s of CPU here) and most relays get a file of
    their own. Where MODEL_ALIASES is set the real command runs, as its seeds come from `migrate`."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:///") and not env.get("MODEL_ALIASES", "").strip():
        target = Path(url.removeprefix("sqlite:///"))
        if not target.exists():
            shutil.copyfile(_migrated_sqlite(env), target)
            return
    _run_migrate(env)


def _run_migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True,
    )


_template: list[Path] = []


def _migrated_sqlite(env: dict[str, str]) -> Path:
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="relay-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "migrated.sqlite3"
        _run_migrate({**env, "DATABASE_URL": f"sqlite:///{path}", "MODEL_ALIASES": ""})
        _template.append(path)
    return _template[0]


def base_env(sim_url: str, workdir: Path) -> dict[str, str]:
    """Environment for a relay process talking to the simulator, on the suite's backends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "relay_site.settings",
            "ONE_MIN_BASE_URL": sim_url,
            "ONE_MIN_ASSET_CDN_URL": f"{sim_url}/cdn",
            "IMAGE_FETCH_ALLOW_PRIVATE": "true",
            "UPSTREAM_READ_TIMEOUT": "10",
            # Retries keep their real backoff logic, scaled down so fault tests stay quick.
            "UPSTREAM_RETRY_BASE_DELAY": "0.05",
            "CACHE_KEY_PREFIX": f"relay-test-{os.getpid()}-{time.monotonic_ns()}",
            "PYTHONUNBUFFERED": "1",
            # Many relay processes live through a session: none may keep idle PostgreSQL
            # connections, or the server runs out of slots (max_connections).
            "DATABASE_CONN_MAX_AGE": "0",
            # Generous limits so tests of other things are never throttled; limit tests lower them.
            "RATE_LIMIT_REQUESTS_PER_MINUTE": "100000",
            "RATE_LIMIT_TOKENS_PER_MINUTE": "100000000",
            "RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE": "100000",
        }
    )
    shared_db = os.environ.get("RELAY_TEST_E2E_DATABASE_URL")
    if shared_db:
        env["DATABASE_URL"] = shared_db
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / f'relay-{time.monotonic_ns()}.sqlite3'}"
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


def new_workdir() -> Path:
    """A folder for relay logs and SQLite files, removed when the test run ends (KEEP_RELAY_LOGS=1
    keeps them to read after a failure)."""
    folder = Path(tempfile.mkdtemp(prefix="relay-e2e-"))
    if not os.environ.get("KEEP_RELAY_LOGS"):
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
