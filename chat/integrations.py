"""What a conversation's life tells the brand's webhooks (brand schema): one payload
shape for every conversation event, recorded inside the caller's transaction
(webhooks.services.webhook_event_record), so what is told is what was committed."""

from webhooks.models import WebhookEvent
from webhooks.services import webhook_event_record

from .models import Conversation


def conversation_payload(conversation: Conversation) -> dict:
    return {
        "conversation": {
            "id": conversation.id,
            "state": str(conversation.state),
            "category_id": conversation.category_id,
            "customer": {"name": conversation.customer_name, "email": conversation.customer_email, "external_id": conversation.customer_external_id},
            "summary": conversation.summary,
            "agent": {"id": conversation.agent_id, "name": conversation.agent_name} if conversation.agent_id else None,
            "created_at": conversation.created_at,
            "queued_at": conversation.queued_at,
            "assigned_at": conversation.assigned_at,
            "first_agent_reply_at": conversation.first_agent_reply_at,
            "ended_at": conversation.ended_at,
            "ended_by": str(conversation.ended_by or ""),
        }
    }


def conversation_event_record(*, conversation: Conversation, event_type: WebhookEvent, **extra) -> None:
    webhook_event_record(event_type=event_type, conversation_id=conversation.id, data={**conversation_payload(conversation), **extra})
