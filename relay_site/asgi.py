"""ASGI entry point served by daphne: `python -m daphne relay_site.asgi:application`."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay_site.settings")

application = get_asgi_application()

# Body limits before the body is read, header limits and graceful shutdown (daphne only).
from relay_site import daphne_hooks  # noqa: E402

daphne_hooks.install()
