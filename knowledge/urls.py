from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(url="/support/", permanent=False)),
    path("support/", views.support_home, name="support-home"),
    path("support/search/", views.support_search, name="support-search"),
    path("support/categories/<slug:slug>/", views.support_category, name="support-category"),
    path("support/articles/<slug:slug>/", views.support_article, name="support-article"),
    path("support/articles/<slug:slug>/vote/", views.support_article_vote, name="support-article-vote"),
]
