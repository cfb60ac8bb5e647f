"""ASGI entry point served by daphne: `python -m daphne relay_site.asgi:application`."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay_site.settings")

application = get_asgi_application()

from django.conf import settings  # noqa: E402 - settings are configured by the line above

if settings.SERVE_STATIC:
    # The admin's and the usage dashboard's CSS and scripts, served by the relay itself so the
    # operator needs no web server or CDN. Only paths under STATIC_URL are intercepted.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    application = ASGIStaticFilesHandler(application)
