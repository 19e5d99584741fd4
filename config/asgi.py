"""ASGI entry point: HTTP goes to Django, websockets through host resolution to consumers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from config.routing import AGENT_SOCKET_PREFIX  # noqa: E402
from tenants.middleware import BrandHostASGIMiddleware, SocketOriginMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Sessions identify agents on the platform host, so the agent socket takes only
        # origins we serve; the widget authenticates with its conversation token in the
        # first frame and sends no cookies, so any site may embed it. Host first: a
        # malformed or unknown Host is refused before anything else looks at it.
        "websocket": BrandHostASGIMiddleware(
            SocketOriginMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), cookie_paths=(AGENT_SOCKET_PREFIX,))
        ),
    }
)
