"""The platform API, mounted at /api/platform/v1/ by config/urls_public.py."""

from django.urls import path

from . import platform

brand = "brands/<slug:brand>"

urlpatterns = [
    path("auth/token", platform.TokenCreateView.as_view()),
    path("brands", platform.BrandListView.as_view()),
    path(brand, platform.BrandDetailView.as_view()),
    path(f"{brand}/suspend", platform.BrandSuspendView.as_view()),
    path(f"{brand}/reactivate", platform.BrandReactivateView.as_view()),
    path(f"{brand}/domains", platform.DomainListView.as_view()),
    path(f"{brand}/domains/<int:domain_id>", platform.DomainDetailView.as_view()),
    path(f"{brand}/staffing", platform.StaffingListView.as_view()),
    path(f"{brand}/staffing/<int:agent_id>", platform.StaffingDetailView.as_view()),
    path(f"{brand}/api-keys", platform.APIKeyListView.as_view()),
    path(f"{brand}/api-keys/<int:key_id>/revoke", platform.APIKeyRevokeView.as_view()),
    path("agents", platform.AgentListView.as_view()),
]
