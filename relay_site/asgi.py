"""ASGI entry point served by daphne: `python -m daphne relay_site.asgi:application`."""
import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay_site.settings")

django_application = get_asgi_application()

# Imported once Django is set up.
from relay_site import daphne_tuning  # noqa: E402
from relay_site.api_handler import ApiHandler, route  # noqa: E402
from relay_site.tracing import TracingMiddleware  # noqa: E402

daphne_tuning.apply()

application = TracingMiddleware(route(ApiHandler(), django_application), log_access=settings.ACCESS_LOG)
