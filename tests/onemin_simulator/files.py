"""Byte-serving routes: published test files, signed-URL and CDN copies, and a redirector."""
from __future__ import annotations

from urllib.parse import urlencode

from .context import Ctx, Reply
from .state import SimState
from .wire import Response, json_response

REDIRECT_CODES = {301, 302, 303, 307, 308}


def _serve(ctx: Ctx, spaces: tuple[str, ...]) -> Reply:
    found = ctx.state.find_file(spaces, ctx.params["path"])
    if found is None:
        # S3 and the CDN answer a missing key with 403/404 XML; a plain 404 is enough here.
        return json_response({"message": f"Not found: {ctx.params['path']}",
                              "error": "Not Found", "statusCode": 404}, 404)
    return Response(200, found.data, content_type=found.content_type)


def public(ctx: Ctx) -> Reply:
    return _serve(ctx, ("public",))


def temporary(ctx: Ctx) -> Reply:
    """The `temporaryUrl` target; the fake signature query is ignored."""
    return _serve(ctx, ("generated",))


def cdn(ctx: Ctx) -> Reply:
    """`{sim.url}/cdn/<path>` stands in for https://asset.1min.ai/<path>."""
    return _serve(ctx, ("generated", "asset"))


def redirect(ctx: Ctx) -> Reply:
    target = ctx.request.query.get("to", "")
    status = int(ctx.request.query.get("status", "302") or 302)
    if not target or status not in REDIRECT_CODES:
        return json_response({"message": "redirect needs ?to=<url> and a 30x status",
                              "statusCode": 400}, 400)
    return Response(status, b"", content_type=None, headers={"Location": target})


def publish(state: SimState, path: str, data: bytes, content_type: str) -> str:
    path = path.lstrip("/")
    state.store_file("public", path, data, content_type)
    return f"{state.public_base()}/public/{path}"


def redirect_url(state: SimState, to: str, status: int = 302) -> str:
    return f"{state.public_base()}/redirect?" + urlencode({"to": to, "status": status})
