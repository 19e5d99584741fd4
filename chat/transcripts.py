"""The plain-text transcript of a conversation (brand schema)."""

from django.utils import timezone

from tenants.models import Brand

from .models import Conversation, Message


def transcript_text(*, brand: Brand, conversation: Conversation) -> str:
    """The plain-text transcript emailed to the customer (private notes left out)."""
    lines = [
        f"Your chat with {brand.name}",
        f"Started {timezone.localtime(conversation.created_at):%Y-%m-%d %H:%M %Z}",
        f"Topic: {conversation.category.name}",
        f"Your question: {conversation.summary}",
        "",
    ]
    for message in Message.objects.filter(conversation=conversation, is_internal=False).order_by("seq"):
        author = "" if message.sender == Message.Sender.SYSTEM else f"{message.author_name}: "
        lines.append(f"[{timezone.localtime(message.sent_at):%H:%M}] {author}{message.body}")
    lines += ["", f"Thank you for contacting {brand.name}."]
    return "\n".join(lines)
