"""The plain-text transcript of a conversation (brand schema), in the customer's language
and time zone (as the chat started), else the brand's."""

from zoneinfo import ZoneInfo

from django.utils import formats, translation
from django.utils.translation import gettext as _

from tenants.models import Brand

from .models import Conversation, Message


def customer_zone(*, brand: Brand, conversation: Conversation) -> ZoneInfo:
    return ZoneInfo(conversation.customer_time_zone or brand.time_zone or "UTC")


def transcript_text(*, brand: Brand, conversation: Conversation) -> str:
    """The plain-text transcript emailed to the customer (private notes left out). The
    question is its first message (seq 1)."""
    zone = customer_zone(brand=brand, conversation=conversation)
    with translation.override(conversation.locale or brand.locale or "en"):
        started = formats.date_format(conversation.created_at.astimezone(zone), "DATETIME_FORMAT")
        lines = [
            _("Your chat with %(brand)s") % {"brand": brand.name},
            _("Started %(when)s (%(zone)s)") % {"when": started, "zone": zone.key},
            _("Topic: %(topic)s") % {"topic": conversation.category.name},
            "",
        ]
        for message in Message.objects.filter(conversation=conversation, is_internal=False).order_by("seq"):
            author = "" if message.sender == Message.Sender.SYSTEM else f"{message.author_name}: "
            lines.append(f"[{message.sent_at.astimezone(zone):%H:%M}] {author}{message.body}")
        lines += ["", _("Thank you for contacting %(brand)s.") % {"brand": brand.name}]
    return "\n".join(lines)
