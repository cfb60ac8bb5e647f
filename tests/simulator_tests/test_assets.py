"""/api/assets: multipart upload rules, response shape, and the CDN copy of the bytes."""
from __future__ import annotations

import hashlib
import re

import httpx
import pytest

from tests.onemin_simulator import Simulator
from tests.simulator_tests.sse_helpers import KEY, upload

STAMP = r"\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}_\d{3}_"


def post_file(client: httpx.Client, filename: str, data: bytes, content_type: str,
              field: str = "asset") -> httpx.Response:
    return client.post("/api/assets", headers=KEY, files={field: (filename, data, content_type)})


def test_it_uploads_and_serves_the_bytes(sim: Simulator, client: httpx.Client) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    body = upload(client, "photo.png", data, "image/png")
    content = body["fileContent"]
    assert re.fullmatch(rf"images/{STAMP}photo\.png", content["path"])
    assert content["type"] == "png" and content["status"] == "ACTIVE"
    assert content["name"] == content["path"].split("/", 1)[1]
    assert body["asset"]["key"] == content["path"] and body["asset"]["size"] == len(data)
    assert body["asset"]["mimetype"] == "image/png" and body["asset"]["fieldname"] == "asset"
    assert httpx.get(f"{sim.cdn_url}/{content['path']}").content == data
    [file] = sim.requests_to("/api/assets")[0]["form"]["files"]
    assert file["name"] == "asset" and file["filename"] == "photo.png"
    assert file["sha256"] == hashlib.sha256(data).hexdigest() and file["data"] == data


@pytest.mark.parametrize("filename,content_type,folder", [
    ("a.mp3", "audio/mpeg", "audios/"), ("v.mp4", "video/mp4", "videos/"),
    ("d.pdf", "application/pdf", "files/"), ("x.jpg", "application/octet-stream", "images/"),
])
def test_it_files_uploads_by_mime_class(client: httpx.Client, filename: str, content_type: str,
                                        folder: str) -> None:
    assert upload(client, filename, b"data", content_type)["fileContent"]["path"].startswith(folder)


@pytest.mark.parametrize("filename,content_type", [
    ("noextension", "image/png"), ("readme.md", "text/plain"), ("notes.txt", "text/markdown"),
])
def test_it_refuses_unsupported_files(client: httpx.Client, filename: str,
                                      content_type: str) -> None:
    response = post_file(client, filename, b"# hi", content_type)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "UNSUPPORTED_FILE_TYPE"


def test_it_enforces_the_size_cap(sim: Simulator, client: httpx.Client) -> None:
    sim.configure(asset_max_bytes=10)
    assert post_file(client, "big.png", b"x" * 11, "image/png").status_code == 413
    assert post_file(client, "ok.png", b"x" * 10, "image/png").status_code == 200


def test_the_part_must_be_named_asset(client: httpx.Client) -> None:
    response = post_file(client, "photo.png", b"x", "image/png", field="file")
    assert response.status_code == 400


def test_uploads_honour_scripts(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"status": 500}, path="/api/assets", prompt_contains="photo")
    assert post_file(client, "other.png", b"x", "image/png").status_code == 200
    failed = post_file(client, "photo.png", b"x", "image/png")
    assert failed.status_code == 500 and failed.json()["errorCode"] == "INTERNAL_SERVER_ERROR"
