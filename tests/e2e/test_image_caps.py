"""Images per request are bounded before 1min.ai sees any: a count, a byte total, a few at a time,
every image checked before the first upload, and the first failure stops the rest."""
import base64

import openai
import pytest

from tests.e2e.test_vision import tiny_png

PNG_URI = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()


def images_message(urls: list[str]) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": "Compare."},
                                         *({"type": "image_url", "image_url": {"url": u}} for u in urls)]}]


@pytest.fixture(scope="module")
def capped(relay_factory):
    relay = relay_factory(MAX_IMAGES_PER_REQUEST="4", IMAGE_REQUEST_MAX_BYTES="2048", IMAGE_FETCH_CONCURRENCY="1")
    with openai.OpenAI(base_url=f"{relay.url}/v1", api_key="sk-test-caps", max_retries=0, timeout=30) as client:
        yield client


def test_more_images_than_the_default_cap_are_refused_before_any_upload(client, sim):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=images_message([PNG_URI] * 17))
    assert caught.value.code == "too_many_images"
    assert sim.requests_to("/api/assets") == []


def test_images_larger_together_than_the_request_cap_are_refused_before_any_upload(capped, sim):
    padded = tiny_png() + b"\x00" * 900  # a PNG header is what is checked; the size is what counts
    url = sim.publish("padded.png", padded, "image/png")
    with pytest.raises(openai.BadRequestError) as caught:
        capped.chat.completions.create(model="gpt-4o-mini", messages=images_message([url] * 3))
    assert caught.value.code == "images_too_large"
    assert sim.requests_to("/api/assets") == []


def test_one_bad_image_means_no_image_is_uploaded(capped, sim):
    page = sim.publish("page.html", b"<html>hi</html>", "text/html")
    with pytest.raises(openai.BadRequestError) as caught:
        capped.chat.completions.create(model="gpt-4o-mini", messages=images_message([PNG_URI, PNG_URI, page]))
    assert caught.value.code == "invalid_image_format"
    assert sim.requests_to("/api/assets") == []


def test_the_first_failed_upload_cancels_the_uploads_still_waiting(capped, sim):
    sim.script({"status": 500, "envelope": "text", "message": "disk full"}, path="/api/assets")
    with pytest.raises(openai.APIStatusError) as caught:
        capped.chat.completions.create(model="gpt-4o-mini", messages=images_message([PNG_URI] * 3))
    assert caught.value.status_code == 502
    assert len(sim.requests_to("/api/assets")) == 1
    assert sim.requests_to("/api/chat-with-ai") == []
