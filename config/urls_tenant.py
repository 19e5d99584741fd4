"""A brand host: support page, hosted chat, widget, widget and brand APIs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/widget/v1/", include("chat.api.urls_widget")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
