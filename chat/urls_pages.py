from django.urls import path

from . import views

urlpatterns = [
    path("chat/", views.chat_page, name="chat-page"),
    path("widget.js", views.widget_script, name="widget-script"),
    path("survey/<str:token>/", views.survey_page, name="survey-page"),
]
