"""Quiet chats per brand: warn the customer after N minutes, end M minutes later; an agent
who leaves a customer's message unanswered K minutes is asked, and K minutes after that
the chat moves to a colleague. Reply times are recorded by the answer's own statement.

The sweep functions run with a clock the test moves; the rows' own times are the real
database clock, so the moved clock is always ahead of them."""

import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from chat.inactivity import agents_silent_handle, conversations_end_inactive, conversations_warn_inactive
from chat.messages import message_send
from chat.models import Conversation, Message, ReplyTime
from config.celery import app
from routing.models import QueueEntry
from tenants.models import Brand
from tests.chat.helpers import conversation_active
from tests.factories import agent_staffed
from tests.reliability.test_celery_worker import smtp_port, worker  # noqa: F401 (fixtures)
from tests.sockets import frames_until

WARN, END, REPLY = 10, 5, 4


def brand_times(slug="alpha") -> Brand:
    Brand.objects.filter(slug=slug).update(inactivity_warn_minutes=WARN, inactivity_end_minutes=END, agent_reply_minutes=REPLY)
    return Brand.objects.get(slug=slug)


def sweep(brand, minutes, fn):
    with schema_context(brand.schema_name):
        return fn(brand=brand, now=timezone.now() + timedelta(minutes=minutes))


def conversation(brand, conversation_id) -> Conversation:
    with schema_context(brand.schema_name):
        return Conversation.objects.get(pk=conversation_id)


def lines(brand, conversation_id, text):
    with schema_context(brand.schema_name):
        return Message.objects.filter(conversation_id=conversation_id, sender=Message.Sender.SYSTEM, body__contains=text).count()


def say(brand, conversation_id, sender, body, agent=None):
    with schema_context(brand.schema_name):
        return message_send(conversation_id=conversation_id, sender=sender, body=body, agent=agent)[0]


@pytest.mark.django_db
def test_a_quiet_chat_is_warned_once_then_closed(alpha):
    brand = brand_times()
    agent = agent_staffed(brand)
    _, chat, _ = conversation_active(agent=agent)

    assert sweep(brand, WARN - 1, conversations_warn_inactive) == 0
    assert sweep(brand, WARN + 0.1, conversations_warn_inactive) == 1
    assert sweep(brand, WARN + 1, conversations_warn_inactive) == 0  # once per silence
    assert lines(brand, chat.id, "Are you still there?") == 1
    assert sweep(brand, END - 1, conversations_end_inactive) == 0  # M minutes after the warning, not before
    assert conversation(brand, chat.id).state == Conversation.State.ACTIVE
    assert sweep(brand, END + 0.1, conversations_end_inactive) == 1
    ended = conversation(brand, chat.id)
    assert (ended.state, ended.ended_by) == (Conversation.State.ENDED, Conversation.EndedBy.INACTIVITY)
    assert lines(brand, chat.id, "closed after a period of inactivity") == 1


@pytest.mark.django_db(transaction=True)  # each line its own commit, so its own now()
def test_a_customer_who_answers_the_warning_keeps_the_chat(alpha):
    brand = brand_times()
    agent = agent_staffed(brand)
    _, chat, _ = conversation_active(agent=agent)
    assert sweep(brand, WARN + 0.1, conversations_warn_inactive) == 1
    say(brand, chat.id, Message.Sender.CUSTOMER, "Still here, sorry!")
    assert sweep(brand, END + 0.1, conversations_end_inactive) == 0
    assert conversation(brand, chat.id).state == Conversation.State.ACTIVE
    # The next silence is warned afresh.
    assert sweep(brand, WARN + 0.1, conversations_warn_inactive) == 1


@pytest.mark.django_db
def test_each_brand_keeps_its_own_times(alpha, beta):
    alpha_brand = brand_times("alpha")
    Brand.objects.filter(slug="beta").update(inactivity_warn_minutes=60)
    beta_brand = Brand.objects.get(slug="beta")
    _, alpha_chat, _ = conversation_active(agent=agent_staffed(alpha_brand))
    _, beta_chat, _ = conversation_active(agent=agent_staffed(beta_brand), slug="beta")
    assert sweep(alpha_brand, WARN + 0.1, conversations_warn_inactive) == 1
    assert sweep(beta_brand, WARN + 0.1, conversations_warn_inactive) == 0
    assert lines(beta_brand, beta_chat.id, "Are you still there?") == 0


