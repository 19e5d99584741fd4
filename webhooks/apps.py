from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed webhooks per brand (brand schema): subscriptions, the delivery outbox and
    its log. On the floor above tenants and realtime only, so every product app (chat,
    surveys, sla) can record an event in the transaction of its change."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
