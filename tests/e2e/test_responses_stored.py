"""Stored responses: retrieve, delete, input_items, previous_response_id, and one key per response."""
import sqlite3

import dj_database_url
import httpx
import openai
import pytest

from core.identity import fingerprint
from tests.conftest import TEST_KEY
from tests.e2e.responses_support import auth, post, prompts, stream_events
from tests.e2e.test_vision import tiny_png
from tests.openai_schema import validate

OTHER_KEY = "sk-someone-else-9876543210"


@pytest.fixture
def other(relay, sim) -> openai.OpenAI:
    """The same relay as `client`, called with another 1min.ai key."""
    with openai.OpenAI(base_url=f"{relay.url}/v1", api_key=OTHER_KEY, max_retries=0, timeout=30) as c:
        yield c


def test_a_stored_response_is_returned_as_it_was_created(client, relay, sim):
    created = post(relay, {"model": "gpt-4o-mini", "input": "remember me", "metadata": {"k": "v"}}).json()
    fetched = httpx.get(f"{relay.url}/v1/responses/{created['id']}", headers=auth()).json()
    validate(fetched, "Response")
    assert fetched == created
    assert client.responses.retrieve(created["id"]).output_text == created["output"][0]["content"][0]["text"]


def test_a_three_turn_conversation_continues_through_previous_response_id(client, sim):
    sim.script({"text": "Hi Ann."}, times=1)
    sim.script({"text": "Blue is calm."}, times=1)
    first = client.responses.create(model="gpt-4o-mini", instructions="Be warm.", input="I am Ann.")
    second = client.responses.create(model="gpt-4o-mini", input="I like blue.", previous_response_id=first.id)
    third = client.responses.create(model="gpt-4o-mini", instructions="Be brief.",
                                    input=[{"role": "user", "content": "What is my name and colour?"}],
                                    previous_response_id=second.id)
    assert third.previous_response_id == second.id and third.status == "completed"
    assert prompts(sim)[2] == (
        "System: Be brief.\n\nHuman: I am Ann.\n\nAssistant: Hi Ann.\n\nHuman: I like blue.\n\n"
        "Assistant: Blue is calm.\n\nHuman: What is my name and colour?\n\nAssistant:"
    )
    # Instructions are not carried over from earlier turns, as OpenAI documents.
    assert "Be warm." not in prompts(sim)[1]


def test_a_streamed_turn_can_be_continued_at_once(client, relay, sim):
    sim.script({"text": "Streamed answer."}, times=1)
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "first"})
    client.responses.create(model="gpt-4o-mini", input="second", previous_response_id=events[-1]["response"]["id"])
    assert prompts(sim)[1] == "Human: first\n\nAssistant: Streamed answer.\n\nHuman: second\n\nAssistant:"


def test_another_key_is_refused_every_stored_response_as_not_found(client, other, relay, sim):
    mine = client.responses.create(model="gpt-4o-mini", input="secret")
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(mine.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.input_items.list(mine.id)
    with pytest.raises(openai.NotFoundError) as caught:
        other.responses.create(model="gpt-4o-mini", input="x", previous_response_id=mine.id)
    assert caught.value.body["param"] == "previous_response_id"
    assert client.responses.retrieve(mine.id).id == mine.id


def test_the_key_itself_is_never_stored_only_its_fingerprint(relay, sim):
    created = post(relay, {"model": "gpt-4o-mini", "input": "x"}).json()
    url = relay.env["DATABASE_URL"]
    config = dj_database_url.parse(url)
    query = "SELECT * FROM api_storedresponse WHERE id = %s"
    if config["ENGINE"].endswith("sqlite3"):
        with sqlite3.connect(config["NAME"]) as conn:
            row = conn.execute(query.replace("%s", "?"), (created["id"],)).fetchone()
            columns = [c[1] for c in conn.execute("PRAGMA table_info(api_storedresponse)")]
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            cursor = conn.execute(query, (created["id"],))
            row, columns = cursor.fetchone(), [c.name for c in cursor.description]
    stored = dict(zip(columns, row))
    assert stored["key_fingerprint"] == fingerprint(TEST_KEY)
    assert TEST_KEY not in repr(row)


def test_delete_removes_a_response(client, relay, sim):
    created = client.responses.create(model="gpt-4o-mini", input="x")
    response = httpx.delete(f"{relay.url}/v1/responses/{created.id}", headers=auth())
    assert response.status_code == 200
    assert response.json() == {"id": created.id, "object": "response", "deleted": True}
    missing = httpx.get(f"{relay.url}/v1/responses/{created.id}", headers=auth())
    assert missing.status_code == 404
    validate(missing.json(), "ErrorResponse")
    assert httpx.delete(f"{relay.url}/v1/responses/{created.id}", headers=auth()).status_code == 404
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="gpt-4o-mini", input="y", previous_response_id=created.id)


