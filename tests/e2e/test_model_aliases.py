"""Model aliases (MODEL_ALIASES seeds, the admin, across processes), the default model, models of the
wrong kind, and web-search progress lines, through the official OpenAI SDK."""
from __future__ import annotations

import os
import re
import time

import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.media_files import wav
from tests.openai_schema import validate
from tests.relay_admin import Admin, manage

SEEDS = ("claude-sonnet-4-5=gpt-4o-mini,gpt-4=gpt-4o,gpt-5-fictional=no-such-model,"
         "alias-of-an-image-model=dall-e-3")
HI = [{"role": "user", "content": "hi"}]
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="two processes share aliases through Redis: shared-backend suite"
)


def sdk(relay, key: str = TEST_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{relay.url}/v1", api_key=key, max_retries=0, timeout=30)


def sent_models(sim) -> list[str]:
    return [r["json"]["model"] for r in sim.requests_to("/api/chat-with-ai")]


@pytest.fixture(scope="module")
def aliased(relay_factory):
    """One relay seeded from MODEL_ALIASES, shared by this module's tests. Its aliases are removed
    afterwards: the shared-backend suite runs every relay on one database."""
    relay = relay_factory(MODEL_ALIASES=SEEDS)
    yield relay
    result = manage(relay, "shell", "-c", "from api.models import ModelAlias; ModelAlias.objects.all().delete()")
    assert result.returncode == 0, result.stderr


def test_an_env_seeded_alias_answers_on_chat_and_responses_and_reports_the_model_that_answered(aliased, sim):
    with sdk(aliased) as client:
        completion = client.chat.completions.create(model="claude-sonnet-4-5", messages=HI)
        chunks = list(client.chat.completions.create(model="claude-sonnet-4-5:online", messages=HI, stream=True))
        response = client.responses.create(model="gpt-4", input="hi")
    assert sent_models(sim) == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o"]
    assert sim.requests_to("/api/chat-with-ai")[1]["json"]["promptObject"]["settings"]["webSearchSettings"]["webSearch"]
    assert completion.model == "gpt-4o-mini"  # not the alias: clients see which model answered
    assert {c.model for c in chunks} == {"gpt-4o-mini:online"}
    assert response.model == "gpt-4o" and response.output_text.startswith("Simulated reply (gpt-4o)")


def test_an_alias_whose_target_1min_ai_lacks_is_a_404_naming_both(aliased, sim):
    with sdk(aliased) as client, pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-5-fictional", messages=HI)
    assert "`gpt-5-fictional` is an alias of `no-such-model`" in caught.value.message
    assert sim.requests_to("/api/chat-with-ai") == []


def test_models_list_shows_aliases_as_models_of_their_own(aliased, sim):
    body = httpx.get(f"{aliased.url}/v1/models", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
    validate(body, "ListModelsResponse")
    by_id = {m["id"]: m for m in body["data"]}
    assert by_id["claude-sonnet-4-5"]["owned_by"] == "gpt-4o-mini"
    assert by_id["gpt-4"]["owned_by"] == by_id["gpt-4"]["alias_of"] == "gpt-4o"
    assert by_id["claude-sonnet-4-5"]["capabilities"] == by_id["gpt-4o-mini"]["capabilities"]
    assert "gpt-5-fictional" not in by_id  # its target is not an active 1min.ai model
    with sdk(aliased) as client:
        assert "claude-sonnet-4-5" in {m.id for m in client.models.list()}
        model = client.models.retrieve("claude-sonnet-4-5")
    assert (model.id, model.owned_by) == ("claude-sonnet-4-5", "gpt-4o-mini")


def test_a_request_without_a_model_uses_the_default_model(aliased, sim):
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    chat = httpx.post(f"{aliased.url}/v1/chat/completions", headers=auth, json={"messages": HI}, timeout=30)
    response = httpx.post(f"{aliased.url}/v1/responses", headers=auth, json={"input": "hi", "model": None}, timeout=30)
    assert chat.status_code == 200 and response.status_code == 200, (chat.text, response.text)
    blank = httpx.post(f"{aliased.url}/v1/chat/completions", headers=auth, json={"messages": HI, "model": " "}, timeout=30)
    assert blank.status_code == 400 and blank.json()["error"]["param"] == "model", blank.text
    validate(chat.json(), "CreateChatCompletionResponse")
    assert sent_models(sim) == ["open-mistral-nemo", "open-mistral-nemo"]
    assert chat.json()["model"] == response.json()["model"] == "open-mistral-nemo"
    # The OpenAPI document agrees that `model` may be left out there.
    document = httpx.get(f"{aliased.url}/v1/openapi.json").json()
    for path, required in (("/v1/chat/completions", "messages"), ("/v1/responses", "input")):
        schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        while "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        assert "model" in schema["properties"] and schema["required"] == [required]


@pytest.mark.parametrize("call, model, endpoint", [
    ("chat", "dall-e-3", "POST /v1/images/generations"),
    ("chat", "alias-of-an-image-model", "POST /v1/images/generations"),
    ("images", "gpt-4o", "POST /v1/chat/completions"),
    ("transcription", "tts-1", "POST /v1/audio/speech"),
    ("speech", "whisper-1", "POST /v1/audio/transcriptions"),
])
def test_a_model_of_the_wrong_kind_is_a_400_naming_the_right_endpoint(aliased, sim, call, model, endpoint):
    with sdk(aliased) as client, pytest.raises(openai.BadRequestError) as caught:
        if call == "chat":
            client.chat.completions.create(model=model, messages=HI)
        elif call == "images":
            client.images.generate(model=model, prompt="a cat")
        elif call == "transcription":
            client.audio.transcriptions.create(model=model, file=("a.wav", wav(0.5)))
        else:
            client.audio.speech.create(model=model, voice="alloy", input="hi")
    error = caught.value.body
    assert (error["code"], error["param"], caught.value.status_code) == ("model_not_supported", "model", 400)
    assert endpoint in error["message"] and f"`{model}`" in error["message"]
    assert [r for r in sim.requests if r["path"] != "/models"] == []  # refused before any upstream call


def test_web_search_progress_lines_are_removed_streamed_or_not(aliased, sim):
    sim.configure(web_search_crawl_lines=True, chunk_size=3)  # stream pieces split lines and characters
    with sdk(aliased) as client:
        plain = client.chat.completions.create(model="gpt-4o-mini", messages=HI)
        whole = client.chat.completions.create(model="gpt-4o-mini:online", messages=HI)
        streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
            model="claude-sonnet-4-5:online", messages=HI, stream=True) if c.choices)
        with client.responses.stream(model="gpt-4o-mini:online", input="hi") as events:
            responses_text = events.get_final_response().output_text
    for text in (whole.choices[0].message.content, streamed, responses_text):
        assert text.startswith("Simulated reply (gpt-4o-mini)") and "Crawling" not in text
    assert "🌐" not in plain.choices[0].message.content  # (no search, so no lines to begin with)
    assert sum(1 for r in sim.requests_to("/api/chat-with-ai")
               if r["json"]["promptObject"].get("settings", {}).get("webSearchSettings", {}).get("webSearch")) == 3


