"""A process warms up off the request path: BPE tables loaded, then its startup heap frozen out of the
garbage collector (full collections over it set a loaded relay's p99; see bench/reports)."""
import json
import subprocess
import sys

from tests.relay_process import ROOT

PROBE = """
import gc, json, os, time
os.environ["DJANGO_SETTINGS_MODULE"] = "relay_site.settings"
import django
before = gc.get_freeze_count()
django.setup()
from core import token_counting
deadline = time.monotonic() + 30
while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
    time.sleep(0.05)  # polling a background thread, with a deadline
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(),
                  "encodings": sorted(token_counting._encodings)}))
"""


def test_startup_loads_the_encodings_then_freezes_the_heap():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == 0 and seen["frozen"] > 10_000
    assert seen["encodings"] == ["cl100k_base", "o200k_base"]
