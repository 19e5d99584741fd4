from django.urls import path

from . import brand

urlpatterns = [path("survey-responses", brand.SurveyResponseListView.as_view())]
