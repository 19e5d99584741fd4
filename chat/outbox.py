"""The email outbox (brand schema): an email is stored in the transaction that causes it
and sent by its task (here, beside it) after the commit, so a broker or SMTP outage
delays it instead of losing it; chat's sweep sends whatever the task could not."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from .models import Conversation, OutboundEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


def email_enqueue(*, to: str, subject: str, body: str, kind: str, conversation: Conversation | None = None) -> OutboundEmail:
    """Store the email; it is handed to the sending task once the caller's transaction commits."""
    email = OutboundEmail.objects.create(to=to, subject=subject, body=body, kind=kind, conversation=conversation)
    schema = connection.schema_name

    def send():
        try:
            outbox_send.apply_async(kwargs={"email_ids": [email.id]}, headers={"_schema_name": schema})
        except Exception:  # broker down: the periodic sweep sends it later
            logger.warning("Could not queue email %s in %s; the outbox sweep will send it", email.id, schema, exc_info=True)

    transaction.on_commit(send)
    return email


def outbox_message_id(email: OutboundEmail) -> str:
    """The email's Message-ID, the same on every attempt: a worker killed after the SMTP
    server took the message but before the row was marked sent sends it again, and the
    receiving side sees the same id and can drop the copy. The brand schema keeps two
    brands' row 7 apart; the creation time keeps a restored or recreated row apart."""
    domain = settings.ROOT_DOMAIN
    return f"<outbox.{connection.schema_name}.{email.id}.{int(email.created_at.timestamp() * 1_000_000)}@{domain}>"


def outbox_deliver(*, email_ids: list[int] | None = None, limit: int = 50) -> int:
    """Send pending emails of the current brand. A row is marked sent once."""
    queryset = OutboundEmail.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
    if email_ids is not None:
        queryset = queryset.filter(id__in=email_ids)
    sent = 0
    for email_id in list(queryset.values_list("id", flat=True)[:limit]):
        with transaction.atomic():
            email = OutboundEmail.objects.select_for_update(skip_locked=True).filter(id=email_id, sent_at__isnull=True).first()
            if email is None:
                continue
            try:
                EmailMessage(
                    subject=email.subject, body=email.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.to],
                    headers={"Message-ID": outbox_message_id(email)},
                ).send()
            except Exception as exc:  # SMTP trouble: keep it for the next sweep
                email.attempts += 1
                email.last_error = f"{type(exc).__name__}: {exc}"[:300]
                email.save(update_fields=["attempts", "last_error"])
                continue
            email.sent_at = timezone.now()
            email.attempts += 1
            email.save(update_fields=["sent_at", "attempts"])
            sent += 1
    return sent


@shared_task(name="chat.outbox.send", acks_late=True, ignore_result=True)
def outbox_send(email_ids: list[int] | None = None) -> int:
    """Runs in the sending brand's schema (tenant-schemas-celery carries it)."""
    return outbox_deliver(email_ids=email_ids)
