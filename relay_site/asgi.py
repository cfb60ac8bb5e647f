"""ASGI entry point served by daphne: `python -m daphne relay_site.asgi:application`."""
import os

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay_site.settings")

django_application = get_asgi_application()

# Imported once Django is set up.
from api.apps import application_loaded  # noqa: E402
from api.media.uploads import UploadSizeGuard  # noqa: E402
from relay_site import daphne_hooks  # noqa: E402
from relay_site.api_handler import ApiHandler, route  # noqa: E402
from relay_site.daphne_patches import stop_form_parsing  # noqa: E402
from relay_site.tracing import TracingMiddleware  # noqa: E402
from live.routing import websocket_urlpatterns  # noqa: E402

# Body limits before the body is read, header limits and graceful shutdown (daphne only); then
# Twisted stops parsing multipart bodies that only Django should. The ASGI guard below is a second
# line for oversized audio uploads (and the only one under other ASGI servers). The API paths get
# their own handler (relay_site/api_handler.py); tracing wraps everything, so every response
# carries x-request-id. WebSockets (the admin's live view, live/) need a staff session and an
# Origin among ALLOWED_HOSTS.
daphne_hooks.install()
http_application = TracingMiddleware(
    UploadSizeGuard(route(ApiHandler(), django_application)), log_access=settings.ACCESS_LOG
)
application = ProtocolTypeRouter({
    "http": http_application,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
stop_form_parsing()

# Every view, now rather than at the first request; then the warm-up may freeze the heap (api/apps.py).
get_resolver().url_patterns
application_loaded.set()
