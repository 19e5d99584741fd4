"""The agent socket: /ws/agent/v1/ on the platform host.

Authenticated by the workspace session, or by a first frame {"type": "auth", "token":
<agent token>}. One socket carries every brand the agent serves: offers, queue changes,
and the conversations the agent holds or subscribes to. See docs/protocol.md.

Every frame about a conversation is authorized afresh (helpdesk.selectors.
staffing_get_for_agent, then chat.selectors.conversation_get_for_agent) inside the
block that acts on it, so a staffing removed mid-shift stops working at once.

Revocation reaches an open socket through the user's group (realtime.groups.user_group):
on `access.revoked` the consumer re-checks the user, its token and its staffings, and
closes with 4401 or drops the brands it lost. Presence is the socket's row
(routing.models.AgentSocket), refreshed by a heartbeat while the socket lives.
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections

from chat import services as chat
from chat.errors import ChatError
from chat.messages import conversation_read, message_send, seq_parse
from chat.models import Conversation, Message
from chat.selectors import ConversationNotFound, conversation_get_for_agent, message_frame, messages_after
from helpdesk.models import AgentToken, User
from helpdesk.selectors import StaffingNotFound, agent_get_for_user, agent_token_user, staffing_get_for_agent, staffings_for_agent
from realtime import events
from realtime.groups import agent_group, brand_queue_group, conversation_group, user_group
from realtime.socket import CLOSE_UNAUTHORIZED, CLOSE_WRONG_HOST, DatabaseUnavailable, FrameError, JsonFrameConsumer, database_retrying
from routing import services as routing
from routing.models import QueueEntry

from .selectors import agent_frame

logger = logging.getLogger(__name__)

# Close code for "the server cannot serve this socket now; reconnect later" (RFC 6455).
CLOSE_TRY_AGAIN_LATER = 1013


@database_sync_to_async
def _agent_session(user, token, socket_id):
    close_old_connections()
    if token:
        user = agent_token_user(raw=token)
    agent = agent_get_for_user(user=user)
    if agent is None:
        return None
    routing.agent_connected(agent=agent, socket_id=socket_id)
    staffings = staffings_for_agent(agent=agent)
    held = list(QueueEntry.objects.filter(agent=agent, state=QueueEntry.State.ASSIGNED).select_related("brand"))
    return agent, {s.brand.slug: s.brand for s in staffings}, [(e.brand.schema_name, e.conversation_id) for e in held]


@database_sync_to_async
def _access_recheck(user_id, token_hash):
    """After a revocation: the brands the socket may still serve, or None to close it."""
    close_old_connections()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or (token_hash is not None and not AgentToken.objects.filter(key_hash=token_hash, user=user).exists()):
        return None
    agent = agent_get_for_user(user=user)
    if agent is None:
        return None
    return {s.brand.slug: s.brand for s in staffings_for_agent(agent=agent)}


def _conversation(agent, brand_slug, conversation_id):
    """Authorize the agent on the brand and fetch the conversation, in one step."""
    staffing = staffing_get_for_agent(agent=agent, brand_slug=brand_slug)
    return staffing.brand, conversation_get_for_agent(staffing=staffing, conversation_id=conversation_id)


def _frames(conversation, brand_slug, after_seq):
    return [agent_frame(message_frame(m), brand_slug=brand_slug, conversation_id=conversation.id) for m in messages_after(conversation=conversation, after_seq=after_seq, include_internal=True)]


def _subscribe(agent, brand_slug, conversation_id, after_seq):
    _, conversation = _conversation(agent, brand_slug, conversation_id)
    return conversation.id, _frames(conversation, brand_slug, after_seq)


def _watch(agent, brand_slug, conversation_id, after_seq):
    """A supervisor of the brand watches any of its chats: the same catch-up as subscribe,
    for supervisors only (others get the not-found every refused conversation gets)."""
    staffing = staffing_get_for_agent(agent=agent, brand_slug=brand_slug)
    if not staffing.is_supervisor:
        raise ConversationNotFound
    conversation = conversation_get_for_agent(staffing=staffing, conversation_id=conversation_id)
    return conversation.id, conversation.agent_id, _frames(conversation, brand_slug, after_seq)


def _holding(agent, brand_slug, conversation_id):
    """Typing into a chat is for the agent who holds it."""
    _, conversation = _conversation(agent, brand_slug, conversation_id)
    if conversation.agent_id != agent.id:
        raise ChatError("Only the agent in the chat can type to the customer.", "forbidden", 403)
    return conversation


def _send(agent, brand_slug, conversation_id, body, client_msg_id, internal, attachment_ids):
    _, conversation = _conversation(agent, brand_slug, conversation_id)
    return message_send(
        conversation_id=conversation.id, sender=Message.Sender.AGENT, body=body, client_msg_id=client_msg_id, agent=agent, internal=internal, attachment_ids=attachment_ids
    )


def _read(agent, brand_slug, conversation_id, up_to_seq):
    _, conversation = _conversation(agent, brand_slug, conversation_id)
    return conversation_read(conversation_id=conversation.id, reader=Message.Sender.AGENT, up_to_seq=up_to_seq)


def _end(agent, brand_slug, conversation_id):
    brand, conversation = _conversation(agent, brand_slug, conversation_id)
    return chat.conversation_end(brand=brand, conversation_id=conversation.id, ended_by=Conversation.EndedBy.AGENT, agent=agent)


class AgentConsumer(JsonFrameConsumer):
    handlers = {
        "auth": "on_auth",
        "subscribe": "on_subscribe",
        "message.send": "on_message_send",
        "typing": "on_typing",
        "read": "on_read",
        "presence": "on_presence",
        "conversation.end": "on_end",
        "watch": "on_watch",
        "unwatch": "on_unwatch",
    }

    async def connect(self):
        self.agent = None
        self.token_hash = None
        self.heartbeat = None
        self.brands: dict = {}
        self.groups_joined: set[str] = set()
        if not self.scope.get("is_platform_host"):
            await self.close(code=CLOSE_WRONG_HOST)
            return
        await self.accept()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            try:
                await self._start(user=user, token=None)
            except DatabaseUnavailable:
                await self.send_error("unavailable", "The service is briefly unavailable; reconnect.")
                await self.close(code=CLOSE_TRY_AGAIN_LATER)

    async def _start(self, *, user, token) -> bool:
        session = await database_retrying(_agent_session, user, token, self.channel_name)
        if session is None:
            await self.send_error("unauthorized", "Sign in as an agent.")
            await self.close(code=CLOSE_UNAUTHORIZED)
            return False
        self.agent, self.brands, held = session
        self.token_hash = AgentToken.hash(token) if token else None
        self.heartbeat = asyncio.create_task(self._beat())
        await self._join(user_group(user_id=self.agent.user_id))
        await self._join(agent_group(agent_id=self.agent.id))
        for brand in self.brands.values():
            await self._join(brand_queue_group(schema=brand.schema_name))
        for schema, conversation_id in held:
            await self._join_conversation(schema, conversation_id)
        await self.send_json({"type": "auth.ok", "agent": {"id": self.agent.id, "name": self.agent.display_name}, "brands": sorted(self.brands)})
        return True

    async def _join_conversation(self, schema: str, conversation_id: int) -> None:
        for audience in ("all", "agents"):
            await self._join(conversation_group(schema=schema, conversation_id=conversation_id, audience=audience))

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def _beat(self) -> None:
        """Refresh this socket's presence row while it lives; a database outage skips a
        beat, it does not end the socket (the row comes back on the next one)."""
        while True:
            await asyncio.sleep(settings.PRESENCE_HEARTBEAT_SECONDS)
            try:
                await database_sync_to_async(routing.agent_socket_heartbeat)(agent_id=self.agent.id, socket_id=self.channel_name)
            except Exception:
                logger.warning("agent socket heartbeat failed", exc_info=True)

    async def disconnect(self, code):
        if getattr(self, "heartbeat", None) is not None:
            self.heartbeat.cancel()
        for group in getattr(self, "groups_joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "agent", None) is not None:
            try:
                await database_retrying(database_sync_to_async(routing.agent_disconnected), agent_id=self.agent.id, socket_id=self.channel_name)
            except DatabaseUnavailable:
                pass  # the row stops beating and the presence sweep takes it

    async def access_revoked(self, event):
        """The user was disabled, a token revoked or a staffing removed: check again."""
        try:
            brands = await database_retrying(_access_recheck, self.agent.user_id, self.token_hash)
        except DatabaseUnavailable:
            # Fail closed: a revocation we cannot verify ends the socket; the client
            # reconnects and is authorized afresh.
            brands = None
        if brands is None:
            await self.send_error("unauthorized", "Access was revoked.")
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        lost = {slug: brand for slug, brand in self.brands.items() if slug not in brands}
        self.brands = brands
        for brand in lost.values():
            prefix = f"{brand.schema_name}."
            for group in [g for g in self.groups_joined if g.startswith(prefix)]:
                await self.channel_layer.group_discard(group, self.channel_name)
                self.groups_joined.discard(group)
        if lost:
            await self.send_json({"type": "access.changed", "brands": sorted(self.brands), "removed": sorted(lost)})

    async def handle_frame(self, frame):
        if self.agent is None and frame["type"] != "auth":
            raise FrameError("not_authenticated", "Send an auth frame first.")
        await super().handle_frame(frame)

    def _brand(self, frame):
        brand = self.brands.get(frame.get("brand")) if isinstance(frame.get("brand"), str) else None
        if brand is None:
            raise FrameError("not_found", "No such conversation.")
        return brand

    async def _call(self, frame, fn, *args):
        brand = self._brand(frame)
        try:
            return await self.run(brand.schema_name, fn, self.agent, brand.slug, frame.get("conversation_id"), *args)
        except (ConversationNotFound, StaffingNotFound):
            raise FrameError("not_found", "No such conversation.") from None
        except ChatError as exc:
            raise FrameError(exc.code, exc.detail) from exc

    async def on_auth(self, frame):
        if self.agent is not None:
            raise FrameError("already_authenticated", "This socket is already authenticated.")
        token = frame.get("token")
        if not isinstance(token, str):
            raise FrameError("unauthorized", "Send an agent token.")
        await self._start(user=None, token=token)

    async def on_subscribe(self, frame):
        try:
            after_seq = seq_parse(frame.get("after_seq"))
        except ChatError as exc:
            raise FrameError(exc.code, exc.detail) from None
        conversation_id, missed = await self._call(frame, _subscribe, after_seq)
        brand = self._brand(frame)
        await self._join_conversation(brand.schema_name, conversation_id)
        await self.send_json({"type": "subscribed", "brand": brand.slug, "conversation_id": conversation_id})
        for message in missed:
            await self.send_json({**message, "brand": brand.slug, "conversation_id": conversation_id})

    # Watching: a supervisor follows a chat live without taking it over. Nothing is
    # published (no agent.joined, no read marker), so neither the customer nor the agent
    # holding it can tell; what the supervisor can do in it stays what any colleague can:
    # a private note (the whisper), never a public reply (the message statement's rule).
    async def on_watch(self, frame):
        try:
            after_seq = seq_parse(frame.get("after_seq"))
        except ChatError as exc:
            raise FrameError(exc.code, exc.detail) from None
        conversation_id, holder_id, missed = await self._call(frame, _watch, after_seq)
        brand = self._brand(frame)
        await self._join_conversation(brand.schema_name, conversation_id)
        await self.send_json({"type": "watching", "brand": brand.slug, "conversation_id": conversation_id, "agent_id": holder_id})
        for message in missed:
            await self.send_json({**message, "brand": brand.slug, "conversation_id": conversation_id})

    async def on_unwatch(self, frame):
        brand = self._brand(frame)
        try:
            conversation_id = int(frame.get("conversation_id"))
        except (TypeError, ValueError):
            raise FrameError("not_found", "No such conversation.") from None
        for audience in ("all", "agents"):
            group = conversation_group(schema=brand.schema_name, conversation_id=conversation_id, audience=audience)
            if group in self.groups_joined:
                await self.channel_layer.group_discard(group, self.channel_name)
                self.groups_joined.discard(group)
        await self.send_json({"type": "unwatched", "brand": brand.slug, "conversation_id": conversation_id})

    async def on_message_send(self, frame):
        message, created = await self._call(frame, _send, frame.get("body"), frame.get("client_msg_id"), bool(frame.get("internal")), frame.get("attachment_ids"))
        if not created:
            brand = self._brand(frame)
            ready = agent_frame(message_frame(message), brand_slug=brand.slug, conversation_id=message.conversation_id)
            await self.send_json({**ready, "brand": brand.slug, "conversation_id": message.conversation_id})

    async def on_typing(self, frame):
        brand = self._brand(frame)
        conversation = await self._call(frame, _holding)
        await self.publish([events.typing_changed(schema=brand.schema_name, conversation_id=conversation.id, sender=Message.Sender.AGENT, is_typing=bool(frame.get("is_typing", True)))])

    async def on_read(self, frame):
        await self._call(frame, _read, frame.get("up_to_seq"))

    async def on_end(self, frame):
        await self._call(frame, _end)

    async def on_presence(self, frame):
        presence = frame.get("presence")
        try:
            await database_retrying(database_sync_to_async(routing.presence_set), agent=self.agent, presence=presence)
        except routing.RoutingError as exc:
            raise FrameError(exc.code, exc.detail) from exc

    # Layer events: conversation frames carry brand and conversation so one socket can
    # hold chats from several brands.
    def _origin(self, event) -> dict:
        slug = next((slug for slug, brand in self.brands.items() if brand.schema_name == event.get("schema")), None)
        return {"brand": slug, "conversation_id": event.get("conversation_id")}

    async def forward_frame(self, event):
        await self.send_json({**event["frame"], **self._origin(event)})

    async def message_created(self, event):
        origin = self._origin(event)
        frame = agent_frame(event["frame"], brand_slug=origin["brand"], conversation_id=origin["conversation_id"]) if origin["brand"] else event["frame"]
        await self.send_json({**frame, **origin})

    conversation_read = forward_frame
    agent_joined = forward_frame
    agent_left = forward_frame
    conversation_ended = forward_frame
    typing_changed = forward_frame

    async def survey_requested(self, event):
        return None  # the survey is the customer's

    async def queue_moved(self, event):
        return None  # agents see the queue through queue.changed

    async def offer_created(self, event):
        await self.send_json({**event, "type": "offer"})

    async def offer_withdrawn(self, event):
        await self.send_json({**event, "type": "offer.withdrawn"})

    async def conversation_assigned(self, event):
        await self._join_conversation(event["schema"], event["conversation_id"])
        await self.send_json({"type": "conversation.assigned", "brand": event["brand"], "conversation_id": event["conversation_id"]})

    async def conversation_unassigned(self, event):
        await self.send_json({"type": "conversation.unassigned", "brand": event["brand"], "conversation_id": event["conversation_id"]})

    async def queue_changed(self, event):
        await self.send_json({"type": "queue.changed", "brand": event["brand"]})

    async def alert_raised(self, event):
        await self.send_json(event["frame"])

    async def presence_changed(self, event):
        await self.send_json({"type": "presence", "presence": event["presence"]})
