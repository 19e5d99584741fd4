from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html

from .admin_site import brand_admin
from .models import AttachmentType, Brand, BrandAPIKey, BrandServiceSettings, Domain
from .services import api_key_issue, api_key_revoke, brand_domain_ensure, brand_host, brand_schema_name, brand_set_status


SERVICE_TIME_FIELDS = ["reoffer_cooldown_seconds", "escalate_after_seconds", "inactivity_warn_minutes", "inactivity_end_minutes", "agent_reply_minutes"]
ATTACHMENT_FIELDS = ["attachment_max_bytes", "attachment_types"]


class AttachmentSettingsForm(forms.ModelForm):
    """The attachment types as tick boxes: only the types chat.attachments can recognise."""

    attachment_types = forms.MultipleChoiceField(choices=AttachmentType.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: no attachments.")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    """Brands on the platform admin. helpdesk.admin extends it with the brand's staffing
    (people sit a floor above brands)."""

    list_display = ["name", "slug", "host_link", "content_link", "plan", "status", "routing_policy", "created_at"]
    list_filter = ["status", "plan", "routing_policy"]
    search_fields = ["name", "slug", "domains__domain"]
    readonly_fields = ["schema_name", "created_at"]
    inlines = [DomainInline]
    form = AttachmentSettingsForm
    actions = ["suspend", "reactivate"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "status", "plan"]}),
        ("Branding", {"fields": ["primary_color", "logo", "locale", "time_zone"]}),
        ("Chat", {"fields": ["business_hours", "routing_policy", "offer_timeout_seconds", "max_queue_length"]}),
        ("Customer side", {"fields": ["prechat_fields", "offline_form_enabled", "offline_when_no_agent", "max_wait_seconds", "customer_locale_allowed"]}),
        ("Attachments", {"fields": ATTACHMENT_FIELDS}),
        ("Integration", {"fields": ["identity_secret"], "description": "Give this secret to the brand's developers to sign customer identity tokens (see docs/api.md)."}),
        ("System", {"fields": ["schema_name", "created_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public").prefetch_related("domains")

    def get_readonly_fields(self, request, obj=None):
        # The slug is in the schema name and the host; changing it would orphan both.
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields

    @admin.display(description="Host")
    def host_link(self, brand):
        domain = next((d for d in brand.domains.all() if d.is_primary), None)
        if domain is None:
            return "-"
        return format_html('<a href="//{}{}/support/" target="_blank" rel="noopener">{}</a>', domain.domain, settings.SITE_PORT_SUFFIX, domain.domain)

    @admin.display(description="Help center and chat settings")
    def content_link(self, brand):
        return format_html('<a href="//{}{}/admin/" target="_blank" rel="noopener">Brand admin</a>', brand_host(slug=brand.slug), settings.SITE_PORT_SUFFIX)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.schema_name = brand_schema_name(slug=obj.slug)
        super().save_model(request, obj, form, change)
        if not change:
            brand_domain_ensure(brand=obj)

    @admin.action(description="Suspend selected brands")
    def suspend(self, request, queryset):
        count = brand_set_status(brand_ids=list(queryset.values_list("id", flat=True)), status=Brand.Status.SUSPENDED)
        self.message_user(request, f"Suspended {count} brand(s).", messages.SUCCESS)

    @admin.action(description="Reactivate selected brands")
    def reactivate(self, request, queryset):
        count = brand_set_status(brand_ids=list(queryset.values_list("id", flat=True)), status=Brand.Status.ACTIVE)
        self.message_user(request, f"Reactivated {count} brand(s).", messages.SUCCESS)


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__name"]
    list_filter = ["is_primary"]


class APIKeyForm(forms.ModelForm):
    resources = forms.MultipleChoiceField(
        choices=BrandAPIKey.Resource.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every resource.",
    )

    class Meta:
        model = BrandAPIKey
        fields = ["brand", "name", "access", "resources", "expires_at"]


class APIKeyAdminBase(admin.ModelAdmin):
    """Keys are issued by api_key_issue, which shows the raw key once (in the message
    after saving); afterwards only the prefix is known. A key is revoked, never edited
    into a different key."""

    form = APIKeyForm
    list_display = ["name", "prefix", "access", "resources", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["access"]
    readonly_fields = ["prefix", "created_at", "revoked_at", "last_used_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # A saved key keeps its scopes: give the integration a new key instead.
        return [*self.readonly_fields, "brand", "access", "resources"] if obj else self.readonly_fields

    def key_brand(self, request, form):
        return form.cleaned_data["brand"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = api_key_issue(
            brand=self.key_brand(request, form), name=form.cleaned_data["name"], access=form.cleaned_data["access"],
            resources=form.cleaned_data["resources"], expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk = issued.key.pk
        self.message_user(request, format_html("The new key, shown this once (copy it now): <code>{}</code>", issued.raw), messages.WARNING)

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(BrandAPIKey)
class BrandAPIKeyAdmin(APIKeyAdminBase):
    list_display = ["brand", *APIKeyAdminBase.list_display]
    list_filter = ["brand", "access"]
    search_fields = ["name", "prefix", "brand__name"]


class BrandOwnAPIKeyAdmin(APIKeyAdminBase):
    """On the brand admin: only this brand's keys, and new keys are this brand's."""

    def get_fields(self, request, obj=None):
        return ["name", "access", "resources", "expires_at", *(["prefix", "created_at", "revoked_at", "last_used_at"] if obj else [])]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "access", "resources"] if obj else []

    def get_queryset(self, request):
        return super().get_queryset(request).filter(brand=request.brand)

    def key_brand(self, request, form):
        return request.brand


brand_admin.register(BrandAPIKey, BrandOwnAPIKeyAdmin)


@admin.register(BrandServiceSettings, site=brand_admin)
class BrandServiceSettingsAdmin(admin.ModelAdmin):
    """On the brand admin: the brand's own service times, its own row only (the brand
    host's middleware has put the brand on the request)."""

    form = AttachmentSettingsForm
    fields = [*SERVICE_TIME_FIELDS, *ATTACHMENT_FIELDS]
    list_display = ["name", *SERVICE_TIME_FIELDS]

    def get_queryset(self, request):
        brand = getattr(request, "brand", None)
        return super().get_queryset(request).filter(pk=brand.pk if brand is not None else None)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
