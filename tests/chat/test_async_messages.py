"""The widget socket's message path on async connections (chat.async_messages,
chat.async_db): same rows, sequence numbers, errors and brand boundaries as
chat.messages.message_send, and connections that neither leak nor stay broken."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from django.db import connection, connections
from django_tenants.utils import schema_context

from chat.errors import ChatError
from chat.async_db import APPLICATION_NAME, pool
from chat.async_messages import customer_message_send
from chat.models import Conversation, Message
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import agent_staffed
from tenants.models import Brand

pytestmark = pytest.mark.django_db(transaction=True)


def stored(schema: str, conversation_id: int) -> list[tuple]:
    with schema_context(schema):
        rows = list(Message.objects.filter(conversation_id=conversation_id).order_by("seq").values_list("seq", "sender", "body"))
    connection.set_schema_to_public()
    return rows


def test_a_message_gets_the_next_seq_a_utc_timestamp_and_one_event():
    brand, conversation, _ = conversation_active(agent=agent_staffed("alpha"))
    before = stored(brand.schema_name, conversation.id)

    message, created, events = asyncio.run(
        customer_message_send(schema=brand.schema_name, conversation_id=conversation.id, body="Where is it?", client_msg_id="c-1")
    )

    assert created and message.seq == before[-1][0] + 1
    assert stored(brand.schema_name, conversation.id)[-1] == (message.seq, "customer", "Where is it?")
    assert message.sent_at.utcoffset().total_seconds() == 0
    [(group, event)] = events
    assert group == f"{brand.schema_name}.conv.{conversation.id}.all"
    assert event["frame"]["seq"] == message.seq and event["frame"]["author"] == "Dana Customer"
    with schema_context(brand.schema_name):
        assert Conversation.objects.get(pk=conversation.id).last_seq == message.seq


def test_a_retry_is_answered_with_the_stored_message_and_stores_nothing():
    brand, conversation, _ = conversation_active(agent=agent_staffed("alpha"))

    async def twice():
        first = await customer_message_send(schema=brand.schema_name, conversation_id=conversation.id, body="once", client_msg_id="same")
        again = await customer_message_send(schema=brand.schema_name, conversation_id=conversation.id, body="once", client_msg_id="same")
        return first, again

    (first, created, _), (again, created_again, events_again) = asyncio.run(twice())
    assert created and not created_again
    assert again.id == first.id and again.seq == first.seq
    # The stored message is published again: the first publish may have died with its process.
    assert [(event["type"], event["frame"]["seq"]) for _, event in events_again] == [("message.created", first.seq)]
    assert [row for row in stored(brand.schema_name, conversation.id) if row[2] == "once"] == [(first.seq, "customer", "once")]


def test_a_chat_not_yet_queued_refuses_messages_as_the_service_does():
    brand, queued, _ = conversation_started()  # still showing suggestions
    with pytest.raises(ChatError) as refused:
        asyncio.run(customer_message_send(schema=brand.schema_name, conversation_id=queued.id, body="hello?", client_msg_id=None))
    assert refused.value.code == "bad_state"
    # Only the question from the form, stored as the first message when the chat started.
    assert stored(brand.schema_name, queued.id) == [(1, "customer", "Where is my parcel?")]

    with pytest.raises(ChatError) as empty:
        asyncio.run(customer_message_send(schema=brand.schema_name, conversation_id=queued.id, body="   ", client_msg_id=None))
    assert empty.value.code == "empty_body"


def test_another_brands_conversation_is_out_of_reach():
    alpha = Brand.objects.get(slug="alpha")
    beta, theirs, _ = conversation_active(agent=agent_staffed("beta"), slug="beta")
    before = stored(beta.schema_name, theirs.id)
    with schema_context(alpha.schema_name):
        assert not Conversation.objects.filter(pk=theirs.id).exists()
    connection.set_schema_to_public()

    # Alpha's schema has no conversation with beta's id: the statement finds nothing.
    with pytest.raises(Conversation.DoesNotExist):
        asyncio.run(customer_message_send(schema=alpha.schema_name, conversation_id=theirs.id, body="hijack", client_msg_id=None))
    assert stored(beta.schema_name, theirs.id) == before


def test_connections_close_with_their_event_loop():
    brand, conversation, _ = conversation_active(agent=agent_staffed("alpha"))

    async def busy():
        await asyncio.gather(*(
            customer_message_send(schema=brand.schema_name, conversation_id=conversation.id, body=f"m{n}", client_msg_id=f"c{n}") for n in range(20)
        ))
        return [idle.info.backend_pid for idle in pool()._idle]

    backends = asyncio.run(busy())
    assert backends
    # A backend leaves pg_stat_activity a moment after its client hangs up.
    deadline = time.monotonic() + 5
    while backends_alive(backends) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends_alive(backends) == []
    seqs = [seq for seq, _, body in stored(brand.schema_name, conversation.id) if body.startswith("m")]
    assert len(seqs) == 20 and seqs == list(range(seqs[0], seqs[0] + 20))


def backends_alive(pids: list[int]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
        return [row[0] for row in cursor.fetchall()]


def test_an_idle_connection_cut_by_the_server_is_replaced():
    brand, conversation, _ = conversation_active(agent=agent_staffed("alpha"))

    async def across_a_cut():
        await customer_message_send(schema=brand.schema_name, conversation_id=conversation.id, body="before", client_msg_id="b")
        await database_sync_to_async(terminate_hot_path_backends)()
        return await customer_message_send(schema=brand.schema_name, conversation_id=conversation.id, body="after", client_msg_id="a")

    message, created, _ = asyncio.run(across_a_cut())
    assert created and stored(brand.schema_name, conversation.id)[-1] == (message.seq, "customer", "after")


def terminate_hot_path_backends() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
            [APPLICATION_NAME],
        )
    connection.close()


def test_an_unreachable_database_is_a_clear_error():
    brand, conversation, _ = conversation_active(agent=agent_staffed("alpha"))
    settings_dict = connections["default"].settings_dict
    real_port, settings_dict["PORT"] = settings_dict["PORT"], "1"
    try:
        with pytest.raises(ChatError) as unavailable:
            asyncio.run(customer_message_send(schema=brand.schema_name, conversation_id=conversation.id, body="hello", client_msg_id=None))
    finally:
        settings_dict["PORT"] = real_port
    assert unavailable.value.code == "unavailable"


# --- Batches ------------------------------------------------------------------------------

def batch_sizes_recorded(monkeypatch) -> list[tuple[str, int]]:
    """Record each statement's schema and message count (the statements still run)."""
    from chat import async_messages

    sizes = []
    real_insert = async_messages._insert

    async def recording_insert(batch):
        sizes.append((batch[0].schema, len(batch)))
        return await real_insert(batch)

    monkeypatch.setattr(async_messages, "_insert", recording_insert)
    return sizes


