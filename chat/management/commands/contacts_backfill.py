"""File every brand's conversations from before contacts under their contacts (runs in each
brand's schema in turn). Safe to run again: filed conversations are skipped."""

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from chat.contacts import contacts_backfill
from tenants.models import Brand


class Command(BaseCommand):
    help = "Create contacts for conversations that have none (those from before contacts)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", help="Only this brand (slug).")

    def handle(self, *args, **options):
        brands = Brand.objects.exclude(schema_name="public").order_by("slug")
        if options.get("brand"):
            brands = brands.filter(slug=options["brand"])
        for brand in brands:
            with schema_context(brand.schema_name):
                filed = contacts_backfill()
            self.stdout.write(f"{brand.slug}: {filed} conversation(s) filed")
