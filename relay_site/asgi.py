"""ASGI entry point served by daphne: `python -m daphne relay_site.asgi:application`."""
import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay_site.settings")

django_application = get_asgi_application()

from relay_site.tracing import TracingMiddleware  # noqa: E402 - needs Django set up

application = TracingMiddleware(django_application, log_access=settings.ACCESS_LOG)
