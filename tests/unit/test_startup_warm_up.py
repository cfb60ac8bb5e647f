"""A served process warms up off the request path: BPE tables loaded, then, once the application is whole
(its URLconf and every view imported), its heap frozen out of the garbage collector (full collections
over it set a loaded relay's p99 and its pauses; see bench/reports)."""
import json
import subprocess
import sys

from tests.relay_process import ROOT

SERVED = """
import gc, json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "relay_site.settings"
before = gc.get_freeze_count()
import relay_site.asgi  # what daphne imports
from api.apps import warmed_up
from core import token_counting
assert warmed_up.wait(30)
view = sys.modules["api.views.chat"]
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(),
                  "view_frozen": not any(o is view for o in gc.get_objects()),
                  "encodings": sorted(token_counting._encodings)}))
"""

NOT_SERVED = """
import gc, json, os, time
os.environ["DJANGO_SETTINGS_MODULE"] = "relay_site.settings"
import django
django.setup()  # what a management command does
from api.apps import warmed_up
from core import token_counting
deadline = time.monotonic() + 30
while len(token_counting._encodings) < 2 and time.monotonic() < deadline:
    time.sleep(0.05)  # polling a background thread, with a deadline
print(json.dumps({"frozen": gc.get_freeze_count(), "ready": warmed_up.is_set(),
                  "encodings": sorted(token_counting._encodings)}))
"""


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_served_process_loads_the_encodings_then_freezes_its_heap_views_included():
    seen = _run(SERVED)
    assert seen["before"] == 0 and seen["frozen"] > 10_000
    assert seen["view_frozen"]
    assert seen["encodings"] == ["cl100k_base", "o200k_base"]


def test_a_process_that_serves_nothing_loads_the_encodings_and_leaves_its_heap_alone():
    seen = _run(NOT_SERVED)
    assert seen == {"frozen": 0, "ready": False, "encodings": ["cl100k_base", "o200k_base"]}
