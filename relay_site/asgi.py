"""ASGI entry point served by daphne: `python -m daphne relay_site.asgi:application`."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay_site.settings")

application = get_asgi_application()

from api.uploads import UploadSizeGuard  # noqa: E402 - needs the settings configured above
from relay_site.daphne_patches import stop_form_parsing  # noqa: E402

# Oversized audio uploads are refused before Django reads their bodies, and Twisted does not
# parse multipart bodies that only Django should.
application = UploadSizeGuard(application)
stop_form_parsing()
