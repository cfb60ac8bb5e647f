"""SIGTERM: the relay stops accepting connections, lets in-flight streams finish up to
SHUTDOWN_GRACE_SECONDS, cancels what is left at the deadline, runs its flush hooks and exits."""
from __future__ import annotations

import signal
import socket
import threading

import httpx

from tests.conftest import TEST_KEY

TEXT = "a long answer that takes a while to stream out " * 4


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return False
    except OSError:
        return True


class StreamInBackground:
    """Reads a streamed chat answer on a thread; `started` is set once the first bytes arrived."""

    def __init__(self, relay) -> None:
        self.relay, self.text, self.done, self.error = relay, b"", False, None
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with httpx.stream("POST", f"{self.relay.url}/v1/chat/completions", timeout=30,
                              headers={"Authorization": f"Bearer {TEST_KEY}"},
                              json={"model": "gpt-4o-mini", "stream": True,
                                    "messages": [{"role": "user", "content": "go"}]}) as response:
                for piece in response.iter_raw():
                    self.text += piece
                    self.started.set()
            self.done = True
        except httpx.HTTPError as error:
            self.error = error
        finally:
            self.started.set()


def test_sigterm_lets_an_in_flight_stream_finish_and_refuses_new_connections(relay_factory, sim):
    relay = relay_factory(SHUTDOWN_GRACE_SECONDS="15")
    sim.script({"text": TEXT, "chunk_delay_ms": 10})  # ~100 events: about 1 s of streaming
    stream = StreamInBackground(relay)
    assert stream.started.wait(10) and stream.error is None
    relay.proc.send_signal(signal.SIGTERM)

    assert sim.wait_for(lambda: refuses_connections(relay.port), timeout=5.0), "new connections stop"
    stream.thread.join(20)
    assert stream.done and stream.error is None
    assert stream.text.rstrip().endswith(b"data: [DONE]"), "the stream finished, not cut"
    assert relay.proc.wait(timeout=20) == 0
    logs = relay.logs()
    assert "shutdown: stopped accepting connections; 1 request(s) in flight" in logs
    assert "0 request(s) cancelled at the deadline" in logs
    assert "stream cut short" not in logs


def test_streams_still_running_at_the_deadline_are_cut_and_accounted(relay_factory, sim):
    relay = relay_factory(SHUTDOWN_GRACE_SECONDS="1")
    sim.script({"text": TEXT * 10, "chunk_delay_ms": 50})  # ~50 s: far longer than the grace
    stream = StreamInBackground(relay)
    assert stream.started.wait(10)
    relay.proc.send_signal(signal.SIGTERM)
    assert relay.proc.wait(timeout=20) == 0
    stream.thread.join(10)
    assert b"data: [DONE]" not in stream.text
    logs = relay.logs()
    assert "1 request(s) cancelled at the deadline" in logs
    # The cut call still went through its finish path (where usage is recorded), with what was delivered.
    assert "stream cut short: endpoint=chat.completions" in logs
    assert sim.wait_for(lambda: sim.requests_to("/api/chat-with-ai")[0].get("stream_closed_by_client"))


def test_an_idle_relay_stops_at_once(relay_factory):
    relay = relay_factory(SHUTDOWN_GRACE_SECONDS="30")
    relay.proc.send_signal(signal.SIGTERM)
    assert relay.proc.wait(timeout=10) == 0  # nothing in flight: no waiting for the grace period
    assert "0 request(s) cancelled at the deadline" in relay.logs()
