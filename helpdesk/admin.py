from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count

from tenants.admin import BrandAdmin
from tenants.models import Brand

from .models import AgentProfile, AgentToken, Staffing, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]


class StaffingOnAgentInline(admin.TabularInline):
    model = Staffing
    extra = 0
    fields = ["brand", "role", "categories"]


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
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


@admin.register(AgentToken)
class AgentTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "label", "created_at", "last_used_at"]
    readonly_fields = ["key_hash", "created_at", "last_used_at"]
    search_fields = ["user__username", "label"]


class StaffingOnBrandInline(admin.TabularInline):
    model = Staffing
    extra = 0
    fields = ["agent", "role", "categories"]
    autocomplete_fields = ["agent"]


class BrandWithStaffingAdmin(BrandAdmin):
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
