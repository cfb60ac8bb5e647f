"""Routes under /v1/: each OpenAI endpoint, Anthropic's Messages, then a catch-all 404 in the OpenAI envelope."""
from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView

from api.views.audio import SpeechView, TranscriptionsView, TranslationsView
from api.views.base import UnknownEndpointView
from api.views.chat import ChatCompletionsView
from api.views.images import ImageGenerationsView
from api.views.messages import CountTokensView, MessagesView
from api.views.models import ModelDetailView, ModelListView
from api.views.responses import ResponseDetailView, ResponseInputItemsView, ResponsesView

urlpatterns = [
    path("chat/completions", ChatCompletionsView.as_view()),
    path("images/generations", ImageGenerationsView.as_view()),
    path("audio/transcriptions", TranscriptionsView.as_view()),
    path("audio/translations", TranslationsView.as_view()),
    path("audio/speech", SpeechView.as_view()),
    path("models", ModelListView.as_view()),
    # Model ids may contain slashes (black-forest-labs/flux-schnell).
    path("models/<path:model_id>", ModelDetailView.as_view()),
    path("responses", ResponsesView.as_view()),
    path("responses/<str:response_id>", ResponseDetailView.as_view()),
    path("responses/<str:response_id>/input_items", ResponseInputItemsView.as_view()),
    path("messages", MessagesView.as_view()),
    path("messages/count_tokens", CountTokensView.as_view()),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="openapi"), name="redoc"),
    # [\s\S], not `.`: a path with a newline (%0A) gets the JSON 404 too, not Django's HTML page.
    re_path(r"^[\s\S]*$", UnknownEndpointView.as_view()),
]
