from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count

from tenants.admin import BrandAdmin
from tenants.models import Brand

from .models import AgentProfile, AgentToken, Staffing, User
from .services import agent_token_revoke, staffing_remove, user_deactivate

# Revocation from the admin goes through helpdesk.services (user_deactivate,
# agent_token_revoke, staffing_remove), so the user's open sockets are told on commit: a
# plain save or delete would change the row and leave the sockets working.


class StaffingRemovalMixin:
    """Staffing rows deleted from an inline are removed through staffing_remove."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Staffing:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for staffing in formset.deleted_objects:
            staffing_remove(staffing=staffing)
        for instance in instances:
            instance.save()
        formset.save_m2m()


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    actions = ["deactivate"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_deactivate(user=obj)

    @admin.action(description="Deactivate selected users (closes their sockets)")
    def deactivate(self, request, queryset):
        for user in queryset.filter(is_active=True):
            user_deactivate(user=user)


class StaffingOnAgentInline(admin.TabularInline):
    model = Staffing
    extra = 0
    fields = ["brand", "role", "categories"]


@admin.register(AgentProfile)
class AgentProfileAdmin(StaffingRemovalMixin, admin.ModelAdmin):
    list_display = ["display_name", "user", "email", "max_concurrent_chats", "skill_list", "brand_count"]
    search_fields = ["display_name", "user__username", "user__email", "staffings__brand__name"]
    list_filter = ["staffings__brand", "staffings__role", "max_concurrent_chats"]
    autocomplete_fields = ["user"]
    inlines = [StaffingOnAgentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").annotate(brands=Count("staffings", distinct=True))

    @admin.display(description="Email", ordering="user__email")
    def email(self, profile):
        return profile.user.email

    @admin.display(description="Skills")
    def skill_list(self, profile):
        return ", ".join(profile.skills) or "-"

    @admin.display(description="Brands", ordering="brands")
    def brand_count(self, profile):
        return profile.brands


@admin.register(Staffing)
class StaffingAdmin(admin.ModelAdmin):
    list_display = ["agent", "brand", "role", "category_list"]
    list_filter = ["brand", "role"]
    search_fields = ["agent__display_name", "brand__name"]
    autocomplete_fields = ["agent"]

    @admin.display(description="Categories")
    def category_list(self, staffing):
        return ", ".join(staffing.categories) or "all"

    def delete_model(self, request, obj):
        staffing_remove(staffing=obj)

    def delete_queryset(self, request, queryset):
        for staffing in queryset:
            staffing_remove(staffing=staffing)


@admin.register(AgentToken)
class AgentTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "label", "created_at", "last_used_at"]
    readonly_fields = ["key_hash", "created_at", "last_used_at"]
    search_fields = ["user__username", "label"]

    def delete_model(self, request, obj):
        agent_token_revoke(token=obj)

    def delete_queryset(self, request, queryset):
        for token in queryset:
            agent_token_revoke(token=token)


class StaffingOnBrandInline(admin.TabularInline):
    model = Staffing
    extra = 0
    fields = ["agent", "role", "categories"]
    autocomplete_fields = ["agent"]


class BrandWithStaffingAdmin(StaffingRemovalMixin, BrandAdmin):
    """The platform's brand admin with who is staffed on each brand."""

    list_display = [*BrandAdmin.list_display[:-1], "agent_count", BrandAdmin.list_display[-1]]
    inlines = [*BrandAdmin.inlines, StaffingOnBrandInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(agents=Count("staffings", distinct=True))

    @admin.display(description="Agents", ordering="agents")
    def agent_count(self, brand):
        return brand.agents


admin.site.unregister(Brand)
admin.site.register(Brand, BrandWithStaffingAdmin)
