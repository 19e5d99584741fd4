"""ASGI entry point: HTTP goes to Django, websockets through host resolution to consumers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from tenants.middleware import BrandHostASGIMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Sessions identify agents on the platform host; the widget authenticates with
        # its conversation token in the first frame and sends no cookies.
        "websocket": BrandHostASGIMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
