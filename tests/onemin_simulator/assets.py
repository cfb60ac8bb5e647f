"""POST /api/assets: multipart upload of one `asset` part, kept so later calls can refer to it."""
from __future__ import annotations

import hashlib
import mimetypes
import uuid
from typing import Any

from .context import Ctx, Reply, with_timing
from .envelopes import ApiError
from .records import iso_now, owner_ids, path_stamp
from .wire import json_response

# Extensions the simulated service takes; anything else (notably .md) is UNSUPPORTED_FILE_TYPE.
ACCEPTED_EXTENSIONS = {
    "png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff", "heic", "heif", "svg",
    "mp3", "wav", "m4a", "flac", "ogg", "oga", "opus", "aac", "mpga", "mpeg", "weba", "amr",
    "mp4", "mov", "webm", "avi", "mkv", "m4v",
    "pdf", "doc", "docx", "txt", "csv", "json", "xls", "xlsx", "ppt", "pptx", "html", "htm",
    "xml", "rtf", "epub", "odt",
}
REJECTED_TYPES = {"text/markdown", "text/x-markdown"}
FOLDERS = {"image": "images/", "audio": "audios/", "video": "videos/"}
UNSUPPORTED = "This file type isn't supported. Please upload a supported file type."


def extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""


def effective_type(part: dict[str, Any]) -> str:
    declared = (part["content_type"] or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(part["filename"] or "")
    return guessed or "application/octet-stream"


def upload(ctx: Ctx) -> Reply:
    form = ctx.record["form"]
    parts = [f for f in (form or {}).get("files", []) if f["name"] == "asset"]
    if not parts:
        raise ApiError(400, "REQUEST_BODY_VALIDATION_FAILED",
                       "A multipart file part named 'asset' is required")
    part = parts[0]
    filename = part["filename"] or ""
    ext = extension(filename)
    mime = effective_type(part)
    if not ext or ext not in ACCEPTED_EXTENSIONS or mime in REJECTED_TYPES:
        raise ApiError(400, "UNSUPPORTED_FILE_TYPE", UNSUPPORTED)
    if part["size"] > int(ctx.config["asset_max_bytes"]):
        raise ApiError(413, "PAYLOAD_TOO_LARGE", "File too large")
    script = ctx.take_script()
    stored_name = path_stamp() + filename.rsplit("/", 1)[-1]
    path = FOLDERS.get(mime.split("/", 1)[0], "files/") + stored_name
    asset = {"path": path, "uuid": str(uuid.uuid4()), "filename": filename, "content_type": mime,
             "data": part["data"], "size": part["size"], "sha256": part["sha256"],
             "createdAt": iso_now()}
    ctx.state.add_asset(asset)
    return with_timing(json_response(upload_body(ctx, asset, ext, stored_name)), script)


def upload_body(ctx: Ctx, asset: dict[str, Any], ext: str, stored_name: str) -> dict[str, Any]:
    """The `asset` (S3 upload result) + `fileContent` object of §10."""
    user_id, team_id = owner_ids(ctx.api_key)
    filename = asset["filename"]
    return {
        "asset": {
            "fieldname": "asset", "originalname": filename, "encoding": "7bit",
            "mimetype": asset["content_type"], "size": asset["size"], "bucket": "asset.1min.ai",
            "key": asset["path"], "acl": "private", "contentType": "application/octet-stream",
            "contentDisposition": None, "contentEncoding": None, "storageClass": "STANDARD",
            "serverSideEncryption": None,
            "metadata": {"team-id": team_id, "user-id": user_id, "fieldname": "asset",
                         "originalname": filename, "encoding": "7bit",
                         "mimetype": asset["content_type"]},
            # Real locations are private S3 URLs; ours is fetchable so demos can follow it.
            "location": f"{ctx.state.public_base()}/cdn/{asset['path']}",
            "etag": '"' + hashlib.md5(asset["data"]).hexdigest() + '"',
        },
        "fileContent": {
            "uuid": asset["uuid"], "path": asset["path"], "type": ext, "name": stored_name,
            "content": "", "status": "ACTIVE", "metadata": {"token": 0, "character": 0},
            "createdAt": asset["createdAt"],
        },
    }
