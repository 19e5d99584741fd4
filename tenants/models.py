"""Brands (the tenants), their domains and their API keys. Lives in the public schema."""

import hashlib
import secrets

from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from tenants.storage import brand_branding_folder

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_business_hours() -> dict:
    """Monday to Friday, 09:00-17:00 in the brand's time zone."""
    return {day: [["09:00", "17:00"]] if day not in ("sat", "sun") else [] for day in WEEKDAYS}


def validate_business_hours(value) -> None:
    """{"mon": [["09:00", "17:00"], ...], ...}: known weekdays, HH:MM pairs, start before end."""
    from django.core.exceptions import ValidationError

    if not isinstance(value, dict):
        raise ValidationError('Business hours are an object such as {"mon": [["09:00", "17:00"]]}.')
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(f"Unknown weekday {day!r}; use {', '.join(WEEKDAYS)}.")
        if not isinstance(intervals, list):
            raise ValidationError(f"{day}: a list of [start, end] pairs.")
        for interval in intervals:
            if not (isinstance(interval, list) and len(interval) == 2 and all(isinstance(t, str) for t in interval)):
                raise ValidationError(f"{day}: each interval is [\"HH:MM\", \"HH:MM\"].")
            try:
                start, end = (int(t.split(":")[0]) * 60 + int(t.split(":")[1]) for t in interval)
            except (ValueError, IndexError):
                raise ValidationError(f"{day}: times are HH:MM, e.g. 09:00.") from None
            if not 0 <= start < end <= 24 * 60:
                raise ValidationError(f"{day}: {interval[0]}-{interval[1]} must start before it ends, within 00:00-24:00.")


PRECHAT_FIELDS = ("name", "email", "customer_id", "product_id", "category")


class PrechatAsk(models.TextChoices):
    """How the pre-chat form asks for one of its fixed fields."""

    REQUIRED = "required", "Required"
    OPTIONAL = "optional", "Optional"
    HIDDEN = "hidden", "Not asked"


def default_prechat_fields() -> dict:
    """The form as it always was; a brand lightens it by making fields optional or hidden."""
    return {"name": "required", "email": "required", "customer_id": "optional", "product_id": "optional", "category": "required"}


def validate_prechat_fields(value) -> None:
    """{"name": "required" | "optional" | "hidden", ...} for the fixed pre-chat fields."""
    from django.core.exceptions import ValidationError

    if not isinstance(value, dict):
        raise ValidationError('Pre-chat fields are an object such as {"email": "optional"}.')
    for key, ask in value.items():
        if key not in PRECHAT_FIELDS:
            raise ValidationError(f"Unknown pre-chat field {key!r}; use {', '.join(PRECHAT_FIELDS)}.")
        if ask not in PrechatAsk.values:
            raise ValidationError(f"{key}: one of {', '.join(PrechatAsk.values)}.")


# What an attachment may be: only types whose content we can recognise (chat.attachments
# sniffs them) and that cannot run script when opened. SVG and HTML are never among them.
class AttachmentType(models.TextChoices):
    PNG = "image/png", "PNG image"
    JPEG = "image/jpeg", "JPEG image"
    GIF = "image/gif", "GIF image"
    WEBP = "image/webp", "WebP image"
    PDF = "application/pdf", "PDF document"
    TEXT = "text/plain", "Plain text"


def default_attachment_types() -> list:
    return list(AttachmentType.values)


ATTACHMENT_MAX_BYTES_DEFAULT = 10 * 1024 * 1024


def brand_logo_path(brand: "Brand", filename: str) -> str:
    # Files are kept under the brand's own folder so brands never share a path
    # (tenants.storage deletes it with the brand).
    return f"{brand_branding_folder(brand.schema_name)}/logo/{filename}"


def new_identity_secret() -> str:
    return secrets.token_urlsafe(32)


