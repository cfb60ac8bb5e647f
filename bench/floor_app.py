"""The floor: empty async views under daphne with nothing of the relay, to divide every figure by.

`POST /floor/drf` is a stock adrf APIView returning an empty DRF Response (what "an async DRF view"
costs); `POST /floor/django` a plain async Django view (what Django alone costs). No middleware.
Serve with `python -m daphne -b 127.0.0.1 -p PORT bench.floor_app:application`.
"""
import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-floor-only",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    MIDDLEWARE=[],
    DATABASES={},
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "DEFAULT_THROTTLE_CLASSES": [],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from adrf.views import APIView  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.response import Response  # noqa: E402


class EmptyDRFView(APIView):
    async def post(self, request):
        return Response({})


async def empty_django_view(request):
    return JsonResponse({})


empty_django_view.csrf_exempt = True

urlpatterns = [
    path("floor/drf", EmptyDRFView.as_view()),
    path("floor/django", empty_django_view),
]

application = get_asgi_application()
