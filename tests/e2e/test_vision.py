"""Images in chat: data: URIs and URLs are uploaded as assets and attached by path."""
import base64
import struct
import zlib

import openai
import pytest


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) + chunk(
        b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def image_message(url: str) -> list[dict]:
    return [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]}]


def test_a_data_uri_image_is_uploaded_with_a_png_extension_and_attached(client, sim):
    png = tiny_png()
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    client.chat.completions.create(model="gpt-4o-mini", messages=image_message(uri))
    (upload,) = sim.requests_to("/api/assets")
    (file,) = upload["form"]["files"]
    assert file["name"] == "asset" and file["filename"].endswith(".png") and file["data"] == png
    (chat,) = sim.requests_to("/api/chat-with-ai")
    images = chat["json"]["promptObject"]["attachments"]["images"]
    assert len(images) == 1 and chat["attachments_seen"] == images
    assert chat["json"]["promptObject"]["prompt"] == "What is this?\n[image 1]"


def test_an_image_url_is_fetched_through_redirects_and_uploaded(client, sim):
    png = tiny_png()
    url = sim.publish("cat.png", png, "image/png")
    redirect = f"{sim.url}/redirect?to={url}"
    client.chat.completions.create(model="gpt-4o", messages=image_message(redirect))
    (upload,) = sim.requests_to("/api/assets")
    assert upload["form"]["files"][0]["data"] == png


def test_images_to_a_text_only_model_are_a_400(client, sim):
    uri = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="open-mistral-nemo", messages=image_message(uri))
    assert caught.value.code == "model_not_vision_capable"
    assert sim.requests_to("/api/assets") == []


def test_a_failed_upload_fails_the_request_instead_of_dropping_the_image(client, sim):
    sim.script({"status": 500, "envelope": "text", "message": "disk full"}, path="/api/assets")
    uri = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=image_message(uri))
    assert caught.value.status_code == 502
    assert sim.requests_to("/api/chat-with-ai") == []


def test_something_that_is_not_an_image_is_refused(client, sim):
    url = sim.publish("page.html", b"<html>hi</html>", "text/html")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=image_message(url))
    assert caught.value.code == "invalid_image_format"


def test_private_addresses_are_refused_unless_the_setting_allows_them(relay_factory, sim):
    strict = relay_factory(IMAGE_FETCH_ALLOW_PRIVATE="false")
    client = openai.OpenAI(base_url=f"{strict.url}/v1", api_key="k", max_retries=0)
    url = sim.publish("cat.png", tiny_png(), "image/png")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=image_message(url))
    assert "non-public address" in caught.value.message
    assert sim.requests_to("/api/assets") == []
