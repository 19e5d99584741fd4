"""CSAT surveys (brand schema): one per ended conversation that had an agent."""

import hashlib

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Survey(models.Model):
    conversation = models.OneToOneField("chat.Conversation", on_delete=models.CASCADE, related_name="survey")
    agent_id = models.IntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    email_due_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="When to email it if still unanswered.")
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(max_length=2000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_via = models.CharField(max_length=8, blank=True, choices=[("chat", "Chat"), ("email", "Email")])

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["requested_at"], name="survey_requested")]  # CSAT by agent for a period

    @staticmethod
    def hash_token(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None
