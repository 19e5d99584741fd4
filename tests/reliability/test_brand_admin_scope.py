"""The brand admin at /admin/ on a brand host is for that brand's staff: a staff account
staffed only on another brand is refused there, on the index and on the conversations."""

import pytest
from django.test import Client

from helpdesk.models import Staffing
from tests.factories import account_manager, agent_staffed

pytestmark = pytest.mark.django_db

PAGES = ["/admin/", "/admin/chat/conversation/"]


def staff_client(user, host):
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


def staff_agent(*brands, role=Staffing.Role.AGENT):
    agent = agent_staffed(*brands, role=role)
    agent.user.is_staff = True
    agent.user.save(update_fields=["is_staff"])
    return agent.user


@pytest.mark.parametrize("path", PAGES)
def test_staff_of_another_brand_is_refused(alpha, beta, path):
    beta_only = staff_agent(beta)
    response = staff_client(beta_only, "alpha.localhost").get(path)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # On their own brand the same account gets in.
    assert staff_client(beta_only, "beta.localhost").get("/admin/").status_code == 200


@pytest.mark.parametrize("role", [Staffing.Role.AGENT, Staffing.Role.SUPERVISOR])
def test_staff_on_the_brand_in_any_role_and_account_managers_get_in(alpha, role):
    assert staff_client(staff_agent(alpha, role=role), "alpha.localhost").get("/admin/").status_code == 200
    assert staff_client(account_manager(), "alpha.localhost").get("/admin/").status_code == 200
