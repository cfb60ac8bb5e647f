"""OpenAI image requests become each family's IMAGE_GENERATOR body, or a 400 naming the parameter."""
import pytest

from core.errors import InvalidRequest
from api.request_schemas.media import ImageRequest
from api.translators.images import build_body, family_of, param_for_message, response_extras


@pytest.mark.parametrize(
    "model, request_fields, prompt_object",
    [
        ("gpt-image-1-mini", {}, {"n": 1, "size": "1024x1024", "quality": "medium"}),
        ("gpt-image-1-mini", {"quality": "hd", "n": 3}, {"n": 3, "size": "1024x1024", "quality": "high"}),
        ("gpt-image-1", {"quality": "standard", "size": "1536x1024", "style": "vivid"},
         {"n": 1, "size": "1536x1024", "quality": "medium", "style": "vivid"}),
        ("gpt-image-1", {"quality": "auto", "size": "auto", "background": "transparent", "output_format": "webp"},
         {"n": 1, "size": "auto", "quality": "medium", "background": "transparent", "output_format": "webp"}),
        ("gpt-image-1", {"quality": "low"}, {"n": 1, "size": "1024x1024", "quality": "low"}),
        ("gpt-image-2", {"size": "1280x720"}, {"n": 1, "size": "1280x720", "quality": "medium"}),
        ("dall-e-3", {}, {"n": 1, "size": "1024x1024"}),
        ("dall-e-3", {"quality": "hd", "style": "natural", "size": "1024x1792"},
         {"n": 1, "size": "1024x1792", "quality": "hd", "style": "natural"}),
        ("dall-e-3", {"quality": "high"}, {"n": 1, "size": "1024x1024", "quality": "hd"}),
        ("dall-e-3", {"quality": "low"}, {"n": 1, "size": "1024x1024", "quality": "standard"}),
        ("dall-e-2", {"n": 4, "size": "256x256", "quality": "standard"}, {"n": 4, "size": "256x256"}),
        ("stable-diffusion-xl-1024-v1-0", {"n": 2, "size": "1152x896"}, {"samples": 2, "size": "1152x896"}),
        ("midjourney", {"size": "1792x1024"}, {"mode": "fast", "n": 4, "aspect_width": 7, "aspect_height": 4}),
        ("midjourney_7_0", {}, {"mode": "fast", "n": 4, "aspect_width": 1, "aspect_height": 1}),
        ("black-forest-labs/flux-2-klein-4b", {"n": 2, "size": "1024x576"}, {"num_outputs": 2, "aspect_ratio": "16:9"}),
        ("6b645e3a-d64f-4341-a6d8-7a3690fbf042", {"n": 2}, {"n": 2, "size": "1024x1024"}),
        ("some-new-model", {"size": "800x600"}, {"n": 1, "size": "800x600"}),
    ],
)
def test_each_family_gets_the_fields_it_takes(model, request_fields, prompt_object):
    body = build_body(model, ImageRequest(prompt="a red apple", **request_fields))
    assert body == {"type": "IMAGE_GENERATOR", "model": model,
                    "promptObject": {"prompt": "a red apple", **prompt_object}}


@pytest.mark.parametrize(
    "model, request_fields, param",
    [
        ("dall-e-3", {"size": "512x512"}, "size"),
        ("dall-e-3", {"n": 2}, "n"),
        ("dall-e-2", {"size": "1024x1536"}, "size"),
        ("dall-e-2", {"quality": "hd"}, "quality"),
        ("dall-e-2", {"style": "vivid"}, "style"),
        ("gpt-image-1-mini", {"size": "1792x1024"}, "size"),
        ("gpt-image-1-mini", {"style": "natural"}, "style"),
        ("gpt-image-2", {"size": "1000x1000"}, "size"),  # not a multiple of 16
        ("gpt-image-2", {"size": "4096x1024"}, "size"),  # long side and ratio
        ("stable-diffusion-xl-1024-v1-0", {"size": "512x512"}, "size"),
        ("stable-diffusion-xl-1024-v1-0", {"size": "auto"}, "size"),
        ("midjourney", {"size": "1000x100"}, "size"),
        ("midjourney", {"n": 5}, "n"),
        ("black-forest-labs/flux-2-pro", {"size": "1000x300"}, "size"),
        ("dall-e-3", {"background": "transparent"}, "background"),
        ("dall-e-2", {"prompt": "x" * 1001}, "prompt"),
    ],
)
def test_what_a_family_cannot_do_is_a_400_on_that_parameter(model, request_fields, param):
    fields = {"prompt": "a red apple", **request_fields}
    with pytest.raises(InvalidRequest) as caught:
        build_body(model, ImageRequest(**fields))
    assert caught.value.param == param and caught.value.status == 400


def test_a_refused_size_lists_the_sizes_the_model_takes():
    with pytest.raises(InvalidRequest) as caught:
        build_body("dall-e-3", ImageRequest(prompt="x", size="512x512"))
    assert "1024x1024, 1024x1792, 1792x1024" in caught.value.message


@pytest.mark.parametrize(
    "model, family",
    [("gpt-image-1-mini", "gpt-image-1-mini"), ("gpt-image-1.5", "gpt-image-1"), ("gpt-image-3", "gpt-image-2"),
     ("magic-art", "midjourney"), ("flux-2-pro", "flux"), ("stable-diffusion-xl-1024-v1-0", "stable-diffusion-xl"),
     ("stable-diffusion-v1-6", "generic")],
)
def test_models_are_grouped_into_families(model, family):
    assert family_of(model).name == family


def test_gpt_image_responses_report_size_and_quality_within_openai_enums():
    assert response_extras("gpt-image-1", {"size": "1024x1024", "quality": "low"}) == {"size": "1024x1024", "quality": "low"}
    assert response_extras("gpt-image-1", {"size": "auto", "quality": "medium"}) == {"quality": "medium"}
    assert response_extras("dall-e-3", {"size": "1024x1024", "quality": "hd"}) == {}


@pytest.mark.parametrize(
    "message, param",
    [("The size does not match the allowed size 1664*928.", "size"),
     ("For 1024 engines, height & width must be one of the following", "size"),
     ("Invalid quality", "quality"), ("Your prompt was flagged", "prompt"), ("Something else", None)],
)
def test_provider_complaints_name_the_parameter_they_are_about(message, param):
    assert param_for_message(message) == param
