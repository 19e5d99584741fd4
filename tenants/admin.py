from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html

from .admin_site import brand_admin
from .models import Brand, BrandServiceSettings, Domain
from .services import brand_domain_ensure, brand_host, brand_schema_name, brand_set_status


SERVICE_TIME_FIELDS = ["reoffer_cooldown_seconds", "escalate_after_seconds", "inactivity_warn_minutes", "inactivity_end_minutes", "agent_reply_minutes"]


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
    actions = ["suspend", "reactivate"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "status", "plan"]}),
        ("Branding", {"fields": ["primary_color", "logo", "locale", "time_zone"]}),
        ("Chat", {"fields": ["business_hours", "routing_policy", "offer_timeout_seconds", "max_queue_length"]}),
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


@admin.register(BrandServiceSettings, site=brand_admin)
class BrandServiceSettingsAdmin(admin.ModelAdmin):
    """On the brand admin: the brand's own service times, its own row only (the brand
    host's middleware has put the brand on the request)."""

    fields = SERVICE_TIME_FIELDS
    list_display = ["name", *SERVICE_TIME_FIELDS]

    def get_queryset(self, request):
        brand = getattr(request, "brand", None)
        return super().get_queryset(request).filter(pk=brand.pk if brand is not None else None)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
