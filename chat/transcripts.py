"""The plain-text transcript of a conversation (brand schema), in the customer's language
and time zone (as the chat started), else the brand's."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _

from tenants.models import Brand

from .attachments import attachment_meta, customer_links, size_label
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
        # Files as links, never the files: signed for the week an email may wait unread
        # (ATTACHMENT_EMAIL_LINK_SECONDS), on the brand's host.
        links = customer_links(
            schema=brand.schema_name, conversation_id=conversation.id, seconds=settings.ATTACHMENT_EMAIL_LINK_SECONDS,
            absolute=f"{settings.SITE_SCHEME}://{brand.slug}.{settings.ROOT_DOMAIN}{settings.SITE_PORT_SUFFIX}",
        )
        for message in Message.objects.filter(conversation=conversation, is_internal=False).order_by("seq").prefetch_related("attachments"):
            author = "" if message.sender == Message.Sender.SYSTEM else f"{message.author_name}: "
            lines.append(f"[{message.sent_at.astimezone(zone):%H:%M}] {author}{message.body}".rstrip())
            for attachment in message.attachments.all():
                meta = attachment_meta(attachment)
                lines.append("    " + _("Attached: %(name)s (%(size)s) %(link)s") % {"name": attachment.name, "size": size_label(attachment.size), "link": links(meta)["download_url"]})
        lines += ["", _("Thank you for contacting %(brand)s.") % {"brand": brand.name}]
    return "\n".join(lines)
