"""`python -m tests.onemin_simulator --port 9100`: run the simulator until Ctrl-C."""
from __future__ import annotations

import argparse
import signal
import threading

from .simulator import Simulator


def main() -> None:
    parser = argparse.ArgumentParser(description="Local 1min.ai API simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--public-url", default=None,
                        help="base used in temporaryUrl/asset locations (default: listen address)")
    args = parser.parse_args()
    sim = Simulator(host=args.host, port=args.port).start()
    if args.public_url:
        sim.configure(public_url=args.public_url)
    print(f"1min.ai simulator listening on http://{args.host}:{sim.port}", flush=True)
    stop = threading.Event()
    # Explicit handlers: a shell's background job inherits SIGINT as ignored, so Ctrl-C/kill -INT
    # would otherwise never reach us.
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1):
            pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
