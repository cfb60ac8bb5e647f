"""OpenAI image generation to 1min.ai IMAGE_GENERATOR and back: per-family rules; pure.

Each 1min.ai image model family takes its own promptObject (contract §5.1). The relay checks
what it knows (sizes, counts, quality) before spending the caller's credits, and passes
unknown families the generic `prompt`/`n`/`size` that relays send.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from math import gcd
from typing import Any, Callable

from core.errors import InvalidRequest
from api.request_schemas.media import ImageRequest
from api.translators.features import FeatureBody

IMAGE_FEATURE = "IMAGE_GENERATOR"
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_LEONARDO = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FLUX_RATIOS = ("1:1", "16:9", "9:16", "3:2", "2:3", "4:5", "5:4")
# Upstream promptObject fields and the OpenAI parameters they come from (for error messages).
FIELD_PARAMS = {
    "prompt": "prompt", "n": "n", "samples": "n", "num_outputs": "n", "size": "size",
    "aspect_ratio": "size", "aspect_width": "size", "aspect_height": "size", "quality": "quality",
    "style": "style", "output_format": "output_format", "background": "background",
}


@dataclass(frozen=True)
class Family:
    name: str
    sizes: tuple[str, ...] = ()  # empty: any WxH, judged upstream (or by `size_rule`)
    default_size: str | None = None
    max_n: int = 10
    count_field: str = "n"
    qualities: dict[str, str] = field(default_factory=dict)  # OpenAI value -> upstream value
    required_quality: str | None = None  # sent when absent: the model refuses calls without one
    style: bool = False
    gpt_image_options: bool = False  # background, output_format, output_compression
    max_prompt: int = 32000
    size_rule: Callable[[int, int], str | None] | None = None  # explains why a WxH is refused
    layout: str = "size"  # how the size is sent: size, aspect_ratio, aspect_pair
    fixed_count: int | None = None  # the model always renders this many


_DALLE3_QUALITY = {"standard": "standard", "hd": "hd", "auto": "standard", "low": "standard",
                   "medium": "standard", "high": "hd"}
_GPT_IMAGE_QUALITY = {"low": "low", "medium": "medium", "high": "high", "auto": "medium",
                      "standard": "medium", "hd": "high"}
_GPT_IMAGE_SIZES = ("1024x1024", "1024x1536", "1536x1024", "auto")
SDXL_SIZES = ("1024x1024", "1152x896", "1216x832", "1344x768", "1536x640", "640x1536",
              "768x1344", "832x1216", "896x1152")


def _gpt_image_2_size(width: int, height: int) -> str | None:
    """gpt-image-2's documented bounds (contract §5.1)."""
    if width % 16 or height % 16:
        return "both sides must be multiples of 16"
    if not 655_360 <= width * height <= 8_294_400:
        return "the image must have between 655,360 and 8,294,400 pixels"
    if max(width, height) > 3840:
        return "the long side may be at most 3840 pixels"
    if max(width, height) > 3 * min(width, height):
        return "the aspect ratio may be at most 3:1"
    return None


def _aspect_pair(width: int, height: int) -> str | None:
    a, b = _reduced(width, height)
    return None if a <= 7 and b <= 7 else "Midjourney takes aspect ratios with terms from 1 to 7"


def _flux_ratio(width: int, height: int) -> str | None:
    a, b = _reduced(width, height)
    return None if f"{a}:{b}" in FLUX_RATIOS else f"the aspect ratio must be one of {', '.join(FLUX_RATIOS)}"


FAMILIES = {
    "dall-e-3": Family("dall-e-3", ("1024x1024", "1024x1792", "1792x1024"), "1024x1024", max_n=1,
                       qualities=_DALLE3_QUALITY, style=True, max_prompt=4000),
    "dall-e-2": Family("dall-e-2", ("256x256", "512x512", "1024x1024"), "1024x1024", max_prompt=1000),
    "gpt-image-1": Family("gpt-image-1", _GPT_IMAGE_SIZES, "1024x1024", qualities=_GPT_IMAGE_QUALITY,
                          required_quality="medium", style=True, gpt_image_options=True),
    "gpt-image-1-mini": Family("gpt-image-1-mini", _GPT_IMAGE_SIZES, "1024x1024",
                               qualities=_GPT_IMAGE_QUALITY, required_quality="medium",
                               gpt_image_options=True),
    "gpt-image-2": Family("gpt-image-2", (), "1024x1024", qualities=_GPT_IMAGE_QUALITY,
                          required_quality="medium", gpt_image_options=True,
                          size_rule=_gpt_image_2_size),
    "sdxl": Family("stable-diffusion-xl", SDXL_SIZES, "1024x1024", count_field="samples"),
    "midjourney": Family("midjourney", (), None, max_n=4, size_rule=_aspect_pair,
                         layout="aspect_pair", fixed_count=4, max_prompt=4000),
    "flux": Family("flux", (), None, max_n=4, count_field="num_outputs", size_rule=_flux_ratio,
                   layout="aspect_ratio"),
    "leonardo": Family("leonardo", (), "1024x1024", max_n=4, max_prompt=1500),
    "generic": Family("generic"),
}


