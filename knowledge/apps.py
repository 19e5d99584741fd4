from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Help center"

    def ready(self):
        from knowledge import receivers  # noqa: F401  (registers what goes with a deleted brand)
