"""POST /api/chat-with-ai: validation, deterministic replies, conversations, stream or JSON."""
from __future__ import annotations

import copy
from typing import Any, Optional

from .catalogue import CHAT
from .context import Ctx, Reply, with_timing
from .envelopes import ApiError, error_response
from .records import UNSET, ai_record, chat_metadata, default_chat_reply, shape_metadata
from .sse import chat_stream, error_stream
from .wire import json_response

LENIENT_TYPES = {"UNIFY_CHAT_WITH_AI", "CHAT_WITH_IMAGE", "CHAT"}
CRAWL_LINE = "🌐 Crawling site https://example.com/simulated-search\n"


def handle(ctx: Ctx) -> Reply:
    try:
        checked = validate(ctx)
    except ApiError as err:
        if ctx.streaming and ctx.config["stream_validation_errors"] == "event":
            # Upstream refuses a streaming call with HTTP 200 and a lone `event: error`.
            return error_stream(err.message, None, ctx.config)
        return error_response(err, ctx.config["error_envelope"])
    script = ctx.take_script()
    record = build_reply_record(ctx, checked, script)
    text = record["aiRecordDetail"]["resultObject"][0]
    if ctx.streaming:
        return chat_stream(text, record, script, ctx.config)
    return with_timing(json_response({"aiRecord": record}), script)


def validate(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body_object()
    check_type(body.get("type"), ctx.config["strict_type"])
    model = ctx.state.catalogue.active(body.get("model"), CHAT)
    if model is None:
        shown = body.get("model") if body.get("model") is not None else "undefined"
        raise ApiError(400, "UNSUPPORTED_MODEL", f"Model {shown} is not supported")
    prompt_object, prompt = check_prompt(body.get("promptObject"),
                                         int(ctx.config["prompt_validation_status"]))
    raw_settings = prompt_object.get("settings")
    settings: dict[str, Any] = raw_settings if isinstance(raw_settings, dict) else {}
    conversation = check_conversation(ctx, prompt_object.get("conversationId"))
    images, files = check_attachments(ctx, prompt_object.get("attachments"))
    web_search = web_search_on(settings)
    if web_search and web_search_refused(ctx.config["web_search_400"], model["modelId"]):
        raise ApiError(400, "WEB_SEARCH_FAILED", "Web search is not available for this model")
    ctx.state.annotate(ctx.record, attachments_seen=images, files_seen=files)
    return {"body": body, "model": model, "prompt": prompt, "prompt_object": prompt_object,
            "settings": settings, "conversation": conversation, "images": images,
            "web_search": web_search}


def check_type(value: Any, strict: bool) -> None:
    allowed = {"UNIFY_CHAT_WITH_AI"} if strict else LENIENT_TYPES
    # An earlier docs revision says the type defaults when omitted; the later one requires it.
    if value is None and not strict:
        return
    if value not in allowed:
        raise ApiError(400, "UNKNOWN_ERROR", f"Unsupported feature type: {value}")


def check_prompt(prompt_object: Any, status: int) -> tuple[dict[str, Any], str]:
    def refuse(message: str) -> ApiError:
        return ApiError(status, "PROMPT_OBJECT_VALIDATION_FAILED", message,
                        details=[{"field": "prompt", "message": "prompt must be a string"}])

    if not isinstance(prompt_object, dict):
        raise refuse("promptObject must be an object")
    if "messages" in prompt_object:
        raise refuse("promptObject.messages is not supported; send promptObject.prompt")
    if not isinstance(prompt_object.get("prompt"), str):
        raise refuse("promptObject.prompt must be a string")
    return prompt_object, prompt_object["prompt"]


def check_conversation(ctx: Ctx, conversation_id: Any) -> Optional[dict[str, Any]]:
    if conversation_id is None:
        return None
    conversation = ctx.state.conversation(conversation_id)
    if conversation is None:
        status = int(ctx.config["conversation_not_found_status"])
        raise ApiError(status, "CONVERSATION_NOT_FOUND",
                       f"Conversation {conversation_id} not found")
    return conversation


def check_attachments(ctx: Ctx, attachments: Any) -> tuple[list[str], list[str]]:
    """Images: uploaded paths or http(s) URLs, else 400. Files: uuids count, paths are ignored."""
    if attachments is None:
        return [], []
    if not isinstance(attachments, dict):
        raise ApiError(400, "PROMPT_OBJECT_VALIDATION_FAILED", "attachments must be an object")
    images: list[str] = []
    for item in attachments.get("images") or []:
        if isinstance(item, str) and item.startswith(("http://", "https://")):
            images.append(item)
        elif ctx.state.asset_by_path(item) is not None:
            images.append(item)
        else:
            raise ApiError(400, "ASSET_NOT_FOUND", f"Image asset not found: {item}")
    # Upstream accepts a path in `files` with 200 and attaches nothing: record only real uuids.
    files = [f for f in attachments.get("files") or [] if ctx.state.asset_by_uuid(f) is not None]
    return images, files


def web_search_on(settings: dict[str, Any]) -> bool:
    web = settings.get("webSearchSettings")
    return isinstance(web, dict) and web.get("webSearch") is True


def web_search_refused(switch: Any, model_id: str) -> bool:
    if isinstance(switch, (list, tuple, set)):
        return model_id in switch
    return bool(switch)


def build_reply_record(ctx: Ctx, checked: dict[str, Any], script: dict[str, Any]) -> dict[str, Any]:
    model, prompt = checked["model"], checked["prompt"]
    text = script["text"] if isinstance(script.get("text"), str) else \
        default_chat_reply(model["modelId"], prompt)
    if checked["web_search"] and ctx.config["web_search_crawl_lines"]:
        text = CRAWL_LINE + text
    finish = script.get("finish_reason", ctx.config["finish_reason"])
    full_meta = chat_metadata(prompt, text, model, len(checked["images"]), finish)
    metadata = script.get("metadata", UNSET)
    if metadata is UNSET:
        metadata = shape_metadata(full_meta, ctx.config["metadata_mode"])
    echo = copy.deepcopy(checked["prompt_object"])
    echo.setdefault("linkContentList", [])
    echo.setdefault("searchContentList", [])
    conversation = checked["conversation"]
    if conversation is not None:
        remember(ctx, conversation, checked["settings"], prompt, text)
    return ai_record(ctx.state, ctx.api_key, model=model,
                     record_type=checked["body"].get("type") or "UNIFY_CHAT_WITH_AI",
                     prompt_object=echo, result_object=[text], metadata=metadata,
                     credit=full_meta["credit"],
                     conversation_id=conversation["uuid"] if conversation else None,
                     status=script.get("record_status", "SUCCESS"))


def remember(ctx: Ctx, conversation: dict[str, Any], settings: dict[str, Any], prompt: str,
             text: str) -> None:
    """Record which past turns the model 'saw' (historyMessageLimit), then append this turn."""
    history = settings.get("historySettings")
    limit = history.get("historyMessageLimit", 10) if isinstance(history, dict) else 10
    with ctx.state.lock:
        messages = conversation["messages"]
        used = copy.deepcopy(messages[-int(limit):]) if int(limit) > 0 else []
        messages.append({"role": "user", "content": prompt})
        messages.append({"role": "assistant", "content": text})
    ctx.state.annotate(ctx.record, history_used=used)