def test_store_false_keeps_nothing(client, sim):
    created = client.responses.create(model="gpt-4o-mini", input="x", store=False)
    assert created.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)


def test_input_items_are_listed_in_pages_with_cursors(client, relay, sim):
    inputs = [{"role": "user", "content": f"message {n}"} for n in range(5)]
    created = client.responses.create(model="gpt-4o-mini", input=inputs)
    url = f"{relay.url}/v1/responses/{created.id}/input_items"
    page = httpx.get(url, params={"limit": 2, "order": "asc"}, headers=auth()).json()
    validate(page, "ResponseItemList")
    assert [i["content"][0]["text"] for i in page["data"]] == ["message 0", "message 1"]
    assert page["has_more"] is True and page["first_id"] == page["data"][0]["id"] and page["last_id"] == page["data"][1]["id"]
    rest = httpx.get(url, params={"limit": 10, "order": "asc", "after": page["last_id"]}, headers=auth()).json()
    validate(rest, "ResponseItemList")
    assert [i["content"][0]["text"] for i in rest["data"]] == ["message 2", "message 3", "message 4"]
    assert rest["has_more"] is False
    newest_first = [i.content[0].text for i in client.responses.input_items.list(created.id, limit=2)]
    assert newest_first == [f"message {n}" for n in (4, 3, 2, 1, 0)]  # the SDK follows the cursor


def test_every_input_item_type_lists_as_openais_item_resources(client, relay, sim):
    created = client.responses.create(model="gpt-4o", input=[
        {"role": "developer", "content": "rules"},
        {"role": "user", "content": [{"type": "input_text", "text": "look"},
                                     {"type": "input_image", "image_url": sim.publish("a.png", tiny_png(), "image/png")}]},
        {"role": "assistant", "content": "looked"},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "done"},
    ])
    page = httpx.get(f"{relay.url}/v1/responses/{created.id}/input_items?order=asc", headers=auth()).json()
    validate(page, "ResponseItemList")
    assert [i["type"] for i in page["data"]] == ["message", "message", "message", "function_call", "function_call_output"]
    assert page["data"][1]["content"][1]["detail"] == "auto"


@pytest.mark.parametrize("query, param", [("limit=0", "limit"), ("limit=101", "limit"), ("order=sideways", "order"),
                                          ("after=msg_nope", "after")])
def test_bad_input_items_parameters_are_400s_naming_the_parameter(client, relay, sim, query, param):
    created = client.responses.create(model="gpt-4o-mini", input="x")
    response = httpx.get(f"{relay.url}/v1/responses/{created.id}/input_items?{query}", headers=auth())
    assert response.status_code == 400
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["param"] == param



def test_streaming_a_stored_response_is_refused_and_root_lists_the_endpoints(client, relay, sim):
    created = client.responses.create(model="gpt-4o-mini", input="x")
    response = httpx.get(f"{relay.url}/v1/responses/{created.id}?stream=true", headers=auth())
    assert response.status_code == 400 and response.json()["error"]["param"] == "stream"
    endpoints = httpx.get(relay.url + "/").json()["endpoints"]
    assert {"POST /v1/responses", "GET /v1/responses/{response_id}", "DELETE /v1/responses/{response_id}",
            "GET /v1/responses/{response_id}/input_items"} <= set(endpoints)
