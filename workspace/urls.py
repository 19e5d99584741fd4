from django.urls import path

from . import views

app_name = "workspace"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("login/", views.AgentLoginView.as_view(), name="login"),
    path("logout/", views.AgentLogoutView.as_view(), name="logout"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("inbox/", views.inbox, name="inbox"),
]
