"""ASGI entry point served by daphne: `python -m daphne relay_site.asgi:application`."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay_site.settings")

application = get_asgi_application()

from api.uploads import UploadSizeGuard  # noqa: E402 - needs the settings configured above

# Oversized audio uploads are refused before Django reads their bodies.
application = UploadSizeGuard(application)