@pytest.mark.django_db
def test_an_agent_who_does_not_answer_is_asked_then_the_chat_moves(alpha):
    brand = brand_times()
    silent = agent_staffed(brand)
    _, chat, _ = conversation_active(agent=silent)
    say(brand, chat.id, Message.Sender.CUSTOMER, "Hello? Where is my parcel?")

    assert sweep(brand, REPLY - 1, agents_silent_handle) == {"asked": 0, "moved": 0}
    assert sweep(brand, REPLY + 0.1, agents_silent_handle) == {"asked": 1, "moved": 0}
    assert sweep(brand, REPLY + 1, agents_silent_handle) == {"asked": 0, "moved": 0}  # asked once; K minutes to answer
    colleague = agent_staffed(brand, online=True)
    assert QueueEntry.objects.get(brand=brand, conversation_id=chat.id).agent_id == silent.id
    assert sweep(brand, 2 * REPLY + 0.2, agents_silent_handle) == {"asked": 0, "moved": 1}

    moved = conversation(brand, chat.id)
    assert moved.state == Conversation.State.QUEUED and moved.agent_id is None
    entry = QueueEntry.objects.get(brand=brand, conversation_id=chat.id)
    assert (entry.state, entry.offered_agent_id, entry.declined_agent_ids) == (QueueEntry.State.OFFERED, colleague.id, [silent.id])
    assert lines(brand, chat.id, "passing you to a colleague") == 1  # the customer is told


@pytest.mark.django_db
def test_an_agent_who_answers_after_being_asked_keeps_the_chat(alpha):
    brand = brand_times()
    agent = agent_staffed(brand)
    _, chat, _ = conversation_active(agent=agent)
    say(brand, chat.id, Message.Sender.CUSTOMER, "Hello?")
    assert sweep(brand, REPLY + 0.1, agents_silent_handle)["asked"] == 1
    say(brand, chat.id, Message.Sender.AGENT, "Sorry, checking now.", agent=agent)
    assert sweep(brand, 2 * REPLY + 0.2, agents_silent_handle) == {"asked": 0, "moved": 0}
    assert conversation(brand, chat.id).agent_id == agent.id


@pytest.mark.django_db
def test_each_customer_message_gets_its_reply_time(alpha):
    brand = brand_times()
    agent = agent_staffed(brand)
    _, chat, _ = conversation_active(agent=agent)
    first = say(brand, chat.id, Message.Sender.CUSTOMER, "One")
    say(brand, chat.id, Message.Sender.CUSTOMER, "Two")  # the wait runs from the first unanswered line
    with schema_context(brand.schema_name):
        message_send(conversation_id=chat.id, sender=Message.Sender.AGENT, body="a note", agent=agent, internal=True)
        assert Conversation.objects.get(pk=chat.id).awaiting_reply_since == first.sent_at
    answer = say(brand, chat.id, Message.Sender.AGENT, "Answer", agent=agent)
    say(brand, chat.id, Message.Sender.AGENT, "And more", agent=agent)  # answers nothing new
    later = say(brand, chat.id, Message.Sender.CUSTOMER, "Three")
    second_answer = say(brand, chat.id, Message.Sender.AGENT, "Answer 2", agent=agent)
    with schema_context(brand.schema_name):
        rows = list(ReplyTime.objects.filter(conversation_id=chat.id).values_list("asked_at", "answered_at", "message_id", "agent_id"))
        assert Conversation.objects.get(pk=chat.id).awaiting_reply_since is None
    connection.set_schema_to_public()
    assert rows == [(first.sent_at, answer.sent_at, answer.id, agent.id), (later.sent_at, second_answer.sent_at, second_answer.id, agent.id)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_socket_path_starts_the_wait_and_the_customer_sees_the_warning(sockets):
    brand = await database_sync_to_async(brand_times)()
    agent = await database_sync_to_async(agent_staffed)(brand)
    _, chat, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await sockets.widget_authed(chat.id, token)
    await customer.send_json_to({"type": "message.send", "client_msg_id": "c1", "body": "Hello from the socket"})
    while (await frames_until(customer, "message"))[0].get("client_msg_id") != "c1":
        pass
    stored = await database_sync_to_async(conversation)(brand, chat.id)
    assert stored.awaiting_reply_since is not None  # set by the async batch statement
    await database_sync_to_async(sweep)(brand, WARN + 0.1, conversations_warn_inactive)
    warning, _ = await frames_until(customer, "inactivity.warning")
    assert warning["closes_at"]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_warns_then_closes_a_quiet_chat(alpha, smtp_port, worker):  # noqa: F811
    brand = brand_times()
    agent = agent_staffed(brand)
    _, chat, _ = conversation_active(agent=agent)
    with schema_context(brand.schema_name):
        Conversation.objects.filter(pk=chat.id).update(last_activity_at=timezone.now() - timedelta(minutes=WARN + 1))

    def swept_until(check):
        for _ in range(20):  # bounded by sweeps, each waited for in turn
            app.send_task("chat.tasks.chat_sweep")
            for _ in range(50):
                assert worker.poll() is None, worker.stdout.read().decode()[-2000:]
                if check():
                    return True
                time.sleep(0.1)
        return False

    assert swept_until(lambda: conversation(brand, chat.id).inactivity_warned_at is not None)
    with schema_context(brand.schema_name):
        # M minutes have passed since the warning, in silence.
        past = timezone.now() - timedelta(minutes=END + 1)
        Conversation.objects.filter(pk=chat.id).update(inactivity_warned_at=past, last_activity_at=past)
    assert swept_until(lambda: conversation(brand, chat.id).state == Conversation.State.ENDED)
    assert lines(brand, chat.id, "Are you still there?") == 1
    assert conversation(brand, chat.id).ended_by == Conversation.EndedBy.INACTIVITY
