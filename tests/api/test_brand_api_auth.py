"""Who may call the brand API: a live key of the host's brand, within its scopes."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from helpdesk.models import AgentToken
from tenants.models import BrandAPIKey
from tenants.services import api_key_revoke
from tests.api.conftest import BrandAPI, issue
from tests.factories import agent_staffed

pytestmark = pytest.mark.django_db


def test_no_key_is_401_json(alpha):
    response = BrandAPI(slug="alpha", key=None).get("conversations")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


def test_unknown_key_is_401(alpha):
    response = BrandAPI(slug="alpha", key="hk_not-a-key").get("conversations")
    assert response.status_code == 401
    assert response.json()["code"] == "bad_api_key"


def test_key_is_stored_hashed_and_shown_once(alpha):
    raw = issue("alpha")
    key = BrandAPIKey.objects.get(prefix=raw[:10])
    assert key.key_hash == BrandAPIKey.hash(raw) and raw not in (key.key_hash, key.prefix)


def test_key_of_brand_a_on_brand_b_host_is_404(alpha, beta):
    response = BrandAPI(slug="alpha", key=issue("alpha"), host="beta.localhost").get("conversations")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_brand_api_is_not_on_the_platform_host(alpha):
    response = BrandAPI(slug="alpha", key=issue("alpha"), host="localhost").get("conversations")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_revoked_key_fails(alpha):
    raw = issue("alpha")
    api = BrandAPI(slug="alpha", key=raw)
    assert api.get("conversations").status_code == 200
    api_key_revoke(key=BrandAPIKey.objects.get(key_hash=BrandAPIKey.hash(raw)))
    assert api.get("conversations").status_code == 401


def test_expired_key_fails(alpha):
    api = BrandAPI(slug="alpha", key=issue("alpha", expires_at=timezone.now() - timedelta(seconds=1)))
    assert api.get("conversations").status_code == 401
    fresh = BrandAPI(slug="alpha", key=issue("alpha", expires_at=timezone.now() + timedelta(days=1)))
    assert fresh.get("conversations").status_code == 200


def test_last_used_time_is_noted(alpha):
    raw = issue("alpha")
    BrandAPI(slug="alpha", key=raw).get("conversations")
    assert BrandAPIKey.objects.get(key_hash=BrandAPIKey.hash(raw)).last_used_at is not None


def test_agent_token_cannot_use_the_brand_api(alpha):
    agent = agent_staffed("alpha")
    _, raw = AgentToken.issue(user=agent.user)
    response = Client().get("/api/v1/conversations", HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401


def test_read_key_cannot_write(api_alpha_read):
    response = api_alpha_read.post("canned-replies", {"shortcut": "hi", "title": "Hi", "body": "Hello"})
    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"
    assert api_alpha_read.get("canned-replies").status_code == 200


def test_key_reaches_only_its_resources(alpha):
    api = BrandAPI(slug="alpha", key=issue("alpha", access="read", resources=["surveys"]))
    assert api.get("survey-responses").status_code == 200
    for path in ["conversations", "articles", "custom-fields", "agents", "business-hours"]:
        response = api.get(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "scope_missing"
