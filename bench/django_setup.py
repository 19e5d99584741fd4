"""Django for benchmarks: a database of its own (helpdesk_bench), created fresh."""

import os
import subprocess

import django


def setup(database: str = "helpdesk_bench") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    url = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}")
    os.environ["DATABASE_URL"] = url
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", database], check=False, capture_output=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    django.setup()
    from django.core.management import call_command

    call_command("migrate_brands", verbosity=0)
