"""Writes on CSAT surveys (brand schema): offered when a chat with an agent ends,
answered once, in the chat or through a single-use emailed link."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from webhooks.models import WebhookEvent
from webhooks.services import webhook_event_record

from .models import Survey

SURVEY_EMAIL_DELAY = timedelta(minutes=15)
MAX_COMMENT = 2000


class SurveyError(Exception):
    """A survey answer that cannot be taken; `code` is part of the API contract."""

    def __init__(self, detail: str, code: str, status: int = 400):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status = status


def survey_request(*, conversation_id: int, agent_id: int) -> Survey:
    """Offer the survey (once per conversation); unanswered, it is emailed later."""
    survey, _ = Survey.objects.get_or_create(
        conversation_id=conversation_id, defaults={"agent_id": agent_id, "email_due_at": timezone.now() + SURVEY_EMAIL_DELAY}
    )
    return survey


def survey_answer(*, conversation_id: int, rating, comment, via: str = "chat") -> Survey:
    if isinstance(rating, bool):
        raise SurveyError("Choose a rating from 1 to 5.", "bad_rating")
    try:
        rating = int(rating)
    except (TypeError, ValueError, OverflowError):
        raise SurveyError("Choose a rating from 1 to 5.", "bad_rating") from None
    if not 1 <= rating <= 5:
        raise SurveyError("Choose a rating from 1 to 5.", "bad_rating")
    comment = "" if comment is None else str(comment)
    if len(comment) > MAX_COMMENT:
        raise SurveyError(f"Keep the comment under {MAX_COMMENT} characters.", "comment_too_long")
    if "\x00" in comment:
        raise SurveyError("The comment contains characters we cannot store.", "bad_comment")
    with transaction.atomic():
        survey = Survey.objects.select_for_update().filter(conversation_id=conversation_id).first()
        if survey is None:
            raise SurveyError("There is no survey for this conversation.", "no_survey", 404)
        if survey.is_answered:
            raise SurveyError("Thanks, we already have your answer.", "already_answered", 409)
        survey.rating = rating
        survey.comment = comment.strip()
        survey.answered_at = timezone.now()
        survey.answered_via = via
        survey.email_token_hash = ""  # the emailed link, if any, is single-use
        survey.save()
        webhook_event_record(
            event_type=WebhookEvent.SURVEY_SUBMITTED, conversation_id=conversation_id,
            data={"survey": {"conversation_id": conversation_id, "agent_id": survey.agent_id, "rating": survey.rating, "comment": survey.comment, "answered_at": survey.answered_at, "via": survey.answered_via}},
        )
    return survey


def survey_email_link_issue(*, survey_id: int, now) -> tuple[Survey, str] | None:
    """Inside the caller's transaction: mark a due, unanswered survey as emailed and give
    it a single-use link token (returned raw, stored hashed); None if it is not due any
    more (answered, or another sweep took it)."""
    survey = (
        Survey.objects.select_for_update(skip_locked=True)
        .select_related("conversation")
        .filter(id=survey_id, emailed_at__isnull=True, answered_at__isnull=True)
        .first()
    )
    if survey is None:
        return None
    raw = secrets.token_urlsafe(32)
    survey.email_token_hash = Survey.hash_token(raw)
    survey.emailed_at = now
    survey.save(update_fields=["email_token_hash", "emailed_at"])
    return survey, raw

