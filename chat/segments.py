"""Who held a conversation when (brand schema): the record behind handle time. Called
inside the transaction that moves the chat, with the conversation row locked."""

from django.utils import timezone

from helpdesk.models import AgentProfile

from .models import AgentSegment


def segment_start(*, conversation_id: int, agent: AgentProfile, at=None) -> AgentSegment:
    return AgentSegment.objects.create(conversation_id=conversation_id, agent_id=agent.id, agent_name=agent.display_name, started_at=at or timezone.now())


def segment_close(*, conversation_id: int, reason: str, at=None) -> int:
    """Close the open segment, if any; returns how many were closed (0 or 1)."""
    return AgentSegment.objects.filter(conversation_id=conversation_id, ended_at__isnull=True).update(ended_at=at or timezone.now(), end_reason=reason)
