"""Attachments over both sockets: a message.send frame references uploaded files; the
other side's `message` frame carries them with that side's own links."""

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context

from chat.models import Message
from helpdesk.models import AgentToken
from tests.chat.helpers import conversation_active
from tests.factories import agent_staffed
from tests.files import pdf, png
from tests.sockets import frames_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _upload(path: str, auth: dict, name: str, data: bytes) -> dict:
    response = Client().post(path, {"file": SimpleUploadedFile(name, data)}, **auth)
    assert response.status_code == 201, response.content
    return response.json()


async def _message(communicator, client_msg_id):
    while True:
        frame, _ = await frames_until(communicator, "message")
        if frame["client_msg_id"] == client_msg_id:
            return frame


async def test_files_both_ways_over_the_sockets(sockets):
    agent = await database_sync_to_async(agent_staffed)("alpha")
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    _, raw = await database_sync_to_async(AgentToken.issue)(user=agent.user)
    customer_auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_HOST": "alpha.localhost"}
    agent_auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_HOST": "localhost"}
    widget_path = f"/api/widget/v1/conversations/{conversation.id}"
    agent_path = f"/api/agent/v1/brands/alpha/conversations/{conversation.id}"

    customer, _ = await sockets.widget_authed(conversation.id, token)
    agent_ws = await sockets.agent_authed(agent)

    # Customer to agent.
    image = await database_sync_to_async(_upload)(f"{widget_path}/attachments", customer_auth, "screen.png", png())
    await customer.send_json_to({"type": "message.send", "client_msg_id": "c1", "body": "", "attachment_ids": [image["id"]]})
    received = await _message(agent_ws, "c1")
    assert received["brand"] == "alpha" and received["body"] == ""
    item = received["attachments"][0]
    assert item["name"] == "screen.png" and item["is_image"] and item["thumbnail_url"] == f"{agent_path}/attachments/{image['id']}/thumbnail"
    echoed = await _message(customer, "c1")
    assert "?sig=" in echoed["attachments"][0]["thumbnail_url"]

    # The retry is acknowledged with the same message and files, stored once.
    await customer.send_json_to({"type": "message.send", "client_msg_id": "c1", "body": "", "attachment_ids": [image["id"]]})
    again = await _message(customer, "c1")
    assert again["id"] == echoed["id"] and again["attachments"][0]["id"] == image["id"]

    # Agent to customer.
    document = await database_sync_to_async(_upload)(f"{agent_path}/attachments", agent_auth, "manual.pdf", pdf())
    await agent_ws.send_json_to({"type": "message.send", "brand": "alpha", "conversation_id": conversation.id, "client_msg_id": "a1", "body": "The manual", "attachment_ids": [document["id"]]})
    shown = await _message(customer, "a1")
    link = shown["attachments"][0]["download_url"]
    assert shown["attachments"][0]["name"] == "manual.pdf" and link.startswith(f"{widget_path}/attachments/{document['id']}?sig=")
    downloaded = await database_sync_to_async(Client().get)(link, HTTP_HOST="alpha.localhost")
    assert downloaded.status_code == 200 and downloaded["Content-Disposition"].startswith("attachment;")
    await agent_ws.send_json_to({"type": "message.send", "brand": "alpha", "conversation_id": conversation.id, "client_msg_id": "a1", "body": "The manual", "attachment_ids": [document["id"]]})
    acked = await _message(agent_ws, "a1")
    assert acked["attachments"][0]["download_url"] == f"{agent_path}/attachments/{document['id']}"

    # Someone else's file, over either socket: an error frame, nothing stored.
    await customer.send_json_to({"type": "message.send", "client_msg_id": "c2", "body": "x", "attachment_ids": [document["id"]]})
    error, _ = await frames_until(customer, "error")
    assert error["code"] == "attachment_unavailable" and error["client_msg_id"] == "c2"
    await agent_ws.send_json_to({"type": "message.send", "brand": "alpha", "conversation_id": conversation.id, "client_msg_id": "a2", "body": "x", "attachment_ids": [image["id"]]})
    error, _ = await frames_until(agent_ws, "error")
    assert error["code"] == "attachment_unavailable"

    def stored():
        with schema_context(brand.schema_name):
            return sorted(Message.objects.filter(conversation_id=conversation.id, client_msg_id__isnull=False).values_list("client_msg_id", flat=True))

    assert await database_sync_to_async(stored)() == ["a1", "c1"]

    # A reconnecting customer gets the files again, with fresh links.
    customer2, _ = await sockets.widget_authed(conversation.id, token)
    backlog = await _message(customer2, "a1")
    assert backlog["attachments"][0]["id"] == document["id"] and "?sig=" in backlog["attachments"][0]["download_url"]
