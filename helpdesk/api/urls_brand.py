from django.urls import path

from . import brand

urlpatterns = [path("agents", brand.StaffedAgentListView.as_view())]
