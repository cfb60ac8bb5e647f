"""POST /api/conversations and DELETE /api/conversations/{uuid}; chat keeps their history."""
from __future__ import annotations

import uuid

from .context import Ctx, Reply, with_timing
from .envelopes import ApiError
from .records import iso_now
from .wire import json_response


def create(ctx: Ctx) -> Reply:
    body = ctx.body_object()
    problems = [f"{name} should not be empty" for name in ("type", "title", "model")
                if not isinstance(body.get(name), str) or not body.get(name)]
    title_max = ctx.config["conversation_title_max"]
    if not problems and title_max and len(body["title"]) > int(title_max):
        problems.append(f"title must be shorter than or equal to {title_max} characters")
    if not problems and ctx.config["strict_type"] and body["type"] != "UNIFY_CHAT_WITH_AI":
        problems.append("type must be UNIFY_CHAT_WITH_AI")
    if problems:
        raise ApiError(400, "REQUEST_BODY_VALIDATION_FAILED", "; ".join(problems),
                       details=[{"field": p.split(" ", 1)[0], "message": p} for p in problems])
    script = ctx.take_script()
    conversation = {"uuid": str(uuid.uuid4()), "title": body["title"], "status": "ACTIVE",
                    "createdAt": iso_now()}
    with ctx.state.lock:
        ctx.state.conversations[conversation["uuid"]] = {
            **conversation, "type": body["type"], "model": body["model"], "messages": []}
    return with_timing(json_response({"conversation": conversation}), script)


def delete(ctx: Ctx) -> Reply:
    conversation_id = ctx.params["uuid"]
    with ctx.state.lock:
        removed = ctx.state.conversations.pop(conversation_id, None)
    if removed is None:
        raise ApiError(404, "CONVERSATION_NOT_FOUND", f"Conversation {conversation_id} not found")
    return with_timing(json_response({"success": True, "uuid": conversation_id}), ctx.take_script())
