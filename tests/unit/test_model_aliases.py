"""MODEL_ALIASES parsing and the checks that stop a bad deployment (relay.E040, relay.E041)."""
import pytest
from django.test import override_settings

from api.checks import auth_token_check, model_aliases_check
from api.model_aliases import AliasSyntaxError, parse_aliases
from api.model_registry import ResolvedModel


@pytest.mark.parametrize("raw, table", [
    ("", {}),
    ("claude-sonnet-4-5=gpt-4o-mini,gpt-4=gpt-4o", {"claude-sonnet-4-5": "gpt-4o-mini", "gpt-4": "gpt-4o"}),
    (" a = b , , c=d,", {"a": "b", "c": "d"}),  # spaces trimmed, empty entries ignored
    ("a=b,a=b", {"a": "b"}),  # a repeat that agrees is harmless
    ("vendor/model-x=black-forest-labs/flux-schnell", {"vendor/model-x": "black-forest-labs/flux-schnell"}),
])
def test_it_parses_alias_target_pairs(raw, table):
    assert parse_aliases(raw) == table


@pytest.mark.parametrize("raw, says", [
    ("gpt-4", "is not `alias=target`"),
    ("=gpt-4o", "both sides"),
    ("gpt-4=", "both sides"),
    ("a=b=c", "not a model name"),
    ("my model=gpt-4o", "not a model name"),
    ("a=b,a=c", "two targets"),
    ("gpt-4o=gpt-4o", "alias of itself"),
    ("fast:online=gpt-4o", ":online"),
])
def test_it_refuses_malformed_entries_saying_which(raw, says):
    with pytest.raises(AliasSyntaxError) as caught:
        parse_aliases(raw)
    assert says in str(caught.value)


def test_a_malformed_setting_is_a_system_check_error():
    with override_settings(MODEL_ALIASES="claude=gpt-4o-mini,oops"):
        errors = model_aliases_check()
    assert [e.id for e in errors] == ["relay.E040"] and "`oops`" in errors[0].msg
    with override_settings(MODEL_ALIASES="claude=gpt-4o-mini"):
        assert model_aliases_check() == []


@pytest.mark.parametrize("mode, token, ids", [
    ("passthrough", "sk-one", []),
    ("passthrough", "", []),
    ("managed", "", []),
    ("managed", "sk-one", ["relay.E041"]),
    ("both", "sk-one", ["relay.E041"]),
])
def test_auth_token_only_goes_with_passthrough(mode, token, ids):
    with override_settings(RELAY_AUTH_MODE=mode, AUTH_TOKEN=token):
        assert [e.id for e in auth_token_check()] == ids


@pytest.mark.parametrize("requested, target, as_sent, reported", [
    ("gpt-4o", "gpt-4o", "gpt-4o", "gpt-4o"),  # no alias: as sent
    ("gpt-4o", "gpt-4o", "gpt-4o:online", "gpt-4o:online"),
    ("claude-sonnet-4-5", "gpt-4o-mini", "claude-sonnet-4-5", "gpt-4o-mini"),  # the model that answered
    ("claude-sonnet-4-5", "gpt-4o-mini", "claude-sonnet-4-5:online", "gpt-4o-mini:online"),
    ("open-mistral-nemo", "open-mistral-nemo", "", "open-mistral-nemo"),  # the default
])
def test_answers_report_the_model_that_answered(requested, target, as_sent, reported):
    assert ResolvedModel(requested, target, None).reported(as_sent) == reported
