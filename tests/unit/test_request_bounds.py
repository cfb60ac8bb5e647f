"""JSON nesting depth, per-endpoint body limits and multipart part counts: pure checks."""
import io

import pytest
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent

from core.errors import InvalidRequest, to_relay_error
from api.parsers import BoundedJSONParser, too_deep
from relay_site.body_limits import limit_for


def nested(depth: int, leaf=1):
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("depth, limit, refused", [(0, 1, False), (1, 1, False), (2, 1, True), (64, 64, False),
                                                    (65, 64, True), (500, 64, True)])
def test_it_measures_nesting_depth_without_recursion(depth, limit, refused):
    assert too_deep(nested(depth), limit) is refused


def test_wide_but_shallow_json_is_not_too_deep():
    assert not too_deep({"a": [1] * 100_000, "b": [{"c": "d"}] * 1000}, 64)


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 70 + b"1" + b"}" * 70])
def test_the_parser_refuses_deep_json_with_a_400(body, settings):
    settings.MAX_JSON_DEPTH = 64
    with pytest.raises(InvalidRequest) as caught:
        BoundedJSONParser().parse(io.BytesIO(body), "application/json", {})
    assert caught.value.code == "json_too_deep" and caught.value.status == 400


@pytest.mark.parametrize("path, extra", [
    ("/v1/chat/completions", 0), ("/v1/responses", 0), ("/v1/audio/speech", 0), ("/v1/images/generations", 0),
    ("/", 0), ("/v1/audio/transcriptions", None), ("/v1/audio/translations", None),
])
def test_each_endpoint_has_its_body_limit(path, extra):
    from django.conf import settings

    if extra is None:  # an audio upload: the 25 MB file plus the form around it
        assert limit_for(path) == settings.MAX_AUDIO_UPLOAD_BYTES + 1024 * 1024
    else:
        assert limit_for(path) == settings.MAX_JSON_BODY_BYTES


def test_admin_forms_are_small():
    assert limit_for("/admin/login/") == 1024 * 1024


@pytest.mark.parametrize("exc", [TooManyFieldsSent("too many fields"), TooManyFilesSent("too many files")])
def test_too_many_multipart_parts_is_a_400_not_a_500(exc):
    error = to_relay_error(exc)
    assert error is not None and error.status == 400 and error.code == "too_many_parts"
