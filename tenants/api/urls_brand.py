from django.urls import path

from . import brand_settings

urlpatterns = [path("business-hours", brand_settings.BusinessHoursView.as_view())]
