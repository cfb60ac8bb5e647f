"""`python -m relay_site.serve`: WEB_CONCURRENCY daphne processes sharing one listening socket.

The socket is bound once here and handed to each daphne worker (`--fd`), so the kernel spreads
connections over the workers. More than one worker needs REDIS_URL: limits, usage and the model
cache must be shared. Workers that die are restarted; SIGTERM or SIGINT stops them all.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APPLICATION = "relay_site.asgi:application"
ROOT = Path(__file__).resolve().parent.parent
QUICK_EXIT_SECONDS = 5.0  # a worker that dies sooner than this after starting is failing to start
MAX_QUICK_EXITS = 5


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m relay_site.serve", description=__doc__)
    parser.add_argument("-b", "--bind", default=os.environ.get("HOST", "127.0.0.1"), help="address to listen on")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("PORT", "8787")))
    parser.add_argument(
        "-w", "--workers", type=int, default=None,
        help="daphne processes (default: WEB_CONCURRENCY, else 1)",
    )
    parser.add_argument("--backlog", type=int, default=2048)
    return parser.parse_known_args(argv)  # anything else goes to every daphne worker


def _workers(value: int | None) -> int:
    if value is None:
        raw = os.environ.get("WEB_CONCURRENCY", "").strip()
        try:
            value = int(raw) if raw else 1
        except ValueError:
            raise SystemExit(f"WEB_CONCURRENCY must be a whole number, not {raw!r}") from None
    if value < 1:
        raise SystemExit(f"WEB_CONCURRENCY must be at least 1, not {value}")
    return value


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=backlog)
    sock.set_inheritable(True)
    return sock


def _metrics_dir() -> tuple[Path, bool]:
    """PROMETHEUS_MULTIPROC_DIR emptied of a previous run's samples, or a fresh one (ours to delete)."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not configured:
        return Path(tempfile.mkdtemp(prefix="relay-metrics-")), True
    path = Path(configured)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path, False


class Supervisor:
    def __init__(self, sock: socket.socket, count: int, env: dict[str, str], extra: list[str]) -> None:
        fd = sock.fileno()
        binding = ["--fd", str(fd)] if sock.family == socket.AF_INET else ["-e", f"fd:fileno={fd}:domain=INET6"]
        # -v 0: daphne's plain access log off; the relay's own ACCESS_LOG line replaces it.
        self.command = [sys.executable, "-m", "daphne", *binding, "-v", "0", *extra, APPLICATION]
        self.sock, self.count, self.env = sock, count, env
        self.workers: list[tuple[subprocess.Popen, float] | None] = [None] * count
        self.stopping = False
        self.quick_exits = 0

    def spawn(self, index: int) -> None:
        proc = subprocess.Popen(self.command, cwd=ROOT, env=self.env, pass_fds=(self.sock.fileno(),))
        self.workers[index] = (proc, time.monotonic())
        print(f"relay_site.serve: worker {index + 1}/{self.count} started (pid {proc.pid})", file=sys.stderr, flush=True)

    def run(self) -> int:
        for index in range(self.count):
            self.spawn(index)
        while not self.stopping:
            for index, entry in enumerate(self.workers):
                if entry is None or entry[0].poll() is None:
                    continue
                proc, started = entry
                _forget_metrics_of(proc.pid)
                if self.stopping:
                    break
                quick = time.monotonic() - started < QUICK_EXIT_SECONDS
                self.quick_exits = self.quick_exits + 1 if quick else 0
                print(f"relay_site.serve: worker pid {proc.pid} exited with {proc.returncode}", file=sys.stderr, flush=True)
                if self.quick_exits >= MAX_QUICK_EXITS:
                    print("relay_site.serve: workers keep failing at start; giving up", file=sys.stderr, flush=True)
                    self.stop()
                    return 1
                self.spawn(index)
            time.sleep(0.2)  # supervision tick: nothing here is on a request's path
        return 0

    def stop(self, *_: object) -> None:
        self.stopping = True
        # The workers stop listening on SIGTERM; while this process still held its copy of the
        # socket, new connections would queue unanswered instead of being refused.
        self.sock.close()
        procs = [entry[0] for entry in self.workers if entry is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        # Each worker lets in-flight streams finish for SHUTDOWN_GRACE_SECONDS on SIGTERM.
        deadline = time.monotonic() + _grace_seconds() + 5
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _grace_seconds() -> float:
    try:
        return float(os.environ.get("SHUTDOWN_GRACE_SECONDS") or 20)
    except ValueError:
        return 20.0


def _forget_metrics_of(pid: int) -> None:
    """A dead worker's live gauges (open streams) must not be summed any more."""
    try:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
    except Exception:  # noqa: BLE001 - metrics bookkeeping never stops supervision
        pass


def main(argv: list[str] | None = None) -> int:
    args, extra = _parse(sys.argv[1:] if argv is None else argv)
    count = _workers(args.workers)
    if count == 1:
        # One process: exactly the command `make run` uses, no supervisor in between.
        daphne = [sys.executable, "-m", "daphne", "-b", args.bind, "-p", str(args.port), *extra, APPLICATION]
        os.chdir(ROOT)
        os.execv(sys.executable, daphne)
    if not os.environ.get("REDIS_URL"):
        print(
            f"relay_site.serve: WEB_CONCURRENCY={count} needs REDIS_URL. Several processes must share "
            "rate limits, usage and the model cache through Redis; without it each process would keep "
            "its own limits and a client would get N times its quota. Set REDIS_URL (and DATABASE_URL "
            "to PostgreSQL), or run one process (WEB_CONCURRENCY=1).",
            file=sys.stderr,
        )
        return 2
    sock = _listen(args.bind, args.port, args.backlog)
    metrics_dir, owned = _metrics_dir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    env.setdefault("ACCESS_LOG", "true")
    supervisor = Supervisor(sock, count, env, extra)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    print(
        f"relay_site.serve: {count} daphne workers on http://{args.bind}:{args.port} (metrics in {metrics_dir})",
        file=sys.stderr, flush=True,
    )
    try:
        code = supervisor.run()
    finally:
        supervisor.stop()
        sock.close()
        if owned:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
