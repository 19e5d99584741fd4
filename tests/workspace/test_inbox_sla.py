"""SLA in the agent's interfaces, on the real database: the inbox's "SLA breached" filter and
row marker (breaches recorded by the real sweep, inside each brand's schema, never another
brand's), and the supervisor overview's SLA figures of the last day on a fixed set of clocks."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from helpdesk.models import Staffing
from sla.models import SlaClock, SlaKind
from tests.background.test_sla import breaches, policy, sweep
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import agent_staffed
from tests.workspace.test_inbox import auth_for, inbox

pytestmark = pytest.mark.django_db

TARGET = 60  # tests.background.test_sla.policy's targets


def breached_chat(agent, slug):
    """An active chat whose first reply never came: the sweep past the target records it."""
    policy(slug)
    brand, conversation, _ = conversation_active(agent=agent, slug=slug, name=f"Late {slug}")
    assert sweep(brand, after=timedelta(seconds=TARGET + 1))["breached"] == 1
    assert breaches(brand) == [(conversation.id, SlaKind.FIRST_REPLY)]
    return conversation


def test_the_breached_filter_keeps_only_breached_chats_and_never_another_brands(client, alpha, beta):
    both = agent_staffed(alpha, beta, display_name="Both Brands", capacity=4)
    late_alpha = breached_chat(both, "alpha")
    late_beta = breached_chat(both, "beta")
    _, on_time, _ = conversation_active(agent=both, slug="alpha", name="On Time")  # after the sweep: no breach
    headers = auth_for(both)

    assert inbox(client, headers) == [("alpha", on_time.id), ("beta", late_beta.id), ("alpha", late_alpha.id)]
    assert inbox(client, headers, sla_breached="true") == [("beta", late_beta.id), ("alpha", late_alpha.id)]
    assert inbox(client, headers, sla_breached="true", brand="alpha") == [("alpha", late_alpha.id)]
    assert inbox(client, headers, sla_breached="false") == inbox(client, headers)
    rows = client.get("/api/agent/v1/inbox", **headers).json()["conversations"]
    assert {(r["brand"], r["id"]): r["sla_breached"] for r in rows} == {
        ("alpha", on_time.id): False, ("beta", late_beta.id): True, ("alpha", late_alpha.id): True,
    }

    # A supervisor of alpha only, reading the whole brand: beta's breach never shows.
    lead = agent_staffed(alpha, role=Staffing.Role.SUPERVISOR, display_name="Alpha Lead")
    lead_headers = auth_for(lead)
    assert inbox(client, lead_headers, scope="brand", sla_breached="true") == [("alpha", late_alpha.id)]
    assert inbox(client, lead_headers, scope="brand", sla_breached="true", brand="beta") == []


def test_a_bad_breached_value_is_a_400_with_a_detail(client, alpha):
    headers = auth_for(agent_staffed(alpha))
    response = client.get("/api/agent/v1/inbox", {"sla_breached": "maybe"}, **headers)
    assert response.status_code == 400
    assert "sla_breached" in response.content.decode()


def clock(conversation, *, started, due, warn=None, stopped=None, breached=None, kind=SlaKind.FIRST_REPLY):
    return SlaClock.objects.create(
        conversation=conversation, kind=kind, started_at=started, target_seconds=int((due - started).total_seconds()),
        warn_at=warn or due - timedelta(seconds=10), due_at=due, stopped_at=stopped, breached_at=breached,
    )


def test_the_overview_counts_the_last_days_sla_per_brand(client, alpha, beta):
    now = timezone.now()
    hour = timedelta(hours=1)
    alpha_brand, in_alpha, _ = conversation_started(slug="alpha")
    beta_brand, in_beta, _ = conversation_started(slug="beta")
    with schema_context(alpha_brand.schema_name):
        clock(in_alpha, started=now - 3 * hour, due=now - hour, stopped=now - 2 * hour)  # met, in the window
        clock(in_alpha, started=now - 4 * hour, due=now - 2 * hour, breached=now - 2 * hour)  # breached, in the window
        clock(in_alpha, started=now - 31 * hour, due=now - 30 * hour, breached=now - 30 * hour)  # breached, a day too old
        clock(in_alpha, started=now - 5 * hour, due=now + hour, stopped=now - 4 * hour)  # met early, not due yet: counted when due
        clock(in_alpha, started=now - 50 * timedelta(seconds=1), due=now + timedelta(seconds=30), warn=now - timedelta(seconds=5))  # at risk
        clock(in_alpha, started=now - 6 * hour, due=now + 2 * hour, warn=now + hour)  # open, not yet warned
        clock(in_alpha, started=now - 7 * hour, due=now - timedelta(minutes=1), warn=now - 2 * timedelta(minutes=1),
              stopped=now - 3 * timedelta(minutes=1))  # kept: neither at risk nor breached
    with schema_context(beta_brand.schema_name):
        # Beta's are beta's: an at-risk clock and a breach that alpha's figures never count.
        clock(in_beta, started=now - 3 * hour, due=now - hour, breached=now - hour)
        clock(in_beta, started=now - 60 * timedelta(seconds=1), due=now + timedelta(seconds=30), warn=now - timedelta(seconds=5))
    lead = agent_staffed(alpha, role=Staffing.Role.SUPERVISOR)
    figures = client.get("/api/agent/v1/supervisor/overview", **auth_for(lead)).json()["brands"]
    assert [b["brand"] for b in figures] == ["alpha"]
    assert figures[0]["sla"] == {"window_hours": 24, "ran_out": 3, "breached": 1, "met_percent": 67, "at_risk": 1}

    beta_lead = agent_staffed(beta, role=Staffing.Role.SUPERVISOR)
    beta_figures = client.get("/api/agent/v1/supervisor/overview", **auth_for(beta_lead)).json()["brands"][0]["sla"]
    assert beta_figures == {"window_hours": 24, "ran_out": 1, "breached": 1, "met_percent": 0, "at_risk": 1}


def test_the_overview_with_no_clocks_says_none_ran_out(client, alpha):
    lead = agent_staffed(alpha, role=Staffing.Role.SUPERVISOR)
    sla = client.get("/api/agent/v1/supervisor/overview", **auth_for(lead)).json()["brands"][0]["sla"]
    assert sla == {"window_hours": 24, "ran_out": 0, "breached": 0, "met_percent": None, "at_risk": 0}


def test_the_supervisors_waiting_list_shows_each_chats_queue_wait_promise(alpha):
    from django.db import connection

    from workspace.selectors import sla_states_of_waiting

    now = timezone.now()
    chats = [conversation_started()[1] for _ in range(3)]
    with schema_context(alpha.schema_name):
        for chat, (breached, warn_in) in zip(chats, [(True, -60), (False, -10), (False, 60)]):
            SlaClock.objects.create(
                conversation_id=chat.id, kind=SlaKind.QUEUE_WAIT, started_at=now - timedelta(minutes=5), target_seconds=120,
                warn_at=now + timedelta(seconds=warn_in), due_at=now + timedelta(seconds=warn_in + 30), breached_at=now if breached else None,
            )
    connection.set_schema_to_public()
    states = sla_states_of_waiting(brand=alpha, conversation_ids=[c.id for c in chats] + [999_999], now=now)
    assert [states.get(c.id) for c in chats] == ["breached", "at_risk", "ok"] and 999_999 not in states
