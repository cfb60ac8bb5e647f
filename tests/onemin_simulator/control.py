"""The /_sim/* control API: the Simulator's test controls over HTTP, for standalone demos."""
from __future__ import annotations

import base64
import json
from typing import Any, Callable

from . import files
from .state import SimState
from .wire import HttpRequest, Response, json_response


def serialisable(entry: dict[str, Any]) -> dict[str, Any]:
    """A recorded request as JSON: raw bytes become base64, uploaded file bytes are left out."""
    out = {k: v for k, v in entry.items() if k != "body"}
    out["body_b64"] = base64.b64encode(entry["body"]).decode("ascii")
    if entry.get("form"):
        out["form"] = {"fields": entry["form"]["fields"],
                       "files": [{k: v for k, v in f.items() if k != "data"}
                                 for f in entry["form"]["files"]]}
    return out


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    payload = json.loads(request.body)
    if not isinstance(payload, dict):
        raise ValueError("control body must be a JSON object")
    return payload


def reset(state: SimState, request: HttpRequest) -> Response:
    state.reset()
    return json_response({"ok": True})


def requests(state: SimState, request: HttpRequest) -> Response:
    path = request.query.get("path")
    entries = [serialisable(r) for r in state.requests() if path is None or r["path"] == path]
    return json_response({"requests": entries, "total": len(entries)})


def script(state: SimState, request: HttpRequest) -> Response:
    body = _body(request)
    state.add_script(body.get("reply") or {}, body.get("path") or "/api/chat-with-ai",
                     body.get("times", 1), body.get("prompt_contains"))
    return json_response({"ok": True})


def config(state: SimState, request: HttpRequest) -> Response:
    if request.method == "GET":
        return json_response({"config": state.snapshot_config()})
    return json_response({"config": state.configure(_body(request))})


def publish(state: SimState, request: HttpRequest) -> Response:
    path = request.query.get("path")
    if not path:
        raise ValueError("publish needs ?path=")
    content_type = request.query.get("content_type") or request.header("content-type") \
        or "application/octet-stream"
    return json_response({"url": files.publish(state, path, request.body, content_type)})


def model_status(state: SimState, request: HttpRequest) -> Response:
    body = _body(request)
    state.catalogue.set_status(body["model_id"], body["status"])
    return json_response({"ok": True})


def keys(state: SimState, request: HttpRequest) -> Response:
    wanted = _body(request).get("keys") or []
    with state.lock:
        state.valid_keys.clear()
        state.valid_keys.update(str(k) for k in wanted)
    return json_response({"ok": True, "keys": sorted(wanted)})


def assets(state: SimState, request: HttpRequest) -> Response:
    with state.lock:
        listed = [{k: v for k, v in a.items() if k != "data"} for a in state.assets.values()]
    return json_response({"assets": listed})


def conversations(state: SimState, request: HttpRequest) -> Response:
    with state.lock:
        return json_response({"conversations": list(state.conversations.values())})


ROUTES: dict[tuple[str, str], Callable[[SimState, HttpRequest], Response]] = {
    ("POST", "/_sim/reset"): reset,
    ("GET", "/_sim/requests"): requests,
    ("POST", "/_sim/script"): script,
    ("GET", "/_sim/config"): config,
    ("POST", "/_sim/config"): config,
    ("POST", "/_sim/publish"): publish,
    ("POST", "/_sim/model-status"): model_status,
    ("POST", "/_sim/keys"): keys,
    ("GET", "/_sim/assets"): assets,
    ("GET", "/_sim/conversations"): conversations,
}


def handle(state: SimState, request: HttpRequest) -> Response:
    route = ROUTES.get((request.method, request.path))
    if route is None:
        return json_response({"error": f"no control route {request.method} {request.path}",
                              "routes": [f"{m} {p}" for m, p in ROUTES]}, 404)
    try:
        return route(state, request)
    except (ValueError, KeyError, TypeError) as exc:
        return json_response({"error": str(exc)}, 400)
