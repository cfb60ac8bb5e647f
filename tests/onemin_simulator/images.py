"""IMAGE_GENERATOR on /api/features: per-model rules, real PNG bytes, paths + temporaryUrl."""
from __future__ import annotations

from typing import Any

from .context import Ctx, Reply, with_timing
from .envelopes import ApiError
from .feature_support import (fake_request_id, feature_record, missing_fields, prompt_object,
                              provider_error, require_model, store_generated,
                              temporary_url_field)
from .media import solid_png
from .wire import json_response

FEATURE = "IMAGE_GENERATOR"
NEEDS_QUALITY = {"gpt-image-1", "gpt-image-1-mini"}
SDXL = "stable-diffusion-xl-1024-v1-0"
SDXL_SIZES = ["1024x1024", "1152x896", "1216x832", "1344x768", "1536x640", "640x1536",
              "768x1344", "832x1216", "896x1152"]
OPENAI_SIZES = {
    "dall-e-3": ["1024x1024", "1024x1792", "1792x1024"],
    "dall-e-2": ["1024x1024", "512x512", "256x256"],
    "gpt-image-1": ["1024x1024", "1024x1536", "1536x1024", "auto"],
    "gpt-image-1-mini": ["1024x1024", "1024x1536", "1536x1024", "auto"],
}
MAX_N = {"dall-e-3": 1, "dall-e-2": 10, "gpt-image-1": 10, "gpt-image-1-mini": 10}
CREDIT_PER_IMAGE = 1000


def generate(ctx: Ctx, body: dict[str, Any]) -> Reply:
    model = require_model(ctx, body, FEATURE)
    model_id = model["modelId"]
    po = prompt_object(body)
    if not isinstance(po.get("prompt"), str) or not po["prompt"]:
        raise missing_fields(model_id, FEATURE, ["prompt"])
    if model_id in NEEDS_QUALITY and not po.get("quality"):
        raise missing_fields(model_id, FEATURE, ["quality"])
    count = image_count(model_id, po)
    check_size_and_count(model_id, po, count)
    script = ctx.take_script()
    paths = [store_generated(ctx, "images", "png", solid_png(f"{po['prompt']}#{i}"), "image/png")
             for i in range(count)]
    metadata: dict[str, Any] = {}
    if ctx.config["image_metadata_mode"] == "moderation":
        metadata = {"resultModeration": {"status": "unknown"}}
    record = feature_record(ctx, body, model, FEATURE, paths, metadata, CREDIT_PER_IMAGE * count,
                            script, extra=temporary_url_field(ctx, paths[0], script))
    return with_timing(json_response({"aiRecord": record}), script)


def image_count(model_id: str, po: dict[str, Any]) -> int:
    if model_id == "midjourney":
        return 4  # Midjourney always renders a grid of four
    for key in ("n", "samples", "num_outputs"):
        value = po.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 1


def check_size_and_count(model_id: str, po: dict[str, Any], count: int) -> None:
    size = po.get("size")
    if model_id == SDXL:
        if size is not None and size not in SDXL_SIZES:
            width, _, height = str(size).partition("x")
            cause = {"request_id": fake_request_id(), "code": "invalid_sdxl_v1_dimensions",
                     "message": f"For 1024 engines, height & width must be one of the following: "
                                f"{', '.join(SDXL_SIZES)}. Got height={height} width={width}."}
            raise provider_error("stability", cause,
                                 f"/v1/generation/{SDXL}/text-to-image")
        if count < 1 or count > 10:
            raise ApiError(400, "REQUEST_BODY_VALIDATION_FAILED", "samples must be between 1 and 10")
        return
    if model_id in OPENAI_SIZES:
        if size is not None and size not in OPENAI_SIZES[model_id]:
            raise openai_error(f"Invalid value: '{size}'. Supported values are: "
                               + ", ".join(f"'{s}'" for s in OPENAI_SIZES[model_id]) + ".", "size")
        if count < 1 or count > MAX_N[model_id]:
            message = ("Invalid 'n': dall-e-3 only supports n=1." if model_id == "dall-e-3"
                       else f"Invalid 'n': must be between 1 and {MAX_N[model_id]}.")
            raise openai_error(message, "n")
    elif count < 1:
        raise ApiError(400, "REQUEST_BODY_VALIDATION_FAILED", "n must be at least 1")


def openai_error(message: str, param: str) -> ApiError:
    cause = {"error": {"message": message, "type": "invalid_request_error", "param": param,
                       "code": "invalid_value"}, "request_id": fake_request_id()}
    return provider_error("openai", cause, "https://api.openai.com/v1/images/generations")
