"""Brand API keys in the admins: the platform admin (every brand) and the brand admin on
the brand host (its own keys only). The raw key is shown once, after saving."""

import re

import pytest
from django.contrib.messages import get_messages

from tenants.models import BrandAPIKey
from tests.api.conftest import BrandAPI, issue
from tests.factories import PASSWORD, account_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client):
    user = account_manager("am_keys")
    assert client.login(username=user.username, password=PASSWORD)
    return client


def shown_key(response) -> str:
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    found = [match for text in texts for match in re.findall(r"hk_[\w-]+", text)]
    assert len(found) == 1, texts
    return found[0]


def test_brand_admin_issues_a_key_for_its_own_brand(manager_client, alpha, beta):
    issue("beta")  # another brand's key, never listed here
    response = manager_client.post(
        "/admin/tenants/brandapikey/add/",
        {"name": "Zapier", "access": "read", "resources": ["articles"], "expires_at_0": "", "expires_at_1": ""},
        HTTP_HOST="alpha.localhost",
    )
    assert response.status_code == 302, response.content[:2000]
    raw = shown_key(response)
    key = BrandAPIKey.objects.get(name="Zapier")
    assert key.brand_id == alpha.id and key.key_hash == BrandAPIKey.hash(raw) and key.resources == ["articles"]
    assert BrandAPI(slug="alpha", key=raw).get("articles").status_code == 200
    shown = manager_client.get("/admin/tenants/brandapikey/", HTTP_HOST="alpha.localhost")
    assert raw.encode() in shown.content  # the page the save leads to shows it, once
    listing = manager_client.get("/admin/tenants/brandapikey/", HTTP_HOST="alpha.localhost")
    assert b"Zapier" in listing.content and b"beta test key" not in listing.content
    assert raw.encode() not in listing.content


def test_brand_admin_revokes(manager_client, alpha):
    raw = issue("alpha")
    key = BrandAPIKey.objects.get(key_hash=BrandAPIKey.hash(raw))
    response = manager_client.post("/admin/tenants/brandapikey/", {"action": "revoke", "_selected_action": [key.pk]}, HTTP_HOST="alpha.localhost")
    assert response.status_code == 302
    assert BrandAPIKey.objects.get(pk=key.pk).revoked_at is not None
    assert BrandAPI(slug="alpha", key=raw).get("articles").status_code == 401


def test_brand_admin_cannot_open_another_brands_key(manager_client, alpha, beta):
    raw = issue("beta")
    key = BrandAPIKey.objects.get(key_hash=BrandAPIKey.hash(raw))
    response = manager_client.get(f"/admin/tenants/brandapikey/{key.pk}/change/", HTTP_HOST="alpha.localhost")
    assert response.status_code in (302, 404)
    assert b"beta test key" not in response.content


def test_platform_admin_issues_for_any_brand(manager_client, beta):
    response = manager_client.post(
        "/admin/tenants/brandapikey/add/",
        {"brand": beta.id, "name": "Warehouse", "access": "write", "expires_at_0": "", "expires_at_1": ""},
        HTTP_HOST="localhost",
    )
    assert response.status_code == 302, response.content[:2000]
    raw = shown_key(response)
    assert BrandAPIKey.objects.get(name="Warehouse").brand_id == beta.id
    assert BrandAPI(slug="beta", key=raw).get("conversations").status_code == 200
    assert manager_client.get("/admin/tenants/brandapikey/", HTTP_HOST="localhost").status_code == 200
