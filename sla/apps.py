from django.apps import AppConfig


class SlaConfig(AppConfig):
    """Service levels per brand (brand schema): targets, holidays, the clocks each
    conversation carries and the breaches recorded. A floor below chat: it reads chat's
    conversations by model name, never by import."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "sla"
    verbose_name = "Service levels"
