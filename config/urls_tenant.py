"""A brand host: support page, hosted chat, widget, widget and brand APIs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz
from tenants.admin_site import brand_admin

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", brand_admin.urls),
    path("api/widget/v1/", include("chat.api.urls_widget")),
    # The brand API: one prefix, each app's resources from its own api/ package.
    path("api/v1/", include("chat.api.urls_brand")),
    path("api/v1/", include("knowledge.api.urls_brand")),
    path("api/v1/", include("surveys.api.urls_brand")),
    path("api/v1/", include("helpdesk.api.urls_brand")),
    path("api/v1/", include("tenants.api.urls_brand")),
    path("api/v1/", include("sla.api.urls_brand")),
    path("api/v1/", include("webhooks.api.urls_brand")),
    path("", include("knowledge.urls")),
    path("", include("chat.urls_pages")),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

# JSON for any unknown path under /api/, the usual pages elsewhere.
handler404 = "config.api_errors.not_found"
handler500 = "config.api_errors.server_failure"
