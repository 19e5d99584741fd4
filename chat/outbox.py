"""The email outbox (brand schema): an email is stored in the transaction that causes it
and sent by its task (here, beside it) after the commit, so a broker or SMTP outage
delays it instead of losing it; chat's sweep sends whatever the task could not.

One send is claim, send, record (docs/reliability.md, "Delivery"):

1. **Claim**, committed before any SMTP traffic: under the row lock (SKIP LOCKED) a
   pending row, or a `sending` row whose claim has lapsed, becomes `sending` with
   `attempts + 1` and `claimed_at`. A lapsed claim means its sender died mid-send: the
   server may already hold the email, so the new try is counted in `uncertain_attempts`
   and goes out under the same Message-ID, which the receiving side dedupes on.
2. **Send** while holding the row lock again, fenced by the claim (`sending` and our
   attempt number), so a live sender is never overtaken however slow it is; a killed
   sender's lock goes with its connection, and then only the lease
   (`OUTBOX_CLAIM_LEASE_SECONDS`) keeps others off the row.
3. **Record** the outcome with one UPDATE fenced by the claim, on a fresh connection if
   the send's database session was cut meanwhile.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Conversation, OutboundEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
Status = OutboundEmail.Status

# Answers that prove the server does not have the email: it refused it, or was never
# reached. Anything else mid-conversation (a timeout, a dropped connection) may have come
# after the server took the message.
REFUSED = (ConnectionRefusedError, smtplib.SMTPConnectError, smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)


@dataclass(frozen=True)
class SendOutcome:
    sent: bool
    uncertain: bool = False
    error: str = ""


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


def _lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)


def _sendable(now: datetime) -> Q:
    return Q(status=Status.PENDING) | Q(status=Status.SENDING, claimed_at__lt=now - _lease())


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _claim(*, email_id: int, now: datetime) -> int | None:
    """Claim the row for one try and commit; the attempt number now held, or None when
    another sender holds it, it is sent, or it was given up."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update(skip_locked=True).filter(_sendable(now), id=email_id).first()
        if email is None:
            return None
        if email.status == Status.SENDING:
            # Its sender's lock is gone (we hold it) and its lease ran out: it died between
            # its claim and its record, maybe after the server's 250.
            email.uncertain_attempts += 1
            email.last_error = f"Attempt {email.attempts} was lost with its worker mid-send; the server may have it (same Message-ID)."
            logger.warning("Email %s in %s: attempt %s was lost mid-send; sending again under the same Message-ID", email.id, connection.schema_name, email.attempts)
        if email.attempts >= MAX_ATTEMPTS:
            email.status = Status.GAVE_UP
            email.save(update_fields=["status", "uncertain_attempts", "last_error"])
            return None
        email.status = Status.SENDING
        email.attempts += 1
        email.claimed_at = now
        email.save(update_fields=["status", "attempts", "uncertain_attempts", "claimed_at", "last_error"])
        return email.attempts


def _smtp_send(email: OutboundEmail) -> SendOutcome:
    message = EmailMessage(
        subject=email.subject, body=email.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.to],
        headers={"Message-ID": outbox_message_id(email)},
    )
    try:
        message.send()
    except REFUSED as exc:
        return SendOutcome(sent=False, error=_error(exc))
    except Exception as exc:  # the reply never came: the server may have the email
        return SendOutcome(sent=False, uncertain=True, error=_error(exc))
    return SendOutcome(sent=True)


def _record(*, email_id: int, attempt: int, outcome: SendOutcome) -> bool:
    claim = OutboundEmail.objects.filter(id=email_id, status=Status.SENDING, attempts=attempt)
    if outcome.sent:
        recorded = claim.update(status=Status.SENT, sent_at=timezone.now())
    else:
        changes = {"status": Status.GAVE_UP if attempt >= MAX_ATTEMPTS else Status.PENDING, "last_error": outcome.error}
        if outcome.uncertain:
            changes["uncertain_attempts"] = F("uncertain_attempts") + 1
        recorded = claim.update(**changes)
    if not recorded:
        # Only when this sender lost both its lock and its lease: another took the row.
        logger.error("Email %s in %s: attempt %s was overtaken by a later claim", email_id, connection.schema_name, attempt)
    return outcome.sent


def outbox_email_send(*, email_id: int, now: datetime | None = None) -> bool:
    """Claim, send and record one email of the current brand; True when this call sent it."""
    attempt = _claim(email_id=email_id, now=now or timezone.now())
    if attempt is None:
        return False
    outcome = None
    try:
        # Atomic is required since we use FOR UPDATE: the lock is held through the SMTP
        # conversation (at most a few EMAIL_TIMEOUTs), so while this sender lives nobody
        # takes its claim, even past the lease.
        with transaction.atomic():
            email = OutboundEmail.objects.select_for_update().filter(id=email_id, status=Status.SENDING, attempts=attempt).first()
            if email is None:
                return False  # our claim lapsed before we got here and another sender took it
            outcome = _smtp_send(email)
    except DatabaseError as exc:
        # The session was cut (the lock with it); the claim still fences the row, so the
        # outcome is written on a fresh connection.
        logger.warning("Email %s in %s: database session lost during attempt %s", email_id, connection.schema_name, attempt, exc_info=True)
        outcome = outcome or SendOutcome(sent=False, error=_error(exc))
    return _record(email_id=email_id, attempt=attempt, outcome=outcome)


def outbox_deliver(*, email_ids: list[int] | None = None, limit: int = 50, now: datetime | None = None) -> int:
    """Send the current brand's unsent emails (or those of email_ids): pending ones, and
    ones whose sender was lost mid-send (a lapsed claim). Returns how many were sent."""
    queryset = OutboundEmail.objects.filter(_sendable(now or timezone.now()))
    if email_ids is not None:
        queryset = queryset.filter(id__in=email_ids)
    # Each claim takes its own time unless the caller fixed one: a batch of slow sends
    # must not date its last claims back to its start, which would shorten their lease.
    return sum(outbox_email_send(email_id=email_id, now=now) for email_id in list(queryset.values_list("id", flat=True)[:limit]))


@shared_task(name="chat.outbox.send", acks_late=True, ignore_result=True)
def outbox_send(email_ids: list[int] | None = None) -> int:
    """Runs in the sending brand's schema (tenant-schemas-celery carries it)."""
    return outbox_deliver(email_ids=email_ids)
