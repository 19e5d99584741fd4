"""The customer's language: the widget's locale, the browser's where the brand allows it,
else the brand's; and the server's words in it."""

import pytest
from django.test import Client

from chat.locale import customer_language
from tenants.models import Brand


@pytest.mark.parametrize(
    ("query", "accept", "allowed", "brand_locale", "expected"),
    [
        ("de", "fr-FR,fr;q=0.9", True, "en", "de"),  # the brand's own site said so
        (None, "fr-CH,fr;q=0.9,en;q=0.5", True, "en", "fr"),
        (None, "ja,es;q=0.8,de;q=0.5", True, "en", "de"),  # the first one we speak
        (None, "fr-FR", False, "de", "de"),  # the brand keeps its language
        (None, "ja", True, "pt", "en"),  # nothing we speak: English
        ("xx", "", True, "fr_FR", "fr"),
    ],
)
def test_customer_language(query, accept, allowed, brand_locale, expected):
    brand = Brand(name="x", slug="x", locale=brand_locale, customer_locale_allowed=allowed)
    assert customer_language(brand=brand, query_locale=query, accept_language=accept) == expected


@pytest.mark.django_db
def test_the_widget_api_answers_in_the_pages_language(alpha):
    client = Client()
    refused = client.post("/api/widget/v1/conversations", {}, content_type="application/json", HTTP_HOST="alpha.localhost", HTTP_X_HELPDESK_LOCALE="fr")
    assert refused.status_code == 400 and refused.json()["errors"]["name"] == "Indiquez votre nom."
    assert refused["Content-Language"] == "fr"
    german = client.post("/api/widget/v1/conversations", {}, content_type="application/json", HTTP_HOST="alpha.localhost", HTTP_ACCEPT_LANGUAGE="de-DE")
    assert german.json()["errors"]["summary"] == "Beschreiben Sie Ihr Anliegen in wenigen Worten."
    Brand.objects.filter(pk=alpha.pk).update(customer_locale_allowed=False)
    english = client.post("/api/widget/v1/conversations", {}, content_type="application/json", HTTP_HOST="alpha.localhost", HTTP_ACCEPT_LANGUAGE="de-DE")
    assert english.json()["errors"]["name"] == "Tell us your name."


@pytest.mark.django_db
def test_the_transcript_is_in_the_chats_language_and_the_customers_zone(alpha):
    from django_tenants.utils import schema_context

    from chat.customer_emails import transcript_subject
    from chat.models import Conversation
    from chat.transcripts import transcript_text

    form = {"name": "Dora", "email": "dora@example.com", "category": "shipping", "summary": "Wo ist mein Paket?", "time_zone": "Asia/Tokyo"}
    created = Client().post("/api/widget/v1/conversations", form, content_type="application/json", HTTP_HOST="alpha.localhost", HTTP_X_HELPDESK_LOCALE="de")
    assert created.status_code == 201, created.content
    with schema_context("brand_alpha"):
        conversation = Conversation.objects.get()
        assert (conversation.locale, conversation.customer_time_zone) == ("de", "Asia/Tokyo")
        # Built later (an email task), outside the request that spoke German.
        text = transcript_text(brand=alpha, conversation=conversation)
        subject = transcript_subject(brand=alpha, conversation=conversation)
    assert subject == "Ihr Chat mit Alpha Outdoor"
    assert "(Asia/Tokyo)" in text and "Thema: Shipping" in text and "Danke, dass Sie sich an Alpha Outdoor gewandt haben." in text
    tokyo_time = conversation.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).strftime("%H:%M")
    assert f"[{tokyo_time}] Dora: Wo ist mein Paket?" in text
    bad = Client().post("/api/widget/v1/conversations", {**form, "time_zone": "Mars/Olympus"}, content_type="application/json", HTTP_HOST="alpha.localhost")
    with schema_context("brand_alpha"):
        assert Conversation.objects.get(pk=bad.json()["id"]).customer_time_zone == ""


@pytest.mark.django_db
@pytest.mark.parametrize("locale, queued, joined, ended", [
    ("de", "Sie sind in der Warteschlange.", "Olive ist dem Chat beigetreten.", "Dora hat den Chat beendet."),
    ("fr", "Vous êtes dans la file d'attente.", "Olive a rejoint la discussion.", "Dora a mis fin à la discussion."),
])
def test_the_chats_own_lines_are_in_its_language(alpha, locale, queued, joined, ended):
    """Lines written outside the customer's request (an agent's accept, the end) speak the
    language the chat started in, not the server's."""
    from django.utils import translation
    from django_tenants.utils import schema_context

    from chat import services
    from chat.models import Message
    from routing import services as routing
    from tests.factories import agent_staffed

    agent = agent_staffed("alpha")
    agent.display_name = "Olive"
    agent.save(update_fields=["display_name"])
    form = {"name": "Dora", "email": "dora@example.com", "category": "shipping", "summary": "Paket?"}
    created = Client().post("/api/widget/v1/conversations", form, content_type="application/json", HTTP_HOST="alpha.localhost", HTTP_X_HELPDESK_LOCALE=locale)
    assert created.status_code == 201, created.content
    escalated = Client().post(f"/api/widget/v1/conversations/{created.json()['id']}/escalate", HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Bearer {created.json()['token']}", HTTP_X_HELPDESK_LOCALE=locale)
    assert escalated.status_code == 200, escalated.content
    routing.presence_set(agent=agent, presence="online")
    with translation.override("en"), schema_context("brand_alpha"):  # the agent's side speaks English
        conversation_id = created.json()["id"]
        services.conversation_accept(agent=agent, brand=alpha, conversation_id=conversation_id)
        services.conversation_end(brand=alpha, conversation_id=conversation_id, ended_by="customer")
        lines = list(Message.objects.filter(conversation_id=conversation_id, sender="system").order_by("seq").values_list("body", flat=True))
    assert lines[0].startswith(queued) and lines[1:] == [joined, ended], lines
