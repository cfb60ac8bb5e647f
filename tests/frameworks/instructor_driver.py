"""Runs instructor against the relay inside .venv-instructor (its own virtualenv) and prints one JSON
line: the extracted object, or the error. Driven by tests/frameworks/test_instructor.py.

Usage: instructor_driver.py BASE_URL API_KEY MODE TEXT   (MODE: a name of instructor.Mode, e.g. TOOLS)
"""
from __future__ import annotations

import json
import sys

import instructor
import openai
import pydantic


VERSIONS = {"instructor": instructor.__version__, "openai": openai.__version__}


class Person(pydantic.BaseModel):
    """A person mentioned in the text."""

    name: str
    age: int


def main(base_url: str, api_key: str, mode: str, text: str) -> dict:
    raw = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30)
    client = instructor.from_openai(raw, mode=instructor.Mode[mode])
    try:
        # max_retries=0: one attempt, so an answer the relay got wrong is not papered over by a retry.
        person = client.chat.completions.create(
            model="gpt-4o-mini", response_model=Person, max_retries=0,
            messages=[{"role": "user", "content": text}],
        )
    except Exception as error:  # noqa: BLE001 - reported to the test, which decides
        return {**VERSIONS, "ok": False, "error": f"{type(error).__name__}: {error}"}
    return {**VERSIONS, "ok": True, "person": person.model_dump()}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
