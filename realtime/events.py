"""One builder per event type. Each returns the `(group, payload)` pair that
`publish_on_commit` sends; a consumer method named after the payload's type (dots as
underscores) turns it into a frame for its client (docs/protocol.md).

Conversation events carry `schema` and `conversation_id`: an agent holds chats of several
brands on one socket and must say where each frame belongs. `frame` is what the client
gets, ready-made, so both sides' consumers forward it without rebuilding it.
"""

from django.db.models import TextChoices

from .groups import agent_group, brand_queue_group, conversation_group, user_group
from .publish import Event


def _conversation(*, schema: str, conversation_id: int, type: str, frame: dict, audience: str = "all") -> Event:
    group = conversation_group(schema=schema, conversation_id=conversation_id, audience=audience)
    return group, {"type": type, "schema": schema, "conversation_id": conversation_id, "frame": frame}


# --- Conversation: both sides ------------------------------------------------------------

def message_created(*, schema: str, conversation_id: int, frame: dict, internal: bool = False) -> Event:
    """A stored message (`frame` from chat.selectors.message_frame); notes reach agents only."""
    return _conversation(schema=schema, conversation_id=conversation_id, type="message.created", frame=frame, audience="agents" if internal else "all")


def conversation_read(*, schema: str, conversation_id: int, reader: str, up_to_seq: int) -> Event:
    frame = {"type": "read", "reader": str(reader), "up_to_seq": up_to_seq}
    return _conversation(schema=schema, conversation_id=conversation_id, type="conversation.read", frame=frame)


def agent_joined(*, schema: str, conversation_id: int, agent_id: int, agent_name: str) -> Event:
    frame = {"type": "agent.joined", "agent": {"id": agent_id, "name": agent_name}}
    return _conversation(schema=schema, conversation_id=conversation_id, type="agent.joined", frame=frame)


def agent_left(*, schema: str, conversation_id: int, agent_id: int, agent_name: str) -> Event:
    frame = {"type": "agent.left", "agent": {"id": agent_id, "name": agent_name}}
    return _conversation(schema=schema, conversation_id=conversation_id, type="agent.left", frame=frame)


def conversation_ended(*, schema: str, conversation_id: int, state: str, ended_by: str) -> Event:
    frame = {"type": "conversation.ended", "state": str(state), "ended_by": str(ended_by)}
    return _conversation(schema=schema, conversation_id=conversation_id, type="conversation.ended", frame=frame)


def survey_requested(*, schema: str, conversation_id: int) -> Event:
    frame = {"type": "survey.requested", "scale": [1, 5]}
    return _conversation(schema=schema, conversation_id=conversation_id, type="survey.requested", frame=frame)


def typing_changed(*, schema: str, conversation_id: int, sender: str, is_typing: bool) -> Event:
    """The customer's typing goes to the agents, the agent's to the customer."""
    audience = "agents" if sender == "customer" else "customer"
    frame = {"type": "typing", "sender": str(sender), "is_typing": is_typing}
    return _conversation(schema=schema, conversation_id=conversation_id, type="typing.changed", frame=frame, audience=audience)


def queue_moved(*, schema: str, conversation_id: int, position: int, eta_seconds: int) -> Event:
    """A waiting customer's new place (agents see the queue through queue.changed)."""
    frame = {"type": "queue.position", "position": position, "eta_seconds": eta_seconds}
    return _conversation(schema=schema, conversation_id=conversation_id, type="queue.moved", frame=frame, audience="customer")


def inactivity_warned(*, schema: str, conversation_id: int, closes_at) -> Event:
    """The chat has gone quiet: the customer is told when it will close unless they write."""
    frame = {"type": "inactivity.warning", "closes_at": closes_at.isoformat()}
    return _conversation(schema=schema, conversation_id=conversation_id, type="inactivity.warned", frame=frame, audience="customer")


# --- Agents -----------------------------------------------------------------------------

def queue_changed(*, brand) -> Event:
    """The brand's queue changed; agents' workspaces fetch it again."""
    return brand_queue_group(schema=brand.schema_name), {"type": "queue.changed", "brand": brand.slug}


def conversation_assigned(*, agent_id: int, brand, conversation_id: int) -> Event:
    return agent_group(agent_id=agent_id), {"type": "conversation.assigned", "brand": brand.slug, "schema": brand.schema_name, "conversation_id": conversation_id}


def conversation_unassigned(*, agent_id: int, brand, conversation_id: int) -> Event:
    return agent_group(agent_id=agent_id), {"type": "conversation.unassigned", "brand": brand.slug, "schema": brand.schema_name, "conversation_id": conversation_id}


def offer_created(*, agent_id: int, brand, conversation_id: int, category: str, customer_name: str, summary: str, expires_at) -> Event:
    return agent_group(agent_id=agent_id), {
        "type": "offer.created",
        "brand": brand.slug,
        "brand_name": brand.name,
        "conversation_id": conversation_id,
        "category": category,
        "customer_name": customer_name,
        "summary": summary,
        "expires_at": expires_at.isoformat(),
    }


def offer_withdrawn(*, agent_id: int, brand, conversation_id: int, reason: str) -> Event:
    """reason: "declined", "expired" or "left" (the customer gave up)."""
    return agent_group(agent_id=agent_id), {"type": "offer.withdrawn", "brand": brand.slug, "conversation_id": conversation_id, "reason": reason}


def presence_changed(*, agent_id: int, presence: str) -> Event:
    return agent_group(agent_id=agent_id), {"type": "presence.changed", "presence": str(presence)}


def access_revoked(*, user_id: int, reason: str) -> Event:
    """The user was disabled, a token revoked or a staffing removed: sockets re-check."""
    return user_group(user_id=user_id), {"type": "access.revoked", "reason": reason}


class AlertKind(TextChoices):
    QUEUE_ESCALATED = "queue.escalated", "Nobody accepted a waiting chat in time"
    SLA_BREACHED = "sla.breached", "A service-level target was missed"
    SLA_WARNING = "sla.warning", "A service-level target is close"
    REPLY_OVERDUE = "reply.overdue", "A customer is waiting for the agent's answer"


def alert_raised(*, agent_id: int, kind: str, brand, conversation_id: int, detail: str, at, **extra) -> Event:
    """A promise in danger, for one person: supervisors hear of escalations and breaches,
    the holding agent of warnings. The frame is ready for the agent socket."""
    frame = {
        "type": "alert", "kind": str(kind), "brand": brand.slug, "brand_name": brand.name,
        "conversation_id": conversation_id, "detail": detail, "at": at.isoformat(), **extra,
    }
    return agent_group(agent_id=agent_id), {"type": "alert.raised", "frame": frame}
