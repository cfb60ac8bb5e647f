"""Top-level routes: the OpenAI-compatible API under /v1/, the index, health, metrics and the admin."""
from django.contrib import admin
from django.contrib.staticfiles.views import serve
from django.urls import include, path, re_path

from api.views.health import HealthView, MetricsView, ReadyView
from api.views.root import RootView

# "View site" leads to the API's own documentation: the relay has no other public page.
admin.site.site_url = "/v1/docs"
admin.site.site_header = "1min-relay administration"
admin.site.site_title = "1min-relay admin"
admin.site.index_title = "Relay administration"

urlpatterns = [
    path("", RootView.as_view(), name="root"),
    path("admin/live/", include("live.urls")),
    path("admin/", admin.site.urls),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadyView.as_view(), name="readyz"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("v1/", include("api.urls")),
    # The API docs' own assets (Swagger UI, Redoc), served by the relay: no CDN, no collectstatic.
    re_path(r"^static/(?P<path>drf_spectacular_sidecar/.*)$", serve, {"insecure": True}),
    # The admin's, the usage dashboard's and the live view's CSS and scripts, likewise (operators may be offline).
    re_path(r"^static/(?P<path>(?:admin|quotas|live)/.*)$", serve, {"insecure": True}),
]
