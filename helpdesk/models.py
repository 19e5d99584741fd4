"""People of the platform (public schema): users, agent profiles, staffing on brands."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


# The permission group of the people who run brands, agents and staffing.
ACCOUNT_MANAGER_GROUP = "Account managers"


class User(AbstractUser):
    """Everyone who signs in: agents, supervisors, account managers."""

    email = models.EmailField("email address", unique=True)

    class Meta:
        ordering = ["username"]


class AgentProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="agent_profile")
    display_name = models.CharField(max_length=80, help_text="The name customers see.")
    max_concurrent_chats = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Capacity across every brand the agent serves.",
    )
    skills = ArrayField(
        models.CharField(max_length=40), default=list, blank=True, help_text="Free tags, e.g. languages: en, de, fr."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class Staffing(models.Model):
    """An agent serving a brand, with the categories they handle and their role there."""

    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        SUPERVISOR = "supervisor", "Supervisor"

    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="staffings")
    brand = models.ForeignKey("tenants.Brand", on_delete=models.CASCADE, related_name="staffings")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    categories = ArrayField(
        models.SlugField(max_length=40),
        default=list,
        blank=True,
        help_text="Slugs of the brand's problem categories this agent handles; empty means all.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "brand"], name="staffing_unique_agent_brand")]
        ordering = ["brand__name", "agent__display_name"]
        verbose_name_plural = "staffing"

    def __str__(self) -> str:
        return f"{self.agent} on {self.brand} ({self.get_role_display()})"

    @property
    def is_supervisor(self) -> bool:
        return self.role == self.Role.SUPERVISOR


class AgentToken(models.Model):
    """An API token for an agent's integrations and the widget-free clients.

    Only a hash is stored; the raw token is shown once when it is issued.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agent_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, label: str = "") -> tuple["AgentToken", str]:
        raw = secrets.token_urlsafe(32)
        return cls.objects.create(user=user, key_hash=cls.hash(raw), label=label), raw
