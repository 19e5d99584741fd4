"""The widget socket: /ws/widget/v1/conversations/{id}/ on the brand host.

The first frame must be {"type": "auth", "token": ..., "after_seq": N}; the server
answers with the messages after N (exactly those, in order) and the conversation's
state, then streams. See docs/protocol.md.
"""

import asyncio

from realtime import events
from realtime.groups import conversation_group
from realtime.socket import CLOSE_AUTH_TIMEOUT, CLOSE_UNAUTHORIZED, CLOSE_WRONG_HOST, FrameError, JsonFrameConsumer
from routing.selectors import queue_place

from django.db import connection

from .async_messages import customer_message_send
from .attachments import customer_frame
from .errors import ChatError
from .messages import conversation_read, seq_parse
from .models import Conversation, Message
from .selectors import ConversationNotFound, conversation_get_for_customer, message_frame, messages_after
from .services import conversation_end

AUTH_TIMEOUT_SECONDS = 10


def _authenticate(brand, conversation_id, token, after_seq):
    conversation = conversation_get_for_customer(conversation_id=conversation_id, token=token)
    missed = messages_after(conversation=conversation, after_seq=after_seq, include_internal=False)
    place = queue_place(brand_id=brand.id, conversation_id=conversation.id) if conversation.state == Conversation.State.QUEUED else None
    return conversation, [customer_frame(message_frame(m), schema=connection.schema_name, conversation_id=conversation.id) for m in missed], place


def _conversation_now(conversation_id):
    return Conversation.objects.only("state", "agent_id", "agent_name", "last_seq", "agent_read_seq", "ended_by").get(pk=conversation_id)


class WidgetConsumer(JsonFrameConsumer):
    handlers = {
        "auth": "on_auth",
        "message.send": "on_message_send",
        "typing": "on_typing",
        "read": "on_read",
        "conversation.end": "on_end",
    }

    async def connect(self):
        self.conversation_id = None
        self.groups_joined: list[str] = []
        if not self.scope.get("brand"):
            await self.close(code=CLOSE_WRONG_HOST)
            return
        self.brand = self.scope["brand"]
        self.schema = self.brand.schema_name
        await self.accept()
        self.auth_timeout = asyncio.get_running_loop().call_later(AUTH_TIMEOUT_SECONDS, lambda: asyncio.ensure_future(self._auth_timed_out()))

    async def _auth_timed_out(self):
        if self.conversation_id is None:
            await self.send_error("auth_timeout", "Send an auth frame first.")
            await self.close(code=CLOSE_AUTH_TIMEOUT)

    async def disconnect(self, code):
        if getattr(self, "auth_timeout", None):
            self.auth_timeout.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def handle_frame(self, frame):
        if self.conversation_id is None and frame["type"] != "auth":
            raise FrameError("not_authenticated", "Send an auth frame first.")
        try:
            await super().handle_frame(frame)
        except ChatError as exc:
            raise FrameError(exc.code, exc.detail) from exc

    async def on_auth(self, frame):
        if self.conversation_id is not None:
            raise FrameError("already_authenticated", "This socket is already authenticated.")
        after_seq = seq_parse(frame.get("after_seq"))
        try:
            conversation, missed, place = await self.run(self.schema, _authenticate, self.brand, self.scope["url_route"]["kwargs"]["conversation_id"], frame.get("token"), after_seq)
        except ConversationNotFound:
            await self.send_error("unauthorized", "This chat link is not valid.")
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.auth_timeout.cancel()
        # Join before sending the backlog so nothing published in between is missed;
        # the client drops any frame whose seq it already has.
        for audience in ("all", "customer"):
            group = conversation_group(schema=self.schema, conversation_id=conversation.id, audience=audience)
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        self.conversation_id = conversation.id
        # An agent may have joined (or the chat ended) between the read above and the join:
        # its event went to groups this socket was not in yet, so read the state again.
        conversation = await self.run(self.schema, _conversation_now, conversation.id)
        await self.send_json({"type": "auth.ok", "conversation_id": conversation.id, "state": conversation.state, "last_seq": conversation.last_seq, "agent": {"name": conversation.agent_name} if conversation.agent_id else None, "agent_read_seq": conversation.agent_read_seq})
        for message in missed:
            await self.send_json(message)
        if place is not None:
            await self.send_json({"type": "queue.position", "position": place.position, "eta_seconds": place.eta_seconds})
        if conversation.state in (Conversation.State.ENDED, Conversation.State.ABANDONED):
            await self.send_json({"type": "conversation.ended", "state": conversation.state, "ended_by": conversation.ended_by})

    async def on_message_send(self, frame):
        message, created, published = await customer_message_send(
            schema=self.schema, conversation_id=self.conversation_id, body=frame.get("body"), client_msg_id=frame.get("client_msg_id"),
            attachment_ids=frame.get("attachment_ids"),
        )
        await self.publish(published)
        if not created:
            # A retry of a message we already stored: acknowledge it again to this socket.
            await self.send_json(self._with_links(message_frame(message)))

    def _with_links(self, frame: dict) -> dict:
        return customer_frame(frame, schema=self.schema, conversation_id=self.conversation_id)

    async def message_created(self, event):
        # The frame is the one both sides get; the customer's attachment links are signed here.
        await self.send_json(self._with_links(event["frame"]))

    async def on_typing(self, frame):
        await self.publish([events.typing_changed(schema=self.schema, conversation_id=self.conversation_id, sender=Message.Sender.CUSTOMER, is_typing=bool(frame.get("is_typing", True)))])

    async def on_read(self, frame):
        await self.run(self.schema, conversation_read, conversation_id=self.conversation_id, reader=Message.Sender.CUSTOMER, up_to_seq=frame.get("up_to_seq"))

    async def on_end(self, frame):
        await self.run(self.schema, conversation_end, brand=self.brand, conversation_id=self.conversation_id, ended_by=Conversation.EndedBy.CUSTOMER)

    # The quiet-chat warning (chat.inactivity), a ready frame like the others.
    inactivity_warned = JsonFrameConsumer.forward_frame
