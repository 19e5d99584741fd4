from django.core.management.base import BaseCommand, CommandError

from tenants.models import Brand
from tenants.services import BrandError, brand_create, brand_host


class Command(BaseCommand):
    help = "Create a brand: its schema (cloned from the migrated template) and its domain <slug>.<ROOT_DOMAIN>."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("--plan", choices=Brand.Plan.values, default=Brand.Plan.STARTER)
        parser.add_argument("--color", default="#2563eb")
        parser.add_argument("--time-zone", default="UTC")

    def handle(self, *args, slug, name, plan, color, time_zone, **options):
        try:
            created = brand_create(name=name, slug=slug, plan=plan, primary_color=color, time_zone=time_zone)
        except BrandError as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # validation errors name the field; show them plainly
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Created {created.brand.name} in {created.seconds:.2f}s: http://{brand_host(slug=slug)}:8000/support/")
        )
