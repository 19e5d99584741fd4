from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from tenants.admin_site import brand_admin

from .destinations import DestinationRefused, destination_resolve
from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from .services import message_cursor_now, webhook_test_send


class SubscriptionForm(admin.ModelAdmin.form):
    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            destination_resolve(url)
        except DestinationRefused as exc:
            raise ValidationError(exc.detail) from None
        return url


@admin.register(WebhookSubscription, site=brand_admin)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["url", "is_active", "failing_since", "created_at"]
    readonly_fields = ["failing_since", "created_at"]
    exclude = ["message_cursor"]
    actions = ["send_test_event"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.message_cursor = message_cursor_now()  # messages from now on, not the history
        super().save_model(request, obj, form, change)

    @admin.action(description="Send a test event")
    def send_test_event(self, request, queryset):
        for subscription in queryset:
            webhook_test_send(subscription=subscription)
        self.message_user(request, f"Test event queued for {queryset.count()} subscription(s); see the delivery log.", messages.SUCCESS)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["attempted_at", "status_code", "latency_ms", "response_head", "error"]
    readonly_fields = fields


@admin.register(WebhookDelivery, site=brand_admin)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read only."""

    list_display = ["event_type", "subscription", "conversation_id", "sequence", "state", "attempts", "uncertain_attempts", "created_at", "delivered_at"]
    list_filter = ["state", "event_type"]
    inlines = [AttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
