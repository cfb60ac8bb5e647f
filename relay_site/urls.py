"""Top-level routes: the OpenAI-compatible API under /v1/, the service index and the admin."""
from django.contrib import admin
from django.urls import include, path

from api.views.root import RootView

urlpatterns = [
    path("", RootView.as_view(), name="root"),
    path("admin/", admin.site.urls),
    path("v1/", include("api.urls")),
]
