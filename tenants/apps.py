from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Brands"

    def ready(self):
        from tenants import receivers  # noqa: F401  (registers what goes with a deleted brand)
