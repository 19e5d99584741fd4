"""The brand API's webhooks, mounted at /api/v1/ by config/urls_tenant.py."""

from django.urls import path

from . import brand

urlpatterns = [
    path("webhook-subscriptions", brand.WebhookSubscriptionListView.as_view()),
    path("webhook-subscriptions/<int:subscription_id>", brand.WebhookSubscriptionDetailView.as_view()),
    path("webhook-subscriptions/<int:subscription_id>/deliveries", brand.WebhookDeliveryListView.as_view()),
    path("webhook-subscriptions/<int:subscription_id>/test", brand.WebhookTestView.as_view()),
]
