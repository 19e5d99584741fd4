"""Property-based fuzzing of the brand and platform APIs against their own OpenAPI schema
(schemathesis, in process through Django's WSGI handler). Brand B's rows are seeded, and
a check fails any answer on brand A's host that carries one of them, so a leak across
brands would show, as would a 5xx or an answer the schema does not describe.

Bounded by count: FUZZ_EXAMPLES generated cases per operation (about 30 operations on
the brand API, 20 on the platform API), a few seconds each run on this machine.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import issue
from tests.factories import PASSWORD, account_manager

FUZZ_EXAMPLES = 10
BETA_MARKERS = ("beta waiting", "beta handled", "beta was fine", "Beta Agent", "beta-secret-article")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]


def no_brand_b_data(ctx, response, case):
    text = response.text or ""
    leaked = [marker for marker in BETA_MARKERS if marker in text]
    assert not leaked, f"brand B's data in an answer on brand A's host: {leaked}"


def fuzz(schema, *, base_url: str, headers: dict, extra_checks=(), skip=()):
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper(), op.path) not in skip]
    assert operations
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
            phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, additional_checks=list(extra_checks))

        run()
    return len(operations)


@pytest.fixture
def beta_article(beta):
    from django_tenants.utils import schema_context

    from knowledge.models import Article, Category

    with schema_context("brand_beta"):
        Article.objects.create(slug="beta-secret-article", title="beta-secret-article", category=Category.objects.get(slug="setup"), summary="x", body="x")


@pytest.mark.django_db(transaction=True)
def test_brand_api_fuzz(seeded, beta_article):
    app = WSGIHandler()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app, base_url="http://alpha.localhost")
    schema = schema.include(path_regex=r"^/api/v1/")
    headers = {"Authorization": f"Bearer {issue('alpha')}"}
    count = fuzz(schema, base_url="http://alpha.localhost", headers=headers, extra_checks=[no_brand_b_data])
    assert count >= 25


@pytest.mark.django_db(transaction=True)
def test_platform_api_fuzz(alpha):
    from django.test import Client

    user = account_manager("fuzz_manager")
    token = Client().post("/api/platform/v1/auth/token", {"username": user.username, "password": PASSWORD}, content_type="application/json", HTTP_HOST="localhost").json()["token"]
    app = WSGIHandler()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app, base_url="http://localhost")
    # Creating brands clones a schema per example: that path has its own tests.
    schema = schema.include(path_regex=r"^/api/platform/v1/")
    count = fuzz(schema, base_url="http://localhost", headers={"Authorization": f"Bearer {token}"}, skip={("POST", "/api/platform/v1/brands")})
    assert count >= 15


def test_the_leak_check_can_fail():
    class Answer:
        text = '{"customer_name": "beta handled"}'

    with pytest.raises(AssertionError, match="brand B"):
        no_brand_b_data(None, Answer(), None)


@pytest.mark.django_db(transaction=True)
def test_agent_api_fuzz(alpha, beta):
    """The agent API's answers match their documented shapes, for an agent with a chat on
    alpha who supervises beta."""
    from helpdesk.models import AgentToken, Staffing
    from tests.chat.helpers import conversation_active, conversation_started
    from tests.factories import StaffingFactory, agent_staffed

    agent = agent_staffed("alpha")
    StaffingFactory(agent=agent, brand=beta, role=Staffing.Role.SUPERVISOR)
    conversation_active(agent=agent, slug="alpha")
    conversation_started(slug="beta", name="beta waiting")
    _, token = AgentToken.issue(user=agent.user)
    app = WSGIHandler()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app, base_url="http://localhost")
    schema = schema.include(path_regex=r"^/api/agent/v1/")
    # Token issuing has its own tests; fuzzing it only makes tokens.
    count = fuzz(schema, base_url="http://localhost", headers={"Authorization": f"Bearer {token}"}, skip={("POST", "/api/agent/v1/auth/token")})
    assert count >= 15
