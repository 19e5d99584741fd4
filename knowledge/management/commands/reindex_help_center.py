"""Rebuild every brand's help-center index (each brand has its own), with progress."""

import time

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from knowledge.search import search_index_rebuild
from tenants.models import Brand


class Command(BaseCommand):
    help = "Rebuild the search index of every brand, or of the brands given by slug."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Brand slugs; all brands when omitted.")

    def handle(self, *args, slugs, **options):
        brands = Brand.objects.exclude(schema_name="public").order_by("slug")
        if slugs:
            brands = brands.filter(slug__in=slugs)
        brands = list(brands)
        started = time.perf_counter()
        total = 0
        for index, brand in enumerate(brands, start=1):
            with schema_context(brand.schema_name):
                count = search_index_rebuild()
            total += count
            self.stdout.write(f"[{index}/{len(brands)}] {brand.slug}: {count} articles indexed")
        self.stdout.write(self.style.SUCCESS(f"Indexed {total} articles across {len(brands)} brand(s) in {time.perf_counter() - started:.1f}s."))