def family_of(model: str) -> Family:
    name = model.lower()
    if name in FAMILIES:
        return FAMILIES[name]
    if name.startswith("gpt-image-1-mini"):
        return FAMILIES["gpt-image-1-mini"]
    if name.startswith("gpt-image-"):
        # gpt-image-1 variants and later gpt-image models need `quality` too (contract §5.1).
        return FAMILIES["gpt-image-1" if name.startswith("gpt-image-1") else "gpt-image-2"]
    if name.startswith("stable-diffusion-xl"):
        return FAMILIES["sdxl"]
    if name.startswith(("midjourney", "magic-art")):
        return FAMILIES["midjourney"]
    if "flux" in name:
        return FAMILIES["flux"]
    if _LEONARDO.match(name):
        return FAMILIES["leonardo"]
    return FAMILIES["generic"]


def _reduced(width: int, height: int) -> tuple[int, int]:
    divisor = gcd(width, height)
    return width // divisor, height // divisor


def _invalid(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")


def _check_size(model: str, family: Family, size: str) -> tuple[int, int] | None:
    """(width, height) of an accepted size; None for `auto`. Refused sizes are a 400 on `size`."""
    if family.sizes and size not in family.sizes:
        raise _invalid(f"`size` {size!r} is not available for {model}; it accepts "
                       f"{', '.join(family.sizes)}.", "size")
    if size == "auto":
        if family.sizes:
            return None
        raise _invalid(f"`size` 'auto' is not available for {model}; give WIDTHxHEIGHT.", "size")
    match = _SIZE.match(size)
    if match is None:
        raise _invalid("`size` must look like 1024x1024.", "size")
    width, height = int(match.group(1)), int(match.group(2))
    if family.size_rule is not None:
        why = family.size_rule(width, height)
        if why:
            raise _invalid(f"`size` {size!r} is not available for {model}: {why}.", "size")
    return width, height


def build_body(model: str, request: ImageRequest) -> FeatureBody:
    """The IMAGE_GENERATOR call for `request`; a 400 naming the parameter for what cannot work."""
    family = family_of(model)
    if len(request.prompt) > family.max_prompt:
        raise _invalid(f"`prompt` is too long for {model}: at most {family.max_prompt} characters.",
                       "prompt")
    if request.n > family.max_n:
        raise _invalid(f"{model} makes at most {family.max_n} image(s) per request; lower `n`.", "n")
    prompt: dict[str, Any] = {"prompt": request.prompt}
    if family.fixed_count is None:
        prompt[family.count_field] = request.n
    size = request.size or family.default_size
    dimensions = _check_size(model, family, size) if size else None
    if size and family.layout == "size":
        prompt["size"] = size
    elif dimensions and family.layout == "aspect_ratio":
        a, b = _reduced(*dimensions)
        prompt["aspect_ratio"] = f"{a}:{b}"
    elif family.layout == "aspect_pair":
        a, b = _reduced(*dimensions) if dimensions else (1, 1)
        prompt.update({"mode": "fast", "n": family.fixed_count, "aspect_width": a, "aspect_height": b})
    _add_quality(model, family, request, prompt)
    if request.style:
        if not family.style:
            raise _invalid(f"`style` is not available for {model}.", "style")
        prompt["style"] = request.style
    _add_gpt_image_options(model, family, request, prompt)
    return {"type": IMAGE_FEATURE, "model": model, "promptObject": prompt}


def _add_quality(model: str, family: Family, request: ImageRequest, prompt: dict[str, Any]) -> None:
    if family.qualities:
        quality = request.quality or family.required_quality
        if quality:
            prompt["quality"] = family.qualities[quality]
    elif request.quality not in (None, "standard", "auto"):
        # Defaults cost nothing to accept; a specific quality the model lacks would be ignored.
        raise _invalid(f"{model} has a single quality; `quality` {request.quality!r} is not available.",
                       "quality")


def _add_gpt_image_options(model: str, family: Family, request: ImageRequest,
                           prompt: dict[str, Any]) -> None:
    options = {"background": request.background, "output_format": request.output_format,
               "output_compression": request.output_compression}
    for name, value in options.items():
        if value is None:
            continue
        if not family.gpt_image_options:
            raise _invalid(f"`{name}` is only available for the gpt-image models.", name)
        prompt[name] = value


def response_extras(model: str, prompt_object: dict[str, Any]) -> dict[str, Any]:
    """The optional ImagesResponse fields the gpt-image models report (size, quality, format)."""
    if not family_of(model).gpt_image_options:
        return {}
    extras: dict[str, Any] = {}
    if prompt_object.get("size") in ("1024x1024", "1024x1536", "1536x1024"):
        extras["size"] = prompt_object["size"]
    if prompt_object.get("quality") in ("low", "medium", "high"):
        extras["quality"] = prompt_object["quality"]
    if prompt_object.get("output_format") in ("png", "webp", "jpeg"):
        extras["output_format"] = prompt_object["output_format"]
    if prompt_object.get("background") in ("transparent", "opaque"):
        extras["background"] = prompt_object["background"]
    return extras


_SIZE_WORDS = re.compile(r"\b(size|sizes|width|height|dimensions?|aspect)\b", re.I)


def param_for_message(message: str) -> str | None:
    """The parameter a provider's free-text complaint is about, when it says so plainly."""
    if _SIZE_WORDS.search(message):
        return "size"
    for name in ("quality", "style", "prompt"):
        if re.search(rf"\b{name}\b", message, re.I):
            return name
    return None
