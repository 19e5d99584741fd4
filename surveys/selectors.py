"""Reads on CSAT surveys (brand schema)."""

from .models import Survey


def surveys_due_for_email(*, now) -> list[int]:
    """Ids of offered surveys still unanswered at their email time and not yet emailed."""
    return list(Survey.objects.filter(answered_at__isnull=True, emailed_at__isnull=True, email_due_at__lte=now).values_list("id", flat=True))


def survey_for_conversation(*, conversation_id: int) -> Survey | None:
    return Survey.objects.filter(conversation_id=conversation_id).first()


def survey_get_by_email_token(*, token: str) -> Survey | None:
    """The survey an emailed single-use link points to (answered ones too, so the page
    can say the link was used)."""
    if not token or len(token) > 200:
        return None
    return Survey.objects.filter(email_token_hash=Survey.hash_token(token)).select_related("conversation").first()
