"""A brand host: support page, hosted chat, widget, widget and brand APIs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz
from tenants.admin_site import brand_admin

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", brand_admin.urls),
    path("api/widget/v1/", include("chat.api.urls_widget")),
    path("", include("knowledge.urls")),
    path("", include("chat.urls_pages")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
