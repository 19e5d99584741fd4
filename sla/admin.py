from django.contrib import admin

from tenants.admin_site import brand_admin

from .models import Holiday, SlaEvent, SlaPolicy


@admin.register(SlaPolicy, site=brand_admin)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "queue_wait_seconds", "first_reply_seconds", "next_reply_seconds", "warn_at_percent", "business_hours_only"]


@admin.register(Holiday, site=brand_admin)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]


@admin.register(SlaEvent, site=brand_admin)
class SlaEventAdmin(admin.ModelAdmin):
    """Breaches are records: read only."""

    list_display = ["conversation_id", "kind", "started_at", "due_at", "breached_at", "agent_id"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
