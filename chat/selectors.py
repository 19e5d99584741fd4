"""Reads on conversations. The access selectors fetch *and* authorize: a missing
conversation and one the caller may not see raise the same ConversationNotFound."""

from django.db import connection
from django.db.models import Q

from helpdesk.models import Staffing
from knowledge.models import Article
from knowledge.selectors import articles_by_ids

from .attachments import AttachmentLinkInvalid, attachment_link_check, attachment_meta
from .models import Attachment, Conversation, Message


class ConversationNotFound(Exception):
    detail = "No such conversation."


class AttachmentNotFound(Exception):
    detail = "No such attachment."


def conversation_get_for_customer(*, conversation_id, token: str) -> Conversation:
    """In the current brand's schema: the conversation whose widget token this is."""
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError, OverflowError):
        raise ConversationNotFound from None
    if not token or not isinstance(token, str) or len(token) > 200:
        raise ConversationNotFound
    conversation = Conversation.objects.filter(id=conversation_id, token_hash=Conversation.hash_token(token)).first()
    if conversation is None:
        raise ConversationNotFound
    return conversation


def conversation_get_for_agent(*, staffing: Staffing, conversation_id, for_update: bool = False) -> Conversation:
    """The brand's conversation, for an agent authorized on the brand by their staffing
    (helpdesk.selectors.staffing_get_for_agent). Caller is in the brand's schema."""
    assert connection.schema_name == staffing.brand.schema_name, "enter the brand's schema first"
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError, OverflowError):
        raise ConversationNotFound from None
    queryset = Conversation.objects.select_related("category")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    found = list(queryset.filter(id=conversation_id)[:1])  # by primary key: no ORDER BY to compile
    if not found:
        raise ConversationNotFound
    return found[0]


def conversation_suggestions(*, conversation: Conversation) -> list[Article]:
    """The articles suggested when the conversation started, still published, each with
    the score and why it was shown with (`knowledge.selectors.article_payload` prints them)."""
    articles = articles_by_ids(conversation.suggested_article_ids)
    for article in articles:
        shown = (conversation.suggestion_scores or {}).get(str(article.id))
        if shown:
            article.suggestion_score, article.suggestion_why = shown["score"], shown["why"]
    return articles


def messages_after(*, conversation: Conversation, after_seq: int, include_internal: bool, limit: int = 500) -> list[Message]:
    queryset = Message.objects.filter(conversation=conversation, seq__gt=max(0, after_seq)).order_by("seq").prefetch_related("attachments")
    if not include_internal:
        queryset = queryset.filter(is_internal=False)
    return list(queryset[:limit])


def customer_history(*, conversation: Conversation, limit: int = 10) -> list[Conversation]:
    """The customer's earlier conversations with this brand (same email or customer ID)."""
    match = Q(customer_email=conversation.customer_email)
    if conversation.customer_external_id:
        match |= Q(customer_external_id=conversation.customer_external_id)
    return list(Conversation.objects.filter(match).exclude(id=conversation.id).select_related("category").order_by("-created_at")[:limit])


def message_attachments(message: Message) -> list[Attachment]:
    """The message's files without a query where they are known: linked as it was stored
    (`attachment_list`) or prefetched. Frames are built on the event loop too, where a
    query may not run."""
    known = getattr(message, "attachment_list", None)
    if known is not None:
        return known
    prefetched = getattr(message, "_prefetched_objects_cache", {}).get("attachments")
    if prefetched is not None:
        return list(prefetched)
    return list(message.attachments.all())


def message_frame(message: Message) -> dict:
    """A message as both sides get it. `attachments` carry no links: each side adds its
    own (chat.attachments.customer_frame, workspace.selectors.agent_frame)."""
    return {
        "type": "message",
        "seq": message.seq,
        "id": message.id,
        "client_msg_id": message.client_msg_id,
        "sender": message.sender,
        "author": message.author_name,
        "body": message.body,
        "internal": message.is_internal,
        "sent_at": message.sent_at.isoformat(),
        "attachments": [attachment_meta(a) for a in message_attachments(message)],
    }


def _visible_attachments(conversation_id: int, own_side: str):
    # Each side sees what was sent in the chat and what it uploaded itself; never the other
    # side's files before they are sent, and a customer never a private note's.
    queryset = Attachment.objects.filter(conversation_id=conversation_id)
    sent = Q(message__isnull=False) if own_side == Attachment.Side.AGENT else Q(message__isnull=False, message__is_internal=False)
    return queryset.filter(sent | Q(uploaded_by=own_side))


def attachment_get_for_brand(*, conversation: Conversation, attachment_id) -> Attachment:
    """For the brand's own integrations (the brand API): any file sent in the chat, private
    notes' included; never one still waiting in someone's tray."""
    try:
        attachment_id = int(attachment_id)
    except (TypeError, ValueError, OverflowError):
        raise AttachmentNotFound from None
    attachment = Attachment.objects.filter(conversation_id=conversation.id, id=attachment_id, message__isnull=False).first()
    if attachment is None:
        raise AttachmentNotFound
    return attachment


def attachment_get_for_customer(*, conversation_id, attachment_id, token: str = "", link: str = "") -> Attachment:
    """In the current brand's schema: the attachment, for the holder of the conversation's
    token or of a signed link to this very attachment (chat.attachments). A missing, an
    unseen or another conversation's attachment is the same AttachmentNotFound; an
    expired link raises AttachmentLinkExpired."""
    try:
        conversation_id, attachment_id = int(conversation_id), int(attachment_id)
    except (TypeError, ValueError, OverflowError):
        raise AttachmentNotFound from None
    if link:
        try:
            attachment_link_check(token=link, schema=connection.schema_name, conversation_id=conversation_id, attachment_id=attachment_id)
        except AttachmentLinkInvalid:
            raise AttachmentNotFound from None
    else:
        try:
            conversation_get_for_customer(conversation_id=conversation_id, token=token)
        except ConversationNotFound:
            raise AttachmentNotFound from None
    attachment = _visible_attachments(conversation_id, Attachment.Side.CUSTOMER).filter(id=attachment_id).first()
    if attachment is None:
        raise AttachmentNotFound
    return attachment


def attachment_get_for_agent(*, conversation: Conversation, attachment_id) -> Attachment:
    """The attachment of a conversation the agent was authorized on (conversation_get_for_agent)."""
    try:
        attachment_id = int(attachment_id)
    except (TypeError, ValueError, OverflowError):
        raise AttachmentNotFound from None
    attachment = _visible_attachments(conversation.id, Attachment.Side.AGENT).filter(id=attachment_id).first()
    if attachment is None:
        raise AttachmentNotFound
    return attachment
