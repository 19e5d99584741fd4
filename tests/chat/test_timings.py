"""What reports are built on: the first agent reply, and who held a chat when (a transfer
splits the handle time between the agents)."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from chat import services
from chat.messages import message_send
from chat.models import AgentSegment, Conversation, Message
from chat.transfers import conversation_transfer
from tests.chat.helpers import conversation_active
from tests.factories import agent_staffed

pytestmark = pytest.mark.django_db


def test_first_agent_reply_is_stamped_once_and_not_by_notes_or_the_customer(alpha):
    agent = agent_staffed(alpha)
    brand, conversation, _ = conversation_active(agent=agent)
    with schema_context(brand.schema_name):
        message_send(conversation_id=conversation.id, sender=Message.Sender.CUSTOMER, body="hello?")
        message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body="a note", agent=agent, internal=True)
        assert Conversation.objects.get(pk=conversation.pk).first_agent_reply_at is None
        first, _ = message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body="Hi!", agent=agent)
        message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body="Anything else?", agent=agent)
        stamped = Conversation.objects.get(pk=conversation.pk).first_agent_reply_at
    connection.set_schema_to_public()
    assert stamped == first.sent_at


def test_a_transfer_splits_the_chat_into_one_segment_per_agent(alpha):
    first, second = agent_staffed(alpha, online=True), agent_staffed(alpha, online=True)
    brand, conversation, _ = conversation_active(agent=first)
    with schema_context(brand.schema_name):
        conversation_transfer(agent=first, brand=brand, conversation_id=conversation.id, to_agent=second, category=None, note="")
        services.conversation_end(brand=brand, conversation_id=conversation.id, ended_by=Conversation.EndedBy.AGENT, agent=second)
        segments = list(AgentSegment.objects.filter(conversation_id=conversation.id).order_by("started_at"))
    connection.set_schema_to_public()
    assert [(s.agent_id, s.end_reason) for s in segments] == [(first.id, "transferred"), (second.id, "ended")]
    assert segments[0].ended_at <= segments[1].started_at and all(s.ended_at for s in segments)
