import json

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from tenants.middleware import WS_CLOSE_BRAND_SUSPENDED, WS_CLOSE_UNKNOWN_HOST, BrandHostASGIMiddleware
from tenants.models import Brand


@pytest.mark.django_db
@pytest.mark.parametrize(
    "host, status, schema",
    [
        ("alpha.localhost", 200, "brand_alpha"),
        ("alpha.localhost:8000", 200, "brand_alpha"),
        ("beta.localhost", 200, "brand_beta"),
        ("localhost:8000", 200, "public"),
    ],
)
def test_http_host_enters_the_right_schema(client, host, status, schema):
    response = client.get("/healthz", HTTP_HOST=host)
    assert response.status_code == status
    assert response.json()["schema"] == schema


@pytest.mark.django_db
def test_http_unknown_host_gets_404_not_the_platform(client):
    response = client.get("/admin/login/", HTTP_HOST="nosuch.localhost")
    assert response.status_code == 404
    assert b"No support site" in response.content
    api = client.get("/api/widget/v1/config", HTTP_HOST="nosuch.localhost")
    assert api.status_code == 404 and "detail" in api.json()


@pytest.mark.django_db
def test_http_platform_admin_is_only_on_the_platform_host(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/tenants/brand/", HTTP_HOST="localhost").status_code == 200
    # A brand host has the brand's own admin, without brands, agents or staffing.
    assert client.get("/admin/tenants/brand/", HTTP_HOST="alpha.localhost").status_code == 404
    assert client.get("/admin/helpdesk/staffing/", HTTP_HOST="alpha.localhost").status_code == 404
    assert client.get("/admin/knowledge/article/", HTTP_HOST="alpha.localhost").status_code == 200
    assert client.get("/admin/knowledge/article/", HTTP_HOST="localhost").status_code == 404


@pytest.mark.django_db
def test_http_suspended_brand_answers_with_a_clear_page_and_json(client, alpha):
    Brand.objects.filter(pk=alpha.pk).update(status=Brand.Status.SUSPENDED)
    page = client.get("/support/", HTTP_HOST="alpha.localhost")
    assert page.status_code == 503
    assert b"Alpha Outdoor support is temporarily unavailable" in page.content
    api = client.get("/api/widget/v1/config", HTTP_HOST="alpha.localhost")
    assert api.status_code == 503
    assert api.json()["code"] == "brand_suspended"


class ScopeReporter(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send_json({"schema": self.scope["brand_schema"], "platform": self.scope["is_platform_host"]})


application = BrandHostASGIMiddleware(URLRouter([path("ws/probe/", ScopeReporter.as_asgi())]))


async def _connect(host: str):
    communicator = WebsocketCommunicator(application, "/ws/probe/", headers=[(b"host", host.encode())])
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_websocket_brand_and_platform_hosts_resolve():
    communicator, connected, _ = await _connect("alpha.localhost:8000")
    assert connected
    assert await communicator.receive_json_from() == {"schema": "brand_alpha", "platform": False}
    await communicator.disconnect()

    communicator, connected, _ = await _connect("localhost:8000")
    assert connected
    assert await communicator.receive_json_from() == {"schema": "public", "platform": True}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_websocket_unknown_host_handshake_is_refused():
    communicator, connected, code = await _connect("nosuch.localhost")
    assert not connected
    assert code == WS_CLOSE_UNKNOWN_HOST
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_websocket_suspended_brand_gets_error_frame_then_close():
    from channels.db import database_sync_to_async

    await database_sync_to_async(lambda: Brand.objects.filter(slug="beta").update(status=Brand.Status.SUSPENDED))()
    communicator, connected, _ = await _connect("beta.localhost")
    assert connected
    frame = json.loads((await communicator.receive_output())["text"])
    assert frame["type"] == "error" and frame["code"] == "brand_suspended"
    assert (await communicator.receive_output())["code"] == WS_CLOSE_BRAND_SUSPENDED
    await communicator.disconnect()
