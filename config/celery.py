"""The Celery app. Tasks run in the schema of the brand that sent them.

tenant-schemas-celery records the sending connection's schema in the task headers and
enters it in the worker; beat schedules carry no schema, so periodic tasks run in public
and fan out per brand themselves.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from tenant_schemas_celery.app import CeleryApp  # noqa: E402

app = CeleryApp("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
