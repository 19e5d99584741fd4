"""Contacts: one record per customer of a brand, by customer ID or email, merged when the
same customer comes back; identity-verified marked; per brand."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from chat import services
from chat.identity import identity_sign
from chat.models import Contact
from helpdesk.models import AgentToken
from tenants.models import Brand
from tests.factories import agent_staffed

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {"category": "shipping", "summary": "Where is my parcel?", "product_id": ""}


def start(slug="alpha", identity=None, **details):
    brand = Brand.objects.get(slug=slug)
    data = {**FORM, "category": "shipping" if slug == "alpha" else "setup", "name": "Dana", "email": "dana@example.com", "customer_id": "", **details}
    token = None
    if identity:
        token = identity_sign(secret=brand.identity_secret, **identity)
    with schema_context(brand.schema_name):
        conversation = services.conversation_start(brand=brand, data=data, identity_token=token).conversation
    connection.set_schema_to_public()
    return conversation


def contacts(slug="alpha"):
    with schema_context(f"brand_{slug}"):
        return [(c.email, c.external_id, c.identity_verified, sorted(c.conversations.values_list("id", flat=True))) for c in Contact.objects.order_by("id")]


def test_the_same_customer_by_email_then_with_their_customer_id_is_one_contact():
    first = start(email="Dana@Example.com")
    second = start(email="dana@example.com")
    assert contacts() == [("dana@example.com", "", False, [first.id, second.id])]
    third = start(customer_id="C-7")
    assert contacts() == [("dana@example.com", "C-7", False, [first.id, second.id, third.id])]
    # Another email, the same customer ID: still them.
    fourth = start(email="dana@work.example", customer_id="C-7")
    assert contacts() == [("dana@work.example", "C-7", False, [first.id, second.id, third.id, fourth.id])]


def test_a_record_known_by_email_merges_into_the_one_with_the_customer_id():
    with_id = start(email="old@example.com", customer_id="C-9")
    by_email = start(email="new@example.com")
    assert len(contacts()) == 2
    both = start(email="new@example.com", customer_id="C-9")
    assert contacts() == [("new@example.com", "C-9", False, sorted([with_id.id, by_email.id, both.id]))]


def test_a_verified_identity_is_marked_and_an_unverified_claim_to_its_id_stays_apart():
    verified = start(identity={"name": "Vera", "email": "vera@example.com", "customer_id": "CUST-42"})
    assert contacts() == [("vera@example.com", "CUST-42", True, [verified.id])]
    impostor = start(name="Not Vera", email="mallory@example.com", customer_id="CUST-42")
    assert contacts() == [("vera@example.com", "CUST-42", True, [verified.id]), ("mallory@example.com", "", False, [impostor.id])]


def test_contacts_are_per_brand_and_served_to_agents_of_that_brand_only(client, alpha):
    in_alpha = start("alpha", customer_id="C-1")
    start("beta", customer_id="C-1")
    assert len(contacts("alpha")) == 1 and len(contacts("beta")) == 1
    agent = agent_staffed(alpha)
    _, raw = AgentToken.issue(user=agent.user)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_HOST": "localhost"}
    listed = client.get("/api/agent/v1/brands/alpha/contacts", {"q": "C-1"}, **headers).json()["contacts"]
    assert [(c["customer_id"], c["conversation_count"]) for c in listed] == [("C-1", 1)]
    detail = client.get(f"/api/agent/v1/brands/alpha/contacts/{listed[0]['id']}", **headers).json()
    assert [c["id"] for c in detail["conversations"]] == [in_alpha.id]
    assert client.get("/api/agent/v1/brands/beta/contacts", **headers).status_code == 404
    with schema_context("brand_beta"):
        beta_contact = Contact.objects.get().id
    missing = client.get(f"/api/agent/v1/brands/alpha/contacts/{beta_contact + 1000}", **headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert client.get("/api/agent/v1/brands/alpha/contacts", {"q": "x" * 300}, **headers).status_code == 400


def test_backfill_files_conversations_from_before_contacts_once(call):
    from chat.models import ContactConversation

    first = start(customer_id="C-3")
    second = start(email="other@example.com")
    with schema_context("brand_alpha"):
        ContactConversation.objects.all().delete()
        Contact.objects.all().delete()
    out = call("contacts_backfill", "--brand", "alpha")
    assert "alpha: 2 conversation(s) filed" in out
    assert contacts() == [("dana@example.com", "C-3", False, [first.id]), ("other@example.com", "", False, [second.id])]
    assert "alpha: 0 conversation(s) filed" in call("contacts_backfill", "--brand", "alpha")
