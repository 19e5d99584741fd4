"""The platform host: admin, agent workspace, agent and platform APIs."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chat.api.reports import AgentTimeReportView
from config.health import healthz

admin.site.site_header = "Helpdesk administration"
admin.site.site_title = "Helpdesk admin"
admin.site.index_title = "Brands, agents and staffing"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("agent/", include("workspace.urls")),
    path("api/agent/v1/", include("workspace.api.urls")),
    path("api/platform/v1/", include("helpdesk.api.urls_platform")),
    # Reports read every app's figures, so they sit with chat, above helpdesk's platform API.
    path("api/platform/v1/reports/agent-time", AgentTimeReportView.as_view()),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", RedirectView.as_view(url="/agent/", permanent=False)),
]

handler404 = "config.api_errors.not_found"
handler500 = "config.api_errors.server_failure"
