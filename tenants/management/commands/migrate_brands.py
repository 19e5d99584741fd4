"""Migrate the public schema, the brand template and every brand, with progress."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from tenants.models import Brand
from tenants.services import brand_template_ensure


class Command(BaseCommand):
    help = "Migrate public, the template new brands are cloned from, and every brand schema."

    def handle(self, *args, **options):
        verbosity = max(0, options["verbosity"] - 1)
        started = time.perf_counter()
        self.stdout.write("Migrating the public schema...")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        self.stdout.write("Migrating the brand template schema...")
        brand_template_ensure(verbosity=verbosity)
        schemas = list(Brand.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
        for index, schema in enumerate(schemas, start=1):
            self.stdout.write(f"[{index}/{len(schemas)}] migrating {schema}")
            call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=verbosity)
        connection.set_schema_to_public()
        self.stdout.write(self.style.SUCCESS(f"Migrated public, the template and {len(schemas)} brand(s) in {time.perf_counter() - started:.1f}s."))
