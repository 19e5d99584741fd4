"""Websocket routes. Each consumer checks it is on the right kind of host."""

websocket_urlpatterns: list = []
