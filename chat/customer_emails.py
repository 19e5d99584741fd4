"""Emails to customers about their chats (brand schema), all through the outbox: the
transcript they ask for, and the survey invitation when the in-chat survey went
unanswered."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from surveys.selectors import surveys_due_for_email
from surveys.services import survey_email_link_issue
from tenants.models import Brand

from .errors import ChatError
from .models import Conversation, OutboundEmail
from .outbox import email_enqueue
from .transcripts import transcript_text


def transcript_email_request(*, brand: Brand, conversation: Conversation) -> OutboundEmail:
    if conversation.state not in (Conversation.State.ENDED, Conversation.State.ABANDONED):
        raise ChatError("The transcript can be emailed once the chat has ended.", "bad_state", 409)
    with transaction.atomic():
        # The row lock makes two requests at once send one email, not two.
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        if OutboundEmail.objects.filter(conversation=conversation, kind="transcript").exists():
            raise ChatError("The transcript is already on its way to you.", "already_requested", 409)
        return email_enqueue(
            to=conversation.customer_email,
            subject=transcript_subject(brand=brand, conversation=conversation),
            body=transcript_text(brand=brand, conversation=conversation),
            kind="transcript",
            conversation=conversation,
        )


def survey_emails_queue(*, brand: Brand, now=None) -> int:
    """Surveys still unanswered at their due time go out once by email, with a single-use link."""
    now = now or timezone.now()
    count = 0
    for survey_id in surveys_due_for_email(now=now):
        with transaction.atomic():
            issued = survey_email_link_issue(survey_id=survey_id, now=now)
            if issued is None:
                continue
            survey, raw = issued
            conversation = survey.conversation
            host = f"{brand.slug}.{settings.ROOT_DOMAIN}"
            language = conversation.locale or brand.locale or "en"
            link = f"{settings.SITE_SCHEME}://{host}{settings.SITE_PORT_SUFFIX}/survey/{raw}/"
            # Sent by the sweep, outside any request: in the language the chat was in.
            with translation.override(language):
                subject = _("How did we do? Your chat with %(brand)s") % {"brand": brand.name}
                body = "\n\n".join([
                    _("Hello %(name)s,") % {"name": conversation.customer_name},
                    _("You recently chatted with %(agent)s. Would you rate the help you got? It takes ten seconds:") % {"agent": conversation.agent_name or brand.name},
                    link,
                    _("The link works once."),
                ]) + "\n"
            email_enqueue(to=conversation.customer_email, subject=subject, body=body, kind="survey", conversation=conversation)
            count += 1
    return count


def transcript_subject(*, brand: Brand, conversation: Conversation) -> str:
    with translation.override(conversation.locale or brand.locale or "en"):
        return _("Your chat with %(brand)s") % {"brand": brand.name}
