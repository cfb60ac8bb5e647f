"""manage.py refresh_models fetches the catalogue from 1min.ai and says what it cached."""
import subprocess
import sys

from tests.relay_process import ROOT, base_env, new_workdir


def run_command(env):
    return subprocess.run([sys.executable, "manage.py", "refresh_models"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_it_prints_counts_per_feature(sim):
    result = run_command(base_env(sim.url, new_workdir()))
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if line and not line.startswith("Done"))
    active = {f: len([m for m in sim.catalogue.for_feature(f) if m["status"] == "ACTIVE"])
              for f in ("UNIFY_CHAT_WITH_AI", "IMAGE_GENERATOR")}
    assert lines["chat"].split()[0] == str(active["UNIFY_CHAT_WITH_AI"])
    assert lines["image_generation"].split()[0] == str(active["IMAGE_GENERATOR"])
    assert "disabled left out" in result.stdout
    assert len(sim.requests_to("/models")) == 5


def test_it_fails_loudly_when_1min_ai_is_down(sim):
    sim.configure(models_fail=True)
    result = run_command(base_env(sim.url, new_workdir()))
    assert result.returncode != 0
    assert "Could not refresh the model list" in result.stderr
