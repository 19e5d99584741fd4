"""Wrap-up (brand schema): the tags and disposition an agent records when a chat ends.

Kept apart from chat.services.conversation_end so a chat that ended on the customer's side
(or by inactivity) is wrapped up the same way, after the fact.
"""

from django.db import transaction
from django.utils import timezone

from helpdesk.models import AgentProfile

from .errors import ChatError
from .models import AgentSegment, Conversation, Tag, WrapUp

MAX_TAGS = 10


def tags_active() -> list[Tag]:
    return list(Tag.objects.filter(is_active=True).order_by("name"))


def wrap_up_validate(*, tag_slugs: list[str], disposition: str = "") -> list[Tag]:
    """The brand's active tags named by `tag_slugs`, or ChatError; callers that end a chat
    and wrap it up in one request check first, so a bad tag does not leave it half done."""
    if not isinstance(tag_slugs, list) or not all(isinstance(s, str) for s in tag_slugs) or len(tag_slugs) > MAX_TAGS:
        raise ChatError(f"tags must be a list of at most {MAX_TAGS} tag slugs.", "bad_tags")
    if disposition and disposition not in WrapUp.Disposition.values:
        raise ChatError("No such disposition.", "bad_disposition")
    tags = list(Tag.objects.filter(slug__in=set(tag_slugs), is_active=True))
    if len(tags) != len(set(tag_slugs)):
        raise ChatError("No such tag for this brand.", "bad_tags")
    return tags


def conversation_wrap_up(*, conversation_id: int, agent: AgentProfile, tag_slugs: list[str], disposition: str = "") -> WrapUp:
    """Record (or correct) the wrap-up of an ended chat. Only an agent who held the chat
    wraps it up; tags must be the brand's active tags."""
    tags = wrap_up_validate(tag_slugs=tag_slugs, disposition=disposition)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.state not in (Conversation.State.ENDED, Conversation.State.ABANDONED):
            raise ChatError("A chat is wrapped up once it has ended.", "bad_state", 409)
        held = conversation.agent_id == agent.id or AgentSegment.objects.filter(conversation_id=conversation.id, agent_id=agent.id).exists()
        if not held:
            raise ChatError("Only an agent who had the chat wraps it up.", "forbidden", 403)
        wrap_up, _ = WrapUp.objects.update_or_create(
            conversation=conversation, defaults={"disposition": disposition, "agent_id": agent.id, "wrapped_at": timezone.now()},
        )
        wrap_up.tags.set(tags)
    return wrap_up
