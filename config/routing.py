"""Websocket routes. Each consumer checks it is on the right kind of host."""

from django.urls import path

from chat.consumers import WidgetConsumer
from workspace.consumers import AgentConsumer

websocket_urlpatterns = [
    path("ws/widget/v1/conversations/<int:conversation_id>/", WidgetConsumer.as_asgi()),
    path("ws/agent/v1/", AgentConsumer.as_asgi()),
]
