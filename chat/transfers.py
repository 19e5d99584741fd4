"""Moving a chat between agents (brand schema): a transfer by the agent holding it, or a
supervisor's reassignment (taking it over, or handing it to someone else)."""

from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from helpdesk.models import AgentProfile
from knowledge.models import Category
from realtime import events
from realtime.publish import publish_on_commit
from routing import services as routing
from tenants.models import Brand

from .errors import ChatError
from .integrations import WebhookEvent, conversation_event_record
from .locale import conversation_language
from .messages import message_send, message_validate, system_message_add
from .models import AgentSegment, Conversation, Message
from .segments import segment_close, segment_start
from .services import queue_positions_publish_on_commit


def conversation_transfer(
    *, agent: AgentProfile, brand: Brand, conversation_id: int, to_agent: AgentProfile | None, category: str | None, note: str,
    by: AgentProfile | None = None,
) -> Conversation:
    """Hand a chat to another agent of the brand, or back to the queue under a category.

    `agent` holds the chat; `by` is who asked, when not that agent (a supervisor).
    """
    by = by or agent
    if to_agent is None and not category:
        raise ChatError("Choose an agent or a category to transfer to.", "bad_transfer")
    if category and not Category.objects.filter(slug=category, is_active=True).exists():
        raise ChatError("No such category.", "bad_transfer")
    if note and note.strip():
        message_validate(body=note, client_msg_id=None)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.state != Conversation.State.ACTIVE or conversation.agent_id != agent.id:
            raise ChatError("Only the agent in the chat can transfer it.", "forbidden", 403)
        try:
            routing.chat_transfer(brand=brand, conversation_id=conversation.id, from_agent_id=agent.id, to_agent=to_agent, category=category)
        except routing.RoutingError as exc:
            raise ChatError(exc.detail, exc.code, 409) from exc
        if note and note.strip():
            message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body=f"Transfer note: {note.strip()}", agent=by, internal=True)
        if category:
            conversation.category_id = Category.objects.get(slug=category).id
        segment_close(
            conversation_id=conversation.id,
            reason=AgentSegment.EndReason.TRANSFERRED if to_agent is not None else AgentSegment.EndReason.REQUEUED,
        )
        if to_agent is not None:
            segment_start(conversation_id=conversation.id, agent=to_agent)
            conversation.agent_id = to_agent.id
            conversation.agent_name = to_agent.display_name
            conversation.save(update_fields=["agent_id", "agent_name", "category"])
            with translation.override(conversation_language(brand=brand, conversation=conversation)):
                body = _("%(from)s transferred the chat to %(to)s.") % {"from": by.display_name, "to": to_agent.display_name}
            system_message_add(conversation_id=conversation.id, body=body)
            publish_on_commit(
                events.agent_joined(schema=brand.schema_name, conversation_id=conversation.id, agent_id=to_agent.id, agent_name=to_agent.display_name),
                events.conversation_assigned(agent_id=to_agent.id, brand=brand, conversation_id=conversation.id),
            )
        else:
            conversation.state = Conversation.State.QUEUED
            conversation.agent_id = None
            conversation.agent_name = ""
            conversation.save(update_fields=["state", "agent_id", "agent_name", "category"])
            with translation.override(conversation_language(brand=brand, conversation=conversation)):
                body = _("%(name)s is passing you to a colleague. Please wait a moment.") % {"name": agent.display_name}
            system_message_add(conversation_id=conversation.id, body=body)
            queue_positions_publish_on_commit(brand=brand)
        publish_on_commit(
            events.conversation_unassigned(agent_id=agent.id, brand=brand, conversation_id=conversation.id),
            events.agent_left(schema=connection.schema_name, conversation_id=conversation.id, agent_id=agent.id, agent_name=agent.display_name),
        )
        conversation_event_record(
            conversation=conversation, event_type=WebhookEvent.CONVERSATION_TRANSFERRED,
            transfer={"from_agent_id": agent.id, "to_agent_id": to_agent.id if to_agent else None, "to_queue": to_agent is None, "by_agent_id": by.id},
        )
    routing.dispatch(brand=brand)
    routing.dispatch_for_agent(agent_id=agent.id)
    return conversation


def conversation_reassign(*, supervisor: AgentProfile, brand: Brand, conversation: Conversation, to_agent: AgentProfile | None) -> Conversation:
    """A supervisor takes over a chat in progress (to_agent None) or hands it to another
    agent of the brand. The caller has authorized the supervisor on the brand."""
    target = to_agent or supervisor
    if conversation.state != Conversation.State.ACTIVE or not conversation.agent_id:
        raise ChatError("Only a chat in progress can be taken over.", "bad_state", 409)
    current = AgentProfile.objects.get(id=conversation.agent_id)
    if target.id == current.id:
        raise ChatError("That agent already has the chat.", "same_agent", 409)
    if target.id == supervisor.id:
        # Taking over goes online for the supervisor, who may be routed nothing otherwise.
        routing.presence_ensure_online(agent=supervisor)
    return conversation_transfer(
        agent=current, brand=brand, conversation_id=conversation.id, to_agent=target, category=None,
        note=f"{supervisor.display_name} (supervisor) reassigned this chat.", by=supervisor,
    )
