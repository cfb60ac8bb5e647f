"""The live view's admin page and its polling fallback, the same snapshot as JSON (staff only)."""
from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from live.consumers import may_watch
from live.hub import hub
from live.routing import SOCKET_PATH

# Seconds between two polls when the WebSocket cannot connect.
POLL_SECONDS = 2


@staff_member_required
def page(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "live/live.html", {
        **admin.site.each_context(request),
        "title": "Live",
        "enabled": settings.LIVE_VIEW,
        "socket_path": "/" + SOCKET_PATH,
        "poll_seconds": POLL_SECONDS,
    })


async def snapshot(request: HttpRequest) -> JsonResponse:
    if not may_watch(await request.auser()):
        return JsonResponse({"error": "staff only"}, status=403)
    if not settings.LIVE_VIEW:
        return JsonResponse({"error": "the live view is off (LIVE_VIEW=false)"}, status=404)
    hub.polled()
    response = JsonResponse({"mode": "polling", **await hub.snapshot()})
    response["Cache-Control"] = "no-store"
    return response
