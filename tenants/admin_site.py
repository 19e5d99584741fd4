"""The brand's own admin, at /admin/ on the brand host: help center, pre-chat fields,
canned replies, conversations. A separate AdminSite, so brand-schema models never show
on the platform admin (where their tables do not exist) and platform models never show
here."""

from django.contrib.admin import AdminSite


class BrandAdminSite(AdminSite):
    site_header = "Brand administration"
    index_title = "Help center, chat settings (canned replies, wrap-up tags) and conversations"

    def each_context(self, request):
        context = super().each_context(request)
        brand = getattr(request, "brand", None)
        if brand is not None:
            context["site_header"] = f"{brand.name}: administration"
            context["site_title"] = f"{brand.name} admin"
        return context


brand_admin = BrandAdminSite(name="brand_admin")
