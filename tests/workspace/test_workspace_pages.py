"""The workspace pages on the platform host: sign-in, who gets in, supervisor only for supervisors."""

import pytest
from django.test import Client

from helpdesk.models import Staffing
from tests.factories import PASSWORD, AgentFactory, StaffingFactory, UserFactory

PLATFORM = {"HTTP_HOST": "localhost"}


@pytest.fixture
def client():
    return Client(**PLATFORM)


@pytest.fixture
def agent(alpha):
    agent = AgentFactory(display_name="Wendy Workspace", user__username="wendy")
    StaffingFactory(agent=agent, brand=alpha)
    return agent


@pytest.mark.django_db
def test_login_page_renders_a_labelled_form(client):
    response = client.get("/agent/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html


@pytest.mark.django_db
def test_workspace_requires_login(client):
    response = client.get("/agent/")
    assert response.status_code == 302
    assert response["Location"].startswith("/agent/login/?next=/agent/")


@pytest.mark.django_db
def test_agent_signs_in_and_gets_the_workspace(client, agent):
    response = client.post("/agent/login/", {"username": "wendy", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/agent/"
    page = client.get("/agent/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="workspace-config"' in html and "Wendy Workspace" in html
    assert "workspace/workspace.js" in html
    # The brand's categories are there for transfers to a category.
    assert '"shipping"' in html
    assert "/agent/supervisor/" not in html


@pytest.mark.django_db
def test_a_user_without_agent_profile_is_refused_with_a_clear_message(client):
    UserFactory(username="notagent")
    response = client.post("/agent/login/", {"username": "notagent", "password": PASSWORD})
    assert response.status_code == 200
    assert "This account is not an agent" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_signed_in_non_agent_cannot_open_the_workspace(client):
    user = UserFactory(username="staffer", is_staff=True)
    client.force_login(user)
    response = client.get("/agent/")
    assert response.status_code == 403
    assert "This account is not an agent" in response.content.decode()


@pytest.mark.django_db
def test_wrong_password_is_refused(client, agent):
    response = client.post("/agent/login/", {"username": "wendy", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_supervisor_page_only_for_supervisors(client, agent, alpha, beta):
    client.force_login(agent.user)
    assert client.get("/agent/supervisor/").status_code == 403

    boss = AgentFactory(display_name="Sam Supervisor", user__username="sam")
    StaffingFactory(agent=boss, brand=beta, role=Staffing.Role.SUPERVISOR)
    client.force_login(boss.user)
    response = client.get("/agent/supervisor/")
    assert response.status_code == 200
    assert "workspace/supervisor.js" in response.content.decode()
    assert "/agent/supervisor/" in client.get("/agent/").content.decode()


@pytest.mark.django_db
def test_supervisor_page_requires_login(client):
    response = client.get("/agent/supervisor/")
    assert response.status_code == 302 and response["Location"].startswith("/agent/login/")


@pytest.mark.django_db
def test_logout_signs_out(client, agent):
    client.force_login(agent.user)
    response = client.post("/agent/logout/")
    assert response.status_code == 302 and response["Location"] == "/agent/login/"
    assert client.get("/agent/").status_code == 302


@pytest.mark.django_db
def test_workspace_static_files_are_served(client):
    for name in ["workspace.js", "supervisor.js", "api.js", "socket.js", "workspace.css"]:
        response = client.get(f"/static/workspace/{name}")
        assert response.status_code == 200, name
