"""A finished call leaves nothing for the garbage collector: its objects go when their last reference does."""
import json
import subprocess
import sys

from tests.conftest import TEST_KEY
from tests.relay_process import ROOT, base_env, migrate, new_workdir

# Cyclic garbage from a call would be promoted while the call is in flight and freed only by full
# collections: about 0.4 ms of a call's 2.5-3 ms of CPU when measured on 2026-12-07
# (docs/performance.md). This drives the ASGI application daphne serves, in one process, with the
# garbage collector saving what it finds instead of freeing it.
SERVED = r"""
import asyncio, collections, gc, json, sys
import relay_site.asgi  # what daphne imports
from asgiref.testing import ApplicationCommunicator

OURS = ("api.", "core.", "keys.", "quotas.", "live.", "relay_site.", "django.", "rest_framework.", "adrf.")
CALLS = [
    ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}),
    ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "stream": True}),
    ("/v1/chat/completions", {"model": "gpt-4o-mini"}),  # refused: no messages
    ("/v1/no-such-endpoint", {}),
]


async def call(path, body):
    raw = json.dumps(body).encode()
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
               (b"content-length", b"%d" % len(raw)), (b"authorization", b"Bearer " + sys.argv[1].encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8787)}
    app = ApplicationCommunicator(relay_site.asgi.application, scope)
    await app.send_input({"type": "http.request", "body": raw})
    start = await app.receive_output(10)
    while (await app.receive_output(10)).get("more_body"):
        pass
    await app.send_input({"type": "http.disconnect"})  # as daphne does once the answer is out
    await app.wait(10)
    return start["status"]


async def main():
    statuses = [await call(*c) for c in CALLS]  # imports, pools and caches made once
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    for _ in range(3):
        for c in CALLS:
            await call(*c)
    gc.collect()
    gc.set_debug(0)
    kinds = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
    left = {k: n for k, n in kinds.items() if k.startswith(OURS) or k.endswith(("Task", "Error", "Aborted"))}
    print(json.dumps({"statuses": statuses, "left": left}))

asyncio.run(main())
"""


def test_a_finished_call_leaves_no_reference_cycles(sim):
    env = base_env(sim.url, new_workdir())
    migrate(env)
    done = subprocess.run([sys.executable, "-c", SERVED, TEST_KEY], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["statuses"] == [200, 200, 400, 404]
    assert seen["left"] == {}
