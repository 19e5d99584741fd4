"""Brand API set-ups: keys issued by the service, conversations made by the chat services
in both session brands (so every test has brand B's rows around to leak)."""

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from chat import services as chat_services
from surveys.services import survey_answer
from tenants.models import Brand
from tenants.services import api_key_issue
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import agent_staffed

HOSTS = {"alpha": "alpha.localhost", "beta": "beta.localhost"}


@pytest.fixture(autouse=True)
def _generous_rates(settings):
    # Tests share one client address; the throttle test sets its own low rates.
    settings.API_THROTTLE_RATES = {"api_caller": "100000/min", "api_ip": "100000/min"}


def issue(slug: str, *, access="write", resources=(), **fields) -> str:
    return api_key_issue(brand=Brand.objects.get(slug=slug), name=f"{slug} test key", access=access, resources=list(resources), **fields).raw


class BrandAPI:
    """A client for one brand host with one key."""

    def __init__(self, *, slug: str, key: str | None, host: str | None = None):
        self.client = Client()
        self.headers = {"HTTP_HOST": host or HOSTS[slug]}
        if key:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"

    def get(self, path, data=None, **extra):
        return self.client.get(f"/api/v1/{path}", data, **self.headers, **extra)

    def post(self, path, data=None, **extra):
        return self.client.post(f"/api/v1/{path}", data or {}, content_type="application/json", **self.headers, **extra)

    def patch(self, path, data, **extra):
        return self.client.patch(f"/api/v1/{path}", data, content_type="application/json", **self.headers, **extra)

    def put(self, path, data, **extra):
        return self.client.put(f"/api/v1/{path}", data, content_type="application/json", **self.headers, **extra)

    def delete(self, path, **extra):
        return self.client.delete(f"/api/v1/{path}", **self.headers, **extra)


@pytest.fixture
def api_alpha(alpha):
    return BrandAPI(slug="alpha", key=issue("alpha"))


@pytest.fixture
def api_alpha_read(alpha):
    return BrandAPI(slug="alpha", key=issue("alpha", access="read"))


@pytest.fixture
def seeded(alpha, beta):
    """In each brand: one conversation that waits for suggestions, and one an agent took,
    answered and ended, with a 4-star survey."""
    made = {}
    for slug in ("alpha", "beta"):
        agent = agent_staffed(slug, display_name=f"{slug.title()} Agent")
        _, waiting, _ = conversation_started(slug=slug, name=f"{slug} waiting")
        brand, handled, _ = conversation_active(agent=agent, slug=slug, name=f"{slug} handled")
        with schema_context(brand.schema_name):
            from chat.messages import message_send

            message_send(conversation_id=handled.id, sender="agent", body="How can I help?", agent=agent, client_msg_id="a1")
            chat_services.conversation_end(brand=brand, conversation_id=handled.id, ended_by="agent", agent=agent)
            survey_answer(conversation_id=handled.id, rating=4, comment=f"{slug} was fine")
        connection.set_schema_to_public()
        made[slug] = {"agent": agent, "waiting": waiting, "handled": handled}
    return made
