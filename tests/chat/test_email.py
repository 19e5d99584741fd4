"""Transcript and survey emails through the outbox, against a real SMTP server."""

import asyncio
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from chat import services
from chat.customer_emails import survey_emails_queue, transcript_email_request
from chat.errors import ChatError
from chat.messages import message_send
from chat.outbox import outbox_deliver
from chat.models import OutboundEmail
from chat.outbox import outbox_send
from surveys.models import Survey
from tests.chat.helpers import conversation_active
from tests.factories import AgentFactory, StaffingFactory
from tests.ports import free_port
from surveys.services import survey_answer


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({"to": envelope.rcpt_tos, "body": envelope.content.decode("utf-8", "replace")})
        return "250 OK"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


@pytest.fixture
def ended_conversation(alpha):
    agent = AgentFactory(display_name="Alice Agent")
    StaffingFactory(agent=agent, brand=alpha)
    brand, conversation, token = conversation_active(agent=agent, email="dana@example.com")
    with schema_context(brand.schema_name):
        message_send(conversation_id=conversation.id, sender="customer", body="My parcel is late")
        message_send(conversation_id=conversation.id, sender="agent", body="It ships today", agent=agent)
        message_send(conversation_id=conversation.id, sender="agent", body="PRIVATE: customer is grumpy", agent=agent, internal=True)
        services.conversation_end(brand=brand, conversation_id=conversation.id, ended_by="agent", agent=agent)
        conversation.refresh_from_db()
    connection.set_schema_to_public()
    return brand, conversation


@pytest.mark.django_db(transaction=True)
def test_transcript_is_emailed_without_private_notes(smtp, ended_conversation):
    brand, conversation = ended_conversation
    with schema_context(brand.schema_name):
        transcript_email_request(brand=brand, conversation=conversation)
        email = OutboundEmail.objects.get(kind="transcript")
        assert email.sent_at is not None  # the task ran (eagerly) in the brand's schema
        with pytest.raises(ChatError):
            transcript_email_request(brand=brand, conversation=conversation)
    assert len(smtp.messages) == 1
    body = smtp.messages[0]["body"]
    assert smtp.messages[0]["to"] == ["dana@example.com"]
    assert "My parcel is late" in body and "It ships today" in body
    assert "PRIVATE" not in body


@pytest.mark.django_db(transaction=True)
def test_smtp_outage_keeps_the_email_until_it_can_be_sent(settings, ended_conversation):
    brand, conversation = ended_conversation
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    settings.EMAIL_TIMEOUT = 2
    with schema_context(brand.schema_name):
        transcript_email_request(brand=brand, conversation=conversation)
        email = OutboundEmail.objects.get(kind="transcript")
        assert email.sent_at is None and email.attempts == 1 and email.last_error
        assert email.uncertain_attempts == 0  # nothing listened: it surely did not arrive

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    try:
        with schema_context(brand.schema_name):
            assert outbox_deliver() == 1
            assert outbox_deliver() == 0  # sent once, never twice
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


class SlowFirstReply(Inbox):
    """Takes every message, but answers the first only after the sender gave up waiting."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == 1:
            await asyncio.sleep(self.delay)
        return answer


@pytest.mark.django_db(transaction=True)
def test_a_reply_lost_to_a_timeout_counts_as_uncertain_and_is_resent_under_the_same_message_id(settings, alpha):
    inbox = SlowFirstReply(delay=3)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 1
    try:
        with schema_context(alpha.schema_name):
            email = OutboundEmail.objects.create(to="dana@example.com", subject="Transcript", body="x", kind="transcript")
            assert outbox_deliver() == 0  # no reply within the timeout: the server may have it
            email.refresh_from_db()
            assert (email.status, email.attempts, email.uncertain_attempts) == (OutboundEmail.Status.PENDING, 1, 1)
            assert outbox_deliver() == 1
            email.refresh_from_db()
            assert (email.status, email.attempts, email.uncertain_attempts) == (OutboundEmail.Status.SENT, 2, 1)
    finally:
        controller.stop()
    ids = {line for message in inbox.messages for line in message["body"].splitlines() if line.lower().startswith("message-id:")}
    assert len(inbox.messages) == 2 and len(ids) == 1  # the copy is recognisable


@pytest.mark.django_db(transaction=True)
def test_unanswered_survey_is_emailed_once_with_a_single_use_link(smtp, ended_conversation):
    brand, conversation = ended_conversation
    with schema_context(brand.schema_name):
        survey = Survey.objects.get(conversation=conversation)
        assert survey_emails_queue(brand=brand) == 0  # not due yet
        later = timezone.now() + timedelta(minutes=16)
        assert survey_emails_queue(brand=brand, now=later) == 1
        assert survey_emails_queue(brand=brand, now=later) == 0
        survey.refresh_from_db()
        assert survey.email_token_hash and survey.emailed_at
    body = smtp.messages[0]["body"]
    link = next(line for line in body.splitlines() if "/survey/" in line).strip()
    raw = link.rstrip("/").rsplit("/", 1)[1]
    assert Survey.hash_token(raw) == survey.email_token_hash
    assert link.startswith("http://alpha.localhost")
    with schema_context(brand.schema_name):
        survey_answer(conversation_id=conversation.id, rating=4, comment="ok", via="email")
        survey.refresh_from_db()
        assert survey.email_token_hash == "" and survey.answered_via == "email"


@pytest.mark.django_db(transaction=True)
def test_outbox_task_runs_in_the_schema_it_was_sent_for(smtp, ended_conversation, beta):
    brand, conversation = ended_conversation
    with schema_context(brand.schema_name):
        email = OutboundEmail.objects.create(to="someone@example.com", subject="s", body="alpha only", kind="test")
    # Sent from public, addressed to alpha's schema: it must find alpha's row, and must not
    # send anything when addressed to beta, whose outbox has no such row.
    outbox_send.apply_async(kwargs={"email_ids": [email.id]}, headers={"_schema_name": beta.schema_name})
    assert smtp.messages == []
    outbox_send.apply_async(kwargs={"email_ids": [email.id]}, headers={"_schema_name": brand.schema_name})
    assert [m["to"] for m in smtp.messages] == [["someone@example.com"]]
