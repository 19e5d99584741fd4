"""Contacts (brand schema): one record per customer of the brand, found by customer ID or
email, so the agent sees one customer across their conversations.

Matching, in order: the customer ID (the brand's own key for the customer); then the email,
among contacts without a customer ID or with the same one. When a customer first came by
email only and later with their customer ID, the two records merge into the one with the ID.
An unverified customer ID never joins a record whose ID was verified (a signed identity
token): anyone can type an ID into the form, so that claim starts a record of its own, not
a look at someone else's history.
"""

from django.db import connection, transaction
from django.utils import timezone

from .models import Contact, ContactConversation, Conversation


def _lock(key: str) -> None:
    # Two first visits of one customer at once must not make two contacts; a transaction-
    # scoped advisory lock per email / customer ID (keys carry the schema: one per brand).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:contact:{key}"])


def contact_record(*, conversation: Conversation, at=None) -> Contact:
    """File the conversation under its customer's contact, creating or merging contacts.
    `at` is when the customer was seen (now, or the conversation's start for a backfill)."""
    email = conversation.customer_email.strip().lower()
    external_id = conversation.customer_external_id.strip()
    verified = conversation.identity_verified and bool(external_id)
    now = at or timezone.now()
    with transaction.atomic():
        _lock(f"email:{email}")
        if external_id:
            _lock(f"id:{external_id}")
        by_id = Contact.objects.select_for_update().filter(external_id=external_id).first() if external_id else None
        id_taken = by_id is not None
        if by_id is not None and by_id.identity_verified and not verified:
            by_id = None
        by_email = (
            Contact.objects.select_for_update().filter(email__iexact=email, external_id__in=["", external_id]).exclude(pk=getattr(by_id, "pk", None))
            .order_by("-last_seen_at").first()
        )
        if by_id is not None and by_email is not None and not by_email.external_id:
            # The same customer, first known by email only: one record from now on.
            ContactConversation.objects.filter(contact=by_email).update(contact=by_id)
            by_id.first_seen_at = min(by_id.first_seen_at, by_email.first_seen_at)
            by_email.delete()
        contact = by_id or by_email
        if contact is None:
            contact = Contact(
                external_id="" if id_taken else external_id, email=email, name=conversation.customer_name, first_seen_at=now, last_seen_at=now,
            )
        if external_id and not contact.external_id and not id_taken:
            contact.external_id = external_id
        contact.name = conversation.customer_name or contact.name
        contact.email = email
        contact.last_seen_at = max(contact.last_seen_at, now) if contact.pk else now
        contact.identity_verified = contact.identity_verified or (verified and contact.external_id == external_id)
        contact.save()
        ContactConversation.objects.update_or_create(conversation=conversation, defaults={"contact": contact})
    return contact


BACKFILL_BATCH = 500  # conversations per query; each is filed in its own short transaction


def contacts_backfill() -> int:
    """File the brand's conversations that have no contact yet (those from before
    contacts), oldest first so the merge rules see them in the order customers came."""
    filed = 0
    while True:
        batch = list(Conversation.objects.filter(contact_link__isnull=True).order_by("created_at", "id")[:BACKFILL_BATCH])
        if not batch:
            return filed
        for conversation in batch:
            contact_record(conversation=conversation, at=conversation.created_at)
        filed += len(batch)
