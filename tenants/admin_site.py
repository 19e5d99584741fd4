"""The brand's own admin, at /admin/ on the brand host: help center, pre-chat fields,
canned replies, conversations. A separate AdminSite, so brand-schema models never show
on the platform admin (where their tables do not exist) and platform models never show
here.

Who may enter (has_permission): active staff who are superusers, account managers (the
platform's brand permissions, tenants.change_brand) or staffed on this brand in any role.
A staff account staffed only on another brand gets the login page, as if it had no
rights here at all. Runs in the brand's schema; the staffing is read from public (on the
search path) through Brand's reverse relation, by name, since helpdesk sits a floor up.
"""

from django.contrib.admin import AdminSite


class BrandAdminSite(AdminSite):
    site_header = "Brand administration"
    index_title = "Help center, chat settings (canned replies, wrap-up tags) and conversations"

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        user, brand = request.user, getattr(request, "brand", None)
        if user.is_superuser or user.has_perm("tenants.change_brand"):
            return True
        return brand is not None and brand.staffings.filter(agent__user=user).exists()

    def each_context(self, request):
        context = super().each_context(request)
        brand = getattr(request, "brand", None)
        if brand is not None:
            context["site_header"] = f"{brand.name}: administration"
            context["site_title"] = f"{brand.name} admin"
        return context


brand_admin = BrandAdminSite(name="brand_admin")
