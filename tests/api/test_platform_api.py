"""The platform API for account managers: staff tokens, brands, domains, agents,
staffing and brand API keys."""

import pytest
from django.test import Client

from helpdesk.models import AgentToken, Staffing
from tenants.models import Brand, BrandAPIKey, Domain
from tests.api.conftest import BrandAPI
from tests.factories import PASSWORD, UserFactory, account_manager, agent_staffed

pytestmark = pytest.mark.django_db


class PlatformAPI:
    def __init__(self, token: str | None):
        self.client = Client()
        self.headers = {"HTTP_HOST": "localhost"}
        if token:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def get(self, path, data=None, **extra):
        return self.client.get(f"/api/platform/v1/{path}", data, **self.headers, **extra)

    def post(self, path, data=None, **extra):
        return self.client.post(f"/api/platform/v1/{path}", data or {}, content_type="application/json", **self.headers, **extra)

    def patch(self, path, data):
        return self.client.patch(f"/api/platform/v1/{path}", data, content_type="application/json", **self.headers)

    def delete(self, path):
        return self.client.delete(f"/api/platform/v1/{path}", **self.headers)


@pytest.fixture
def platform(alpha):
    user = account_manager("am_api")
    response = PlatformAPI(None).post("auth/token", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 201, response.content
    return PlatformAPI(response.json()["token"])


def test_token_only_for_account_managers(alpha):
    plain = UserFactory(username="plain_user")
    response = PlatformAPI(None).post("auth/token", {"username": plain.username, "password": PASSWORD})
    assert response.status_code == 401 and response.json()["code"] == "bad_credentials"
    manager = account_manager("am_wrong_pw")
    assert PlatformAPI(None).post("auth/token", {"username": manager.username, "password": "nope"}).status_code == 401


def test_agent_token_is_refused(alpha):
    agent = agent_staffed("alpha")
    _, raw = AgentToken.issue(user=agent.user)
    response = PlatformAPI(raw).get("brands")
    assert response.status_code == 403 and response.json()["code"] == "not_account_manager"
    assert PlatformAPI(None).get("brands").status_code == 401
    assert PlatformAPI("wrong").get("brands").status_code == 401


def test_brand_key_is_refused_on_the_platform(alpha):
    from tests.api.conftest import issue

    assert PlatformAPI(issue("alpha")).get("brands").status_code == 401


def test_list_and_update_brands(platform):
    slugs = [row["slug"] for row in platform.get("brands").json()["results"]]
    assert slugs == ["alpha", "beta"]
    assert [row["slug"] for row in platform.get("brands", {"ordering": "-name"}).json()["results"]] == ["beta", "alpha"]
    updated = platform.patch("brands/alpha", {"plan": "growth", "slug": "renamed"})
    assert updated.status_code == 200 and updated.json()["plan"] == "growth" and updated.json()["slug"] == "alpha"
    bad = platform.patch("brands/alpha", {"primary_color": "red"})
    assert bad.status_code == 400 and "primary_color" in bad.json()["errors"]
    assert platform.get("brands/nope").status_code == 404


def test_suspend_and_reactivate(platform, alpha):
    assert platform.post("brands/alpha/suspend").json()["status"] == "suspended"
    assert Client().get("/api/widget/v1/config", HTTP_HOST="alpha.localhost").status_code == 503
    assert platform.post("brands/alpha/reactivate").json()["status"] == "active"


def test_create_brand_once_per_idempotency_key(platform):
    body = {"slug": "gamma", "name": "Gamma Goods", "plan": "growth"}
    created = platform.post("brands", body, HTTP_IDEMPOTENCY_KEY="new-gamma")
    assert created.status_code == 201, created.content
    assert created.json()["domains"] == ["gamma.localhost"]
    again = platform.post("brands", body, HTTP_IDEMPOTENCY_KEY="new-gamma")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Brand.objects.filter(slug="gamma").count() == 1
    reused = platform.post("brands", {**body, "slug": "delta"}, HTTP_IDEMPOTENCY_KEY="new-gamma")
    assert reused.status_code == 422 and not Brand.objects.filter(slug="delta").exists()
    duplicate = platform.post("brands", body)
    assert duplicate.status_code == 400


def test_domains(platform, alpha):
    added = platform.post("brands/alpha/domains", {"domain": "help.alpha.example"})
    assert added.status_code == 201, added.content
    assert Domain.objects.get(domain="help.alpha.example").tenant_id == alpha.id
    assert platform.post("brands/alpha/domains", {"domain": "localhost"}).status_code == 400
    assert platform.post("brands/beta/domains", {"domain": "help.alpha.example"}).status_code == 400
    primary = Domain.objects.get(tenant=alpha, is_primary=True)
    assert platform.delete(f"brands/alpha/domains/{primary.id}").status_code == 400
    assert platform.delete(f"brands/beta/domains/{added.json()['id']}").status_code == 404
    assert platform.delete(f"brands/alpha/domains/{added.json()['id']}").status_code == 204


def test_agents_and_staffing(platform, alpha):
    created = platform.post("agents", {"username": "new_agent", "email": "n@example.com", "password": "long-enough-1", "display_name": "New Agent"})
    assert created.status_code == 201, created.content
    agent_id = created.json()["id"]
    assert platform.post("agents", {"username": "new_agent", "email": "n@example.com", "password": "long-enough-1", "display_name": "Again"}).status_code == 400
    staffed = platform.post("brands/alpha/staffing", {"agent_id": agent_id, "role": "supervisor", "categories": ["shipping"]})
    assert staffed.status_code == 201, staffed.content
    assert Staffing.objects.get(agent_id=agent_id, brand=alpha).role == "supervisor"
    assert [row["agent_id"] for row in platform.get("brands/alpha/staffing").json()["results"]] == [agent_id]
    assert platform.get("brands/beta/staffing").json()["results"] == []
    assert platform.delete(f"brands/beta/staffing/{agent_id}").status_code == 404
    assert platform.delete(f"brands/alpha/staffing/{agent_id}").status_code == 204
    assert not Staffing.objects.filter(agent_id=agent_id).exists()


def test_brand_api_keys_issue_use_and_revoke(platform, alpha):
    issued = platform.post("brands/alpha/api-keys", {"name": "CRM", "access": "read", "resources": ["conversations"]})
    assert issued.status_code == 201, issued.content
    raw = issued.json()["key"]
    assert raw.startswith("hk_")
    listed = platform.get("brands/alpha/api-keys").json()["results"]
    assert [row["name"] for row in listed] == ["CRM"] and "key" not in listed[0]
    api = BrandAPI(slug="alpha", key=raw)
    assert api.get("conversations").status_code == 200
    assert api.get("articles").status_code == 403
    assert platform.get("brands/beta/api-keys").json()["results"] == []
    assert platform.post(f"brands/beta/api-keys/{issued.json()['id']}/revoke").status_code == 404
    revoked = platform.post(f"brands/alpha/api-keys/{issued.json()['id']}/revoke")
    assert revoked.json()["revoked_at"]
    assert api.get("conversations").status_code == 401
    assert platform.post("brands/alpha/api-keys", {"name": "x", "resources": ["everything"]}).status_code == 400
    assert BrandAPIKey.objects.filter(brand=alpha).count() == 1


def test_token_endpoint_is_throttled_per_address(alpha, settings):
    settings.API_THROTTLE_RATES = {"api_caller": "1000/min", "api_ip": "3/min"}
    statuses = [PlatformAPI(None).post("auth/token", {"username": "x", "password": "y"}, REMOTE_ADDR="198.51.100.7").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