class Brand(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    class Plan(models.TextChoices):
        STARTER = "starter", "Starter"
        GROWTH = "growth", "Growth"
        ENTERPRISE = "enterprise", "Enterprise"

    class RoutingPolicy(models.TextChoices):
        LEAST_BUSY = "least_busy", "Least busy (ties to the longest idle)"
        ROUND_ROBIN = "round_robin", "Round robin"
        MANUAL = "manual", "Manual pick only"

    name = models.CharField(max_length=120)
    slug = models.SlugField(
        max_length=40,
        unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9-]*$", "Lowercase letters, digits and hyphens, starting with a letter.")],
        help_text="Used in the brand's host name: <slug>.<root domain>.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.STARTER)
    primary_color = models.CharField(
        max_length=7,
        default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A hex colour such as #2563eb.")],
    )
    logo = models.FileField(upload_to=brand_logo_path, blank=True)
    locale = models.CharField(max_length=10, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    business_hours = models.JSONField(
        default=default_business_hours,
        blank=True,
        validators=[validate_business_hours],
        help_text='Per weekday, a list of ["HH:MM", "HH:MM"] intervals in the brand\'s time zone.',
    )
    routing_policy = models.CharField(max_length=16, choices=RoutingPolicy.choices, default=RoutingPolicy.LEAST_BUSY)
    offer_timeout_seconds = models.PositiveIntegerField(default=30, help_text="How long an agent has to accept an offered chat.")
    max_queue_length = models.PositiveIntegerField(default=50, help_text="Beyond this many waiting chats the page takes offline messages.")
    prechat_fields = models.JSONField(
        default=default_prechat_fields,
        blank=True,
        validators=[validate_prechat_fields],
        help_text='Which fixed pre-chat fields are asked: {"email": "required" | "optional" | "hidden", ...}; '
        "the question (summary) is always asked. A field left out is optional.",
    )
    offline_form_enabled = models.BooleanField(
        default=True, help_text="Take messages by email when no chat is possible; without it the widget's launcher hides while the brand is closed."
    )
    offline_when_no_agent = models.BooleanField(
        default=True, help_text="Offer the offline form instead of the queue when no agent for the topic has the workspace open."
    )
    max_wait_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Offer the offline form instead of the queue when the estimated wait is longer than this."
    )
    customer_locale_allowed = models.BooleanField(
        default=True, help_text="Speak the customer's language (their browser's Accept-Language) when it is one we have; otherwise the brand's locale."
    )
    # Promises kept in the background (routing.services, chat.escalations, chat.inactivity).
    reoffer_cooldown_seconds = models.PositiveIntegerField(
        default=30,
        help_text="An agent who declined or missed a chat may be offered it again after this long, when nobody else can take it. "
        "At most the offer timeout keeps the promise that no chat waits longer than one offer timeout plus one sweep.",
    )
    escalate_after_seconds = models.PositiveIntegerField(
        default=300, help_text="A chat nobody has accepted after this long in the queue is escalated to the brand's supervisors (live and by email)."
    )
    inactivity_warn_minutes = models.PositiveIntegerField(default=10, help_text="Warn the customer after this many minutes of silence in a chat in progress.")
    inactivity_end_minutes = models.PositiveIntegerField(default=5, help_text="End the chat this many minutes after the warning, if it stays silent.")
    agent_reply_minutes = models.PositiveIntegerField(
        default=5, help_text="An agent who has not answered a customer's message within this many minutes is asked; as long again and the chat moves to a colleague."
    )
    attachment_max_bytes = models.PositiveIntegerField(
        default=ATTACHMENT_MAX_BYTES_DEFAULT,
        help_text="The largest file a customer or an agent may attach, in bytes (at most the server's ATTACHMENT_UPLOAD_MAX_BYTES). 0 turns attachments off.",
    )
    attachment_types = ArrayField(
        models.CharField(max_length=40, choices=AttachmentType.choices),
        default=default_attachment_types,
        blank=True,
        help_text="The file types that may be attached, recognised from the content, not the name.",
    )
    identity_secret = models.CharField(
        max_length=64,
        default=new_identity_secret,
        help_text="HMAC secret the brand's server signs customer identity tokens with.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Schemas are created by brand_create(), which clones the template schema.
    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class BrandAPIKey(models.Model):
    """A brand's key for the brand API (/api/v1/ on the brand's own host). Public schema:
    keys are looked up before any brand schema is entered.

    Only the sha256 of the key is stored (as for helpdesk.AgentToken); the raw key is
    shown once, when it is issued. `prefix` is the key's first characters, kept so people
    can tell keys apart in lists without the key itself.
    """

    class Access(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    class Resource(models.TextChoices):
        CONVERSATIONS = "conversations", "Conversations"
        MESSAGES = "messages", "Messages"
        ARTICLES = "articles", "Help-center articles and categories"
        SURVEYS = "surveys", "Survey responses"
        SETTINGS = "settings", "Chat settings: custom fields, canned replies, business hours, agents"

    PREFIX = "hk_"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, help_text="Who uses it, e.g. 'CRM sync'.")
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    access = models.CharField(max_length=8, choices=Access.choices, default=Access.READ)
    resources = ArrayField(
        models.CharField(max_length=16, choices=Resource.choices),
        default=list,
        blank=True,
        help_text="Resources the key reaches; empty means all of them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brand", "-created_at"]
        verbose_name = "brand API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def new_raw(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    def allows(self, *, resource: str, write: bool) -> bool:
        if write and self.access != self.Access.WRITE:
            return False
        return not self.resources or resource in self.resources

    def is_usable(self, *, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyRecord(models.Model):
    """The first answer to a creating POST sent with an `Idempotency-Key` header, replayed
    for every retry with the same key by the same caller. Public schema, so one table
    serves the brand API (caller = a brand key) and the platform API (caller = a staff
    token); `brand` is kept for the brand API so records never cross brands."""

    caller = models.CharField(max_length=40, help_text="'brandkey:<id>' or 'staff:<user id>'.")
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="idempotency_unique_caller_key")]
class BrandServiceSettings(Brand):
    """The brand's own view of its service times, for the brand admin (tenants.admin_site):
    a proxy, so the brand edits these fields of its own row and nothing else."""

    class Meta:
        proxy = True
        verbose_name = "service times"
        verbose_name_plural = "service times"
