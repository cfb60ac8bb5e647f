"""The live view's pages, under /admin/live/."""
from django.urls import path

from live import views

app_name = "live"
urlpatterns = [
    path("", views.page, name="page"),
    path("snapshot.json", views.snapshot, name="snapshot"),
]
