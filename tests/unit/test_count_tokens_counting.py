"""POST /v1/messages/count_tokens: a request against the limits that reserves no tokens; its
conversation is tokenized once, by the service, not again for a reservation."""
from types import SimpleNamespace

import pytest

from api.views.messages import CountTokensView
from core import token_counting
from quotas.token_estimate import Estimate

pytestmark = pytest.mark.django_db
BODY = {"model": "gpt-4o-mini:online", "system": "You are terse.", "messages": [{"role": "user", "content": "Name three colours."}]}


def test_its_reservation_names_the_model_and_no_tokens():
    request = SimpleNamespace(data=BODY, path="/v1/messages/count_tokens")
    # The model stays for the allowed-models check; nothing to reserve (no prompt, no output).
    assert CountTokensView().estimate(request) == Estimate(model="gpt-4o-mini")
    assert CountTokensView().estimate(SimpleNamespace(data=["not", "a", "dict"], path=request.path)) == Estimate()


def test_the_conversation_is_tokenized_once(in_process, monkeypatch):
    conversations: list[list[dict]] = []
    count = token_counting.count_messages

    def counting(messages: list[dict], model: str = "") -> int:
        conversations.append(messages)
        return count(messages, model)

    monkeypatch.setattr(token_counting, "count_messages", counting)
    answer = in_process.post("/v1/messages/count_tokens", BODY, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert len(conversations) == 1  # the service's count of the conversation as the model gets it
    assert conversations[0][0] == {"role": "system", "content": "You are terse."}
    assert answer.json() == {"input_tokens": count(conversations[0], "gpt-4o-mini")}
