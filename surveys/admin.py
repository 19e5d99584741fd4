from django.contrib import admin

from tenants.admin_site import brand_admin

from .models import Survey


@admin.register(Survey, site=brand_admin)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["conversation", "rating", "answered_via", "requested_at", "answered_at", "emailed_at"]
    list_filter = ["rating", "answered_via"]
    search_fields = ["comment", "conversation__customer_email"]
    exclude = ["email_token_hash"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "email_token_hash"]

    def has_add_permission(self, request):
        return False
