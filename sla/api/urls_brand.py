"""The brand API's service levels, mounted at /api/v1/ by config/urls_tenant.py."""

from django.urls import path

from . import brand

urlpatterns = [
    path("sla-policies", brand.SlaPolicyListView.as_view()),
    path("sla-policies/<int:policy_id>", brand.SlaPolicyDetailView.as_view()),
    path("holidays", brand.HolidayListView.as_view()),
    path("holidays/<int:holiday_id>", brand.HolidayDetailView.as_view()),
    path("sla-events", brand.SlaEventListView.as_view()),
]
