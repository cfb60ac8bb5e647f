"""instructor through the relay, in Mode.TOOLS and Mode.JSON. instructor pins an older jiter than the
openai client in requirements-test.txt, so it runs in its own virtualenv (.venv-instructor, built by
`make install-test` from requirements-instructor.txt): this test scripts the simulator, runs
instructor_driver.py in that interpreter, and checks what it extracted."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.frameworks.framework_support import API_KEY, prompts, tool_call_reply

pytestmark = pytest.mark.frameworks

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
INSTRUCTOR_PYTHON = ROOT / ".venv-instructor" / "bin" / "python"


@pytest.fixture(scope="module")
def instructor_python() -> Path:
    # Never skipped: a missing environment is a broken install, and says how to fix it.
    assert INSTRUCTOR_PYTHON.exists(), f"{INSTRUCTOR_PYTHON} is missing: run `make install-test`"
    return INSTRUCTOR_PYTHON


def run_instructor(python: Path, relay, mode: str, text: str) -> dict:
    done = subprocess.run(
        [str(python), str(HERE / "instructor_driver.py"), f"{relay.url}/v1", API_KEY, mode, text],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_environment_holds_the_pinned_instructor_and_openai(instructor_python, relay, sim):
    pins = dict(line.split("==") for line in (HERE / "requirements-instructor.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    out = run_instructor(instructor_python, relay, "TOOLS", "Cy is 40.")
    assert (out.get("instructor"), out.get("openai")) == (pins["instructor"], pins["openai"]), out


def test_mode_tools_extracts_the_object_from_the_forced_tool_call(instructor_python, relay, sim):
    sim.script({"text": tool_call_reply("Person", {"name": "Ann", "age": 31})})

    out = run_instructor(instructor_python, relay, "TOOLS", "Ann is 31 years old.")

    assert out == {**out, "ok": True, "person": {"name": "Ann", "age": 31}}, out
    (prompt,) = prompts(sim)
    assert "Ann is 31 years old." in prompt
    assert "Person" in prompt and '"age"' in prompt  # the tool and its parameters reached the model


def test_mode_json_extracts_the_object_from_a_fenced_json_reply(instructor_python, relay, sim):
    sim.script({"text": 'Sure, here it is:\n```json\n{"name": "Bo", "age": 7}\n```\nAnything else?'})

    out = run_instructor(instructor_python, relay, "JSON", "Bo is 7 years old.")

    assert out == {**out, "ok": True, "person": {"name": "Bo", "age": 7}}, out
    (prompt,) = prompts(sim)
    assert "Bo is 7 years old." in prompt


def test_mode_tools_fails_loudly_when_the_model_never_calls_the_tool(instructor_python, relay, sim):
    # The forced tool is never called, even after the relay's one repair request: a clear error
    # reaches instructor, never a made-up object.
    sim.script({"text": "I would rather not say."}, times=None)

    out = run_instructor(instructor_python, relay, "TOOLS", "Who is 31?")

    assert out["ok"] is False and "person" not in out, out
    assert "502" in out["error"] and "tool_call_failed" in out["error"], out
    assert len(prompts(sim)) == 2, "one call and one repair request"
