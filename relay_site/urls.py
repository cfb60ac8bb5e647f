"""Top-level routes: the OpenAI-compatible API under /v1/, the index, health, metrics and the admin."""
from django.contrib import admin
from django.urls import include, path

from api.views.health import HealthView, MetricsView, ReadyView
from api.views.root import RootView

urlpatterns = [
    path("", RootView.as_view(), name="root"),
    path("admin/", admin.site.urls),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadyView.as_view(), name="readyz"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("v1/", include("api.urls")),
]
