"""Offline messages (brand schema): left when nobody can chat, answered by email."""

from django.db import transaction
from django.utils import timezone

from helpdesk.models import AgentProfile
from tenants.models import Brand, PrechatAsk

from .errors import ChatError
from .messages import message_validate
from .models import OfflineMessage
from .outbox import email_enqueue
from .prechat import prechat_validate
from .services import identity_from_token


def offline_message_create(*, brand: Brand, data: dict, identity_token: str | None, reason: str) -> OfflineMessage:
    identity = identity_from_token(brand=brand, token=identity_token)
    # The answer goes by email, whatever the brand's chat form leaves optional.
    prechat = prechat_validate(data=data, identity=identity, asks={**brand.prechat_fields, "email": PrechatAsk.REQUIRED})
    return OfflineMessage.objects.create(
        customer_name=prechat.name, customer_email=prechat.email, customer_external_id=prechat.customer_id,
        category=prechat.category, summary=prechat.summary, product_id=prechat.product_id,
        custom_fields=prechat.custom_fields, reason=reason,
    )


def offline_message_reply(*, agent: AgentProfile, brand: Brand, message_id, body: str) -> OfflineMessage:
    """An agent answers an offline message by email (through the outbox) and closes it."""
    body, _ = message_validate(body=body, client_msg_id=None)
    with transaction.atomic():
        message = OfflineMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise ChatError("No such message.", "not_found", 404)
        if message.handled_at is not None:
            raise ChatError("A colleague has already answered this message.", "already_handled", 409)
        message.handled_at = timezone.now()
        message.handled_by_agent_id = agent.id
        message.save(update_fields=["handled_at", "handled_by_agent_id"])
        email_enqueue(
            to=message.customer_email,
            subject=f"Re: your message to {brand.name}",
            body=f"Hello {message.customer_name},\n\n{body.strip()}\n\n{agent.display_name}, {brand.name}\n\n> {message.summary}\n",
            kind="offline_reply",
        )
    return message