def test_messages_that_arrive_together_are_stored_together_in_order(monkeypatch, settings):
    settings.ASYNC_DB_MESSAGE_BATCHES_IN_FLIGHT = 1
    sizes = batch_sizes_recorded(monkeypatch)
    agent = agent_staffed("alpha")
    chats = [conversation_active(agent=agent) for _ in range(3)]

    async def burst():
        sends = [
            customer_message_send(schema=brand.schema_name, conversation_id=conversation.id, body=f"{conversation.id}-{n}", client_msg_id=f"{conversation.id}-{n}")
            for n in range(4) for brand, conversation, _ in chats
        ]
        return await asyncio.gather(*sends)

    results = asyncio.run(burst())

    assert all(created for _, created, _ in results)
    assert max(size for _, size in sizes) > 1 and len(sizes) < len(results)
    for brand, conversation, _ in chats:
        mine = [(seq, body) for seq, sender, body in stored(brand.schema_name, conversation.id) if sender == "customer" and seq > 1]  # seq 1: the question
        # A conversation's messages keep the order they were sent in, with consecutive numbers.
        assert [body for _, body in mine] == [f"{conversation.id}-{n}" for n in range(4)]
        assert [seq for seq, _ in mine] == list(range(mine[0][0], mine[0][0] + 4))
        assert [m.seq for m, _, _ in results if m.conversation_id == conversation.id] == [seq for seq, _ in mine]


def test_a_retry_or_a_closed_chat_in_a_batch_spoils_nothing_for_the_others(monkeypatch, settings):
    settings.ASYNC_DB_MESSAGE_BATCHES_IN_FLIGHT = 1
    sizes = batch_sizes_recorded(monkeypatch)
    agent = agent_staffed("alpha")
    (brand, first, _), (_, second, _) = conversation_active(agent=agent), conversation_active(agent=agent)
    _, queued, _ = conversation_started()

    async def mixed():
        await customer_message_send(schema=brand.schema_name, conversation_id=first.id, body="original", client_msg_id="dup")
        holder = asyncio.ensure_future(customer_message_send(schema=brand.schema_name, conversation_id=second.id, body="first out", client_msg_id="s0"))
        together = [
            customer_message_send(schema=brand.schema_name, conversation_id=first.id, body="original", client_msg_id="dup"),
            customer_message_send(schema=brand.schema_name, conversation_id=second.id, body="fresh", client_msg_id="s1"),
            customer_message_send(schema=brand.schema_name, conversation_id=queued.id, body="too early", client_msg_id="q1"),
        ]
        results = await asyncio.gather(holder, *together, return_exceptions=True)
        return results

    _, retried, fresh, too_early = asyncio.run(mixed())

    assert (retried[1], fresh[1]) == (False, True)
    assert isinstance(too_early, ChatError) and too_early.code == "bad_state"
    # The three went in together, the retry spoiled that statement, and each was tried alone.
    together = sizes.index((brand.schema_name, 3))
    assert sizes[together + 1:together + 4] == [(brand.schema_name, 1)] * 3
    assert [body for _, _, body in stored(brand.schema_name, first.id) if body == "original"] == ["original"]
    assert [body for seq, sender, body in stored(brand.schema_name, second.id) if sender == "customer" and seq > 1] == ["first out", "fresh"]
    assert [seq for seq, _, _ in stored(brand.schema_name, queued.id)] == [1]  # the question only


def test_each_brand_gets_its_own_statement(monkeypatch, settings):
    settings.ASYNC_DB_MESSAGE_BATCHES_IN_FLIGHT = 1
    sizes = batch_sizes_recorded(monkeypatch)
    alpha, ours, _ = conversation_active(agent=agent_staffed("alpha"))
    beta, theirs, _ = conversation_active(agent=agent_staffed("beta"), slug="beta")

    async def both():
        return await asyncio.gather(*(
            customer_message_send(schema=brand.schema_name, conversation_id=conversation.id, body=f"to {brand.slug} {n}", client_msg_id=f"{brand.slug}{n}")
            for n in range(3) for brand, conversation in ((alpha, ours), (beta, theirs))
        ))

    asyncio.run(both())

    assert {schema for schema, _ in sizes} == {alpha.schema_name, beta.schema_name}
    assert [body for seq, sender, body in stored(alpha.schema_name, ours.id) if sender == "customer" and seq > 1] == [f"to alpha {n}" for n in range(3)]
    assert [body for seq, sender, body in stored(beta.schema_name, theirs.id) if sender == "customer" and seq > 1] == [f"to beta {n}" for n in range(3)]
