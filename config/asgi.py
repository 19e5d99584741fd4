"""ASGI entry point: HTTP goes to Django, websockets through host resolution to consumers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from tenants.middleware import BrandHostASGIMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": BrandHostASGIMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
