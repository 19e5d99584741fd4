from django.urls import path

from . import report_views, views

app_name = "workspace"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("login/", views.AgentLoginView.as_view(), name="login"),
    path("logout/", views.AgentLogoutView.as_view(), name="logout"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("inbox/", views.inbox, name="inbox"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/billing/", report_views.billing, name="billing"),
]
