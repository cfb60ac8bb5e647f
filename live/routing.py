"""The live view's WebSocket route (served by the same daphne process as the API)."""
from django.urls import path

from live.consumers import LiveConsumer

SOCKET_PATH = "admin/live/socket"

websocket_urlpatterns = [path(SOCKET_PATH, LiveConsumer.as_asgi())]
