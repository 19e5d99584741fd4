"""Reads on conversations. The access selectors fetch *and* authorize: a missing
conversation and one the caller may not see raise the same ConversationNotFound."""

from django.db import connection
from django.db.models import Q

from helpdesk.models import Staffing
from knowledge.models import Article
from knowledge.selectors import articles_by_ids

from .models import Conversation, Message


class ConversationNotFound(Exception):
    detail = "No such conversation."


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
    conversation = queryset.filter(id=conversation_id).first()
    if conversation is None:
        raise ConversationNotFound
    return conversation


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
    queryset = Message.objects.filter(conversation=conversation, seq__gt=max(0, after_seq)).order_by("seq")
    if not include_internal:
        queryset = queryset.filter(is_internal=False)
    return list(queryset[:limit])


def customer_history(*, conversation: Conversation, limit: int = 10) -> list[Conversation]:
    """The customer's earlier conversations with this brand (same email or customer ID)."""
    match = Q(customer_email=conversation.customer_email)
    if conversation.customer_external_id:
        match |= Q(customer_external_id=conversation.customer_external_id)
    return list(Conversation.objects.filter(match).exclude(id=conversation.id).select_related("category").order_by("-created_at")[:limit])


def message_frame(message: Message) -> dict:
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
    }
