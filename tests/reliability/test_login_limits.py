"""Sign-in forms are limited (django-axes): after the failure limit from one address, or
for one username from any address, the agent login, the platform admin login and a brand
admin login answer 429 with Retry-After, and the right password no longer gets in."""

import pytest
from django.test import Client

from tests.conftest import _cache_clear_this_run
from tests.factories import PASSWORD, account_manager, agent_staffed

pytestmark = pytest.mark.django_db

LOGINS = [("localhost", "/agent/login/"), ("localhost", "/admin/login/"), ("alpha.localhost", "/admin/login/")]


@pytest.fixture(autouse=True)
def axes_on(settings):
    _cache_clear_this_run()
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    yield
    _cache_clear_this_run()


def sign_in(client, host, path, username, password):
    return client.post(path, {"username": username, "password": password}, HTTP_HOST=host)


@pytest.mark.parametrize("host, path", LOGINS)
def test_wrong_passwords_from_one_address_lock_the_form(alpha, host, path):
    user = account_manager()
    client = Client(REMOTE_ADDR="10.1.0.1")
    for attempt in range(2):
        assert sign_in(client, host, path, f"nobody{attempt}", "wrong").status_code == 200  # the form again, with an error
    # The failure that reaches the limit is already refused, and so is the right password.
    assert sign_in(client, host, path, "nobody2", "wrong").status_code == 429
    locked = sign_in(client, host, path, user.username, PASSWORD)
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0


def test_one_username_is_locked_across_addresses(alpha):
    agent = agent_staffed(alpha)
    for i in range(3):
        sign_in(Client(REMOTE_ADDR=f"10.1.1.{i}"), "localhost", "/agent/login/", agent.user.username, "wrong")
    locked = sign_in(Client(REMOTE_ADDR="10.1.1.99"), "localhost", "/agent/login/", agent.user.username, PASSWORD)
    assert locked.status_code == 429
    # Another agent from a fresh address still signs in.
    other = agent_staffed(alpha)
    assert sign_in(Client(REMOTE_ADDR="10.1.1.100"), "localhost", "/agent/login/", other.user.username, PASSWORD).status_code == 302
