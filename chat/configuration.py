"""Writes on a brand's chat settings (brand schema): custom pre-chat fields and canned
replies, for the brand API. Each write validates the whole row (`full_clean`) so the
API holds the same rules as the brand admin's forms."""

from django.core.exceptions import ValidationError
from django.db import transaction

from .errors import ChatError
from .models import CannedReply, CustomField

CUSTOM_FIELD_EDITABLE = ("label", "field_type", "required", "choices", "pattern", "help_text", "position", "is_active")
CANNED_REPLY_EDITABLE = ("shortcut", "title", "body")


def _clean_and_save(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise ChatError(f"{field}: {messages[0]}", "invalid") from None
    instance.save()


@transaction.atomic
def custom_field_update(*, field: CustomField, changes: dict) -> CustomField:
    for name, value in changes.items():
        if name in CUSTOM_FIELD_EDITABLE:
            setattr(field, name, value)
    _clean_and_save(field)
    return field


@transaction.atomic
def canned_reply_create(*, shortcut: str, title: str, body: str) -> CannedReply:
    reply = CannedReply(shortcut=shortcut, title=title, body=body)
    _clean_and_save(reply)
    return reply


@transaction.atomic
def canned_reply_update(*, reply: CannedReply, changes: dict) -> CannedReply:
    for name, value in changes.items():
        if name in CANNED_REPLY_EDITABLE:
            setattr(reply, name, value)
    _clean_and_save(reply)
    return reply


def canned_reply_delete(*, reply: CannedReply) -> None:
    reply.delete()
