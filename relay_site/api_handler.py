"""The API's own Django handler: the same URLs and views, without the admin's per-request thread hops.

Under ASGI, stock Django runs each MiddlewareMixin middleware, the request_started signal, deferred
rendering and response.close() through sync_to_async; the first such call in a request starts a
thread for that request (and another to join it). /v1/ and the health endpoints need none of that:
this handler gives them a natively async middleware chain without the admin's middleware (sessions,
CSRF, auth, messages, frames; security headers and the host check inline), sends the request
signals inline (their receivers
only close this thread's database connections, and the event loop's thread has none) and logs error
responses inline. Every other path goes to Django's own handler unchanged.
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from typing import Iterator

from asgiref.sync import markcoroutinefunction
from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost, RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix, set_urlconf
from django.utils.log import log_response

from core.errors import InvalidRequest, error_response

security_log = logging.getLogger("django.security.DisallowedHost")
API_PREFIXES = ("/v1/", "/healthz", "/readyz", "/metrics")


class AllowedHostsMiddleware:
    """The ALLOWED_HOSTS check CommonMiddleware does for the admin, answered in the OpenAI envelope."""

    sync_capable, async_capable = False, True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)  # so Django's wrappers await it

    async def __call__(self, request):
        try:
            request.get_host()
        except DisallowedHost as error:
            security_log.warning("%s", error)
            return error_response(InvalidRequest("This host name is not served here.", code="disallowed_host"))
        return await self.get_response(request)


class InlineSecurityMiddleware(SecurityMiddleware):
    """Django's SecurityMiddleware (HTTPS redirect, HSTS, nosniff) run inline: a few header checks
    are cheaper than the two thread hops MiddlewareMixin would make for them."""

    sync_capable, async_capable = False, True

    async def __acall__(self, request):
        response = self.process_request(request)
        if response is None:
            response = await self.get_response(request)
        return self.process_response(request, response)


# Admin middleware the API keeps, in natively async form.
_REPLACED = {
    "django.middleware.security.SecurityMiddleware": f"{__name__}.InlineSecurityMiddleware",
    "django.middleware.common.CommonMiddleware": f"{__name__}.AllowedHostsMiddleware",
}


@contextmanager
def _middleware(chain: list[str]) -> Iterator[None]:
    # Django builds a handler's chain from settings.MIDDLEWARE; this handler's list differs.
    original = settings.MIDDLEWARE
    settings.MIDDLEWARE = chain
    try:
        yield
    finally:
        settings.MIDDLEWARE = original


def api_middleware() -> list[str]:
    """MIDDLEWARE without the admin's own, security and host checks in their async form."""
    skipped = set(settings.ADMIN_ONLY_MIDDLEWARE)
    chain = [_REPLACED.get(m, m) for m in settings.MIDDLEWARE if m not in skipped]
    hosts = _REPLACED["django.middleware.common.CommonMiddleware"]
    return chain if hosts in chain else [hosts, *chain]


class ApiHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        with _middleware(api_middleware()):
            super().load_middleware(is_async)

    async def get_response_async(self, request):
        set_urlconf(settings.ROOT_URLCONF)
        response = await self._middleware_chain(request)
        response._resource_closers.append(request.close)
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))  # as CommonMiddleware does
        if response.status_code >= 400:
            log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
        return response

    async def handle(self, scope, receive, send) -> None:
        """Django 5.2's ASGIHandler.handle with the two sync_to_async hops made inline calls, and
        its tasks' errors read rather than raised (no reference cycle per request)."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return

        async def process_request(request, send):
            response = await self.run_get_response(request)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while the response was being sent
            return response

        # As Django does: a client that disconnects cancels the view (and so closes upstreams).
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                # Read, not raised here as Django does: raised through this frame, the listener's
                # RequestAborted (most requests end with one) would hold the frame, the frame
                # `tasks`, and the tasks the error: a cycle only a full garbage collection frees.
                error = task.exception()
                if error is not None and not isinstance(error, RequestAborted):
                    if isinstance(error, AssertionError):
                        body_file.close()
                    raise error
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            signals.request_finished.send(sender=self.__class__)
        else:
            response.close()  # sends request_finished
        body_file.close()


def route(api, site):
    """One ASGI application: API paths to the API handler, the rest (admin, index) to Django's.

    With FRAMEWORK_FAST_PATHS off everything goes to Django's own handler: the stock path that
    bench/bypasses.py measures this one against (docs/architecture.md)."""
    if not settings.FRAMEWORK_FAST_PATHS:
        return site

    async def application(scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIXES):
            await api(scope, receive, send)
        else:
            await site(scope, receive, send)

    return application
