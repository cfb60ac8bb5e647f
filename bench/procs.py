"""The processes a benchmark run starts (simulator, relay, floor, forwarder), each pinned and measured."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A server subprocess on a loopback port, optionally pinned to CPUs."""

    def __init__(self, name: str, argv: list[str], port: int, env: dict[str, str], log_dir: Path,
                 cpus: list[int] | None = None, ready_path: str = "/") -> None:
        self.name, self.argv, self.port, self.env = name, argv, port, env
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self.cpus, self.ready_path = cpus, ready_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "Proc":
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        if self.cpus is not None:
            psutil.Process(self.proc.pid).cpu_affinity(self.cpus)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=1.0).status_code < 500:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {timeout}s; see {self.log_path}")

    def processes(self) -> list[psutil.Process]:
        """The server process and its children (the launcher's daphne workers)."""
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.processes():
            try:
                times = p.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in self.processes())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "log"):
            self.log.close()


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat), to spot other load."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def simulator(log_dir: Path, cpus: list[int] | None) -> Proc:
    port = free_port()
    argv = [PY, "-m", "tests.onemin_simulator", "--port", str(port)]
    return Proc("simulator", argv, port, dict(os.environ), log_dir, cpus, ready_path="/models?feature=x")


def relay_env(sim: Proc, workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(
        DJANGO_SETTINGS_MODULE="relay_site.settings",
        ONE_MIN_BASE_URL=sim.url,
        ONE_MIN_ASSET_CDN_URL=f"{sim.url}/cdn",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        CACHE_KEY_PREFIX=f"bench-{os.getpid()}-{time.monotonic_ns()}",
        PYTHONUNBUFFERED="1",
        # Limits stay on (their admission cost is part of every call) but never bind the load.
        RATE_LIMIT_REQUESTS_PER_MINUTE="100000000",
        RATE_LIMIT_TOKENS_PER_MINUTE="100000000000",
    )
    env.update(extra)
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def relay(name: str, env: dict[str, str], log_dir: Path, cpus: list[int] | None) -> Proc:
    """One daphne process, started exactly as `make run` starts it."""
    port = free_port()
    argv = [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "relay_site.asgi:application"]
    return Proc(name, argv, port, env, log_dir, cpus, ready_path="/healthz")


def relay_workers(name: str, env: dict[str, str], workers: int, log_dir: Path) -> Proc:
    """`make run WEB_CONCURRENCY=N`: the launcher and its N daphne workers, unpinned."""
    port = free_port()
    argv = [PY, "-m", "relay_site.serve", "-b", "127.0.0.1", "-p", str(port), "--workers", str(workers)]
    return Proc(name, argv, port, env, log_dir, None, ready_path="/healthz")


def floor(log_dir: Path, cpus: list[int] | None) -> Proc:
    port = free_port()
    argv = [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "bench.floor_app:application"]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return Proc("floor", argv, port, env, log_dir, cpus, ready_path="/floor/none")


def forwarder(log_dir: Path, cpus: list[int] | None, upstream_url: str) -> Proc:
    """The bare forwarder (bench/forwarder_app.py) under daphne, relaying to `upstream_url`."""
    port = free_port()
    argv = [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "bench.forwarder_app:application"]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["FORWARDER_UPSTREAM_URL"] = upstream_url
    return Proc("forwarder", argv, port, env, log_dir, cpus, ready_path="/")
