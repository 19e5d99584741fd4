"""Websocket routes. Each consumer checks it is on the right kind of host; any other
path has its handshake refused (without the last route Channels raises "No route found"
and the server logs an exception for every stray probe)."""

from django.urls import path, re_path

from chat.consumers import WidgetConsumer
from realtime.socket import RefusedPathConsumer
from workspace.consumers import AgentConsumer

AGENT_SOCKET_PREFIX = "/ws/agent/"

websocket_urlpatterns = [
    path("ws/widget/v1/conversations/<int:conversation_id>/", WidgetConsumer.as_asgi()),
    path("ws/agent/v1/", AgentConsumer.as_asgi()),
    re_path(r"", RefusedPathConsumer.as_asgi()),
]
