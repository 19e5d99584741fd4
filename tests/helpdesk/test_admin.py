import pytest
from django_tenants.utils import schema_exists

from helpdesk.models import Staffing
from tenants.models import Brand, Domain
from tests.factories import PASSWORD, AgentFactory, StaffingFactory, account_manager

PLATFORM = {"HTTP_HOST": "localhost:8000"}


@pytest.fixture
def manager_client(client, db):
    user = account_manager()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/tenants/brand/",
        "/admin/tenants/brand/?status__exact=active&q=alp",
        "/admin/tenants/brand/add/",
        "/admin/tenants/domain/",
        "/admin/helpdesk/agentprofile/",
        "/admin/helpdesk/agentprofile/add/",
        "/admin/helpdesk/staffing/",
        "/admin/helpdesk/user/",
    ],
)
def test_admin_pages_load_for_an_account_manager(manager_client, url):
    response = manager_client.get(url, **PLATFORM)
    assert response.status_code == 200, response.content[:500]


@pytest.mark.django_db
def test_brand_change_page_shows_domain_and_staffing_inlines(manager_client, alpha):
    StaffingFactory(brand=alpha, agent=AgentFactory(display_name="Ines Agent"))
    response = manager_client.get(f"/admin/tenants/brand/{alpha.pk}/change/", **PLATFORM)
    assert response.status_code == 200
    body = response.content.decode()
    assert "alpha.localhost" in body and "Ines Agent" in body
    assert "brand_alpha" in body  # the schema, read-only


@pytest.mark.django_db
def test_agent_change_page_shows_staffing_on_several_brands(manager_client, alpha, beta):
    agent = AgentFactory(display_name="Two Brands")
    StaffingFactory(agent=agent, brand=alpha)
    StaffingFactory(agent=agent, brand=beta, role=Staffing.Role.SUPERVISOR, categories=["setup"])
    response = manager_client.get(f"/admin/helpdesk/agentprofile/{agent.pk}/change/", **PLATFORM)
    assert response.status_code == 200
    assert response.content.decode().count("staffings-") > 2


@pytest.mark.django_db
def test_suspend_and_reactivate_actions(manager_client, alpha, beta):
    response = manager_client.post(
        "/admin/tenants/brand/", {"action": "suspend", "_selected_action": [alpha.pk, beta.pk]}, follow=True, **PLATFORM
    )
    assert response.status_code == 200
    assert set(Brand.objects.exclude(schema_name="public").values_list("status", flat=True)) == {"suspended"}
    assert manager_client.get("/support/", HTTP_HOST="alpha.localhost").status_code == 503

    manager_client.post("/admin/tenants/brand/", {"action": "reactivate", "_selected_action": [alpha.pk]}, **PLATFORM)
    alpha.refresh_from_db()
    assert alpha.status == "active"


@pytest.mark.django_db(transaction=True)
def test_adding_a_brand_in_the_admin_creates_its_schema_and_domain(client):
    user = account_manager("manager2")
    client.login(username=user.username, password=PASSWORD)
    data = {
        "name": "Hooli",
        "slug": "hooli",
        "status": "active",
        "plan": "growth",
        "primary_color": "#112233",
        "locale": "en",
        "time_zone": "Europe/Paris",
        "business_hours": '{"mon": [["08:00", "18:00"]]}',
        "routing_policy": "round_robin",
        "offer_timeout_seconds": 30,
        "max_queue_length": 20,
        "identity_secret": "s3cret-s3cret-s3cret",
        "attachment_max_bytes": 5_000_000, "attachment_types": ["image/png", "application/pdf"],
        "domains-TOTAL_FORMS": 0, "domains-INITIAL_FORMS": 0,
        "staffings-TOTAL_FORMS": 0, "staffings-INITIAL_FORMS": 0,
    }
    response = client.post("/admin/tenants/brand/add/", data, **PLATFORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    brand = Brand.objects.get(slug="hooli")
    assert brand.schema_name == "brand_hooli" and schema_exists("brand_hooli")
    assert (brand.attachment_max_bytes, brand.attachment_types) == (5_000_000, ["image/png", "application/pdf"])
    assert Domain.objects.filter(tenant=brand, domain="hooli.localhost", is_primary=True).exists()
    assert client.get("/healthz", HTTP_HOST="hooli.localhost").json()["schema"] == "brand_hooli"


@pytest.mark.django_db
def test_admin_refuses_people_who_are_not_staff(client):
    AgentFactory(user__username="plainagent")
    client.login(username="plainagent", password=PASSWORD)
    response = client.get("/admin/tenants/brand/", **PLATFORM)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