# ---- the admin, and a second process --------------------------------------------------------

@pytest.fixture(scope="module")
def second_process(aliased, relay_factory):
    """Another relay on the same database and shared cache (as a second worker would be), trusting
    its own copy of the alias table for a second at most."""
    shared = {k: aliased.env[k] for k in ("DATABASE_URL", "CACHE_KEY_PREFIX", "REDIS_URL") if k in aliased.env}
    return relay_factory(**shared, MODEL_ALIASES="", MODEL_CACHE_MEMORY_SECONDS="1")


def _admin_add_alias(admin: Admin, alias: str, target: str) -> int:
    response = admin.post_form("/admin/api/modelalias/add/", {"alias": alias, "target": target, "note": "test", "_save": "Save"})
    assert response.status_code == 302, response.text
    listing = admin.page(f"/admin/api/modelalias/?q={alias}")
    return int(re.search(r"/admin/api/modelalias/(\d+)/change/", listing).group(1))


def _status(relay, model: str) -> int:
    return httpx.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {TEST_KEY}"},
                      json={"model": model, "messages": HI}, timeout=30).status_code


def _within(seconds: float, check) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)  # polling another process with a deadline, not synchronising
    return False


@needs_redis
def test_an_alias_added_in_the_admin_reaches_this_process_at_once_and_another_within_its_cache_time(
        aliased, second_process, sim):
    assert _status(second_process, "team-default") == 404  # caches an alias table without it
    admin = Admin(aliased)
    invalid = admin.post_form("/admin/api/modelalias/add/", {"alias": "x y", "target": "gpt-4o", "_save": "Save"})
    assert invalid.status_code == 200 and "not a model name" in invalid.text
    alias_id = _admin_add_alias(admin, "team-default", "gpt-4o")
    assert _status(aliased, "team-default") == 200  # the saving process: at once
    assert _within(10, lambda: _status(second_process, "team-default") == 200)
    assert sent_models(sim)[-1] == "gpt-4o"
    with sdk(second_process) as client:
        assert "team-default" in {m.id for m in client.models.list()}
    deleted = admin.post_form(f"/admin/api/modelalias/{alias_id}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert _status(aliased, "team-default") == 404
    assert _within(10, lambda: _status(second_process, "team-default") == 404)


def test_env_seeds_are_rows_the_admin_edits_and_a_restart_does_not_overwrite(aliased, relay_factory, sim):
    admin = Admin(aliased)
    listing = admin.page("/admin/api/modelalias/?q=claude-sonnet-4-5")
    alias_id = re.search(r"/admin/api/modelalias/(\d+)/change/", listing).group(1)
    assert "gpt-4o-mini" in listing and ">env<" in listing

    def retarget(target: str) -> None:
        response = admin.post_form(f"/admin/api/modelalias/{alias_id}/change/",
                                   {"alias": "claude-sonnet-4-5", "target": target, "note": "", "_save": "Save"})
        assert response.status_code == 302, response.text

    retarget("gpt-4o")  # the operator overrides the seed
    try:
        assert _answered_by(aliased, "claude-sonnet-4-5") == "gpt-4o"
        # Another process started with the same seeds (a restart) leaves the edited row alone.
        shared = {k: aliased.env[k] for k in ("DATABASE_URL", "CACHE_KEY_PREFIX", "REDIS_URL") if k in aliased.env}
        restarted = relay_factory(**shared, MODEL_ALIASES=SEEDS)
        assert _answered_by(restarted, "claude-sonnet-4-5") == "gpt-4o"
        restarted.stop()
    finally:
        retarget("gpt-4o-mini")


def _answered_by(relay, model: str) -> str:
    with sdk(relay) as client:
        return client.chat.completions.create(model=model, messages=HI).model


def test_allowed_models_judge_the_model_an_alias_or_the_default_runs(relay_factory, sim):
    limited = relay_factory(MODEL_ALIASES=SEEDS, RATE_LIMIT_ALLOWED_MODELS="gpt-4o-mini")
    with sdk(limited) as client:
        assert client.chat.completions.create(model="claude-sonnet-4-5", messages=HI).model == "gpt-4o-mini"
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client.chat.completions.create(model="gpt-4", messages=HI)  # an alias of gpt-4o
        assert "`gpt-4o`" in caught.value.message
    omitted = httpx.post(f"{limited.url}/v1/chat/completions", headers={"Authorization": f"Bearer {TEST_KEY}"},
                         json={"messages": HI}, timeout=30)
    assert omitted.status_code == 403 and "`open-mistral-nemo`" in omitted.json()["error"]["message"]
    assert sent_models(sim) == ["gpt-4o-mini"]
    limited.stop()


def test_a_relay_key_limited_to_some_models_may_use_aliases_of_them_only(keyed_relay, keyed_admin, sim):
    from tests.relay_admin import chat

    keyed_admin.pool(main="one-min-pool-key-aliases-0001")
    suffix = time.monotonic_ns()
    mini_id = _admin_add_alias(keyed_admin, f"cheap-{suffix}", "gpt-4o-mini")
    big_id = _admin_add_alias(keyed_admin, f"big-{suffix}", "gpt-4o")
    try:
        _, key = keyed_admin.add_relay_key(f"limited-{suffix}", models="gpt-4o-mini")
        assert chat(keyed_relay, key, model=f"cheap-{suffix}").json()["model"] == "gpt-4o-mini"
        refused = chat(keyed_relay, key, model=f"big-{suffix}")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "model_not_allowed"
        listed = httpx.get(f"{keyed_relay.url}/v1/models", headers={"Authorization": f"Bearer {key}"}).json()
        assert {m["id"] for m in listed["data"]} >= {"gpt-4o-mini", f"cheap-{suffix}"}
        assert all("gpt-4o-mini" in (m["id"], m.get("alias_of")) for m in listed["data"])  # nothing else
        assert sent_models(sim) == ["gpt-4o-mini"]
    finally:
        for alias_id in (mini_id, big_id):
            keyed_admin.post_form(f"/admin/api/modelalias/{alias_id}/delete/", {"post": "yes"})
