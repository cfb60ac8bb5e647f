"""ASGI entry point served by daphne: `python -m daphne relay_site.asgi:application`."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay_site.settings")

application = get_asgi_application()

from api.uploads import UploadSizeGuard  # noqa: E402 - needs the settings configured above
from relay_site import daphne_hooks  # noqa: E402
from relay_site.daphne_patches import stop_form_parsing  # noqa: E402

# Body limits before the body is read, header limits and graceful shutdown (daphne only); then
# Twisted stops parsing multipart bodies that only Django should. The ASGI guard below is a second
# line for oversized audio uploads (and the only one under other ASGI servers).
daphne_hooks.install()
application = UploadSizeGuard(application)
stop_form_parsing()
