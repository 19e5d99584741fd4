from django.urls import path
from django.views.i18n import JavaScriptCatalog

from . import views

urlpatterns = [
    path("chat/", views.chat_page, name="chat-page"),
    path("widget.js", views.widget_script, name="widget-script"),
    # The chat page's strings in the customer's language (static/chat/i18n.js reads them).
    path("chat/jsi18n/", JavaScriptCatalog.as_view(packages=["chat"]), name="chat-jsi18n"),
    path("survey/<str:token>/", views.survey_page, name="survey-page"),
]
