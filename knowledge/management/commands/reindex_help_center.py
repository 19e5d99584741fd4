"""Rebuild the help-center search index of every brand or of some (each brand has its
own), with a progress bar, and make every process rebuild its suggestion ranker. Runs in
public and enters each brand's schema in turn. Searches keep answering meanwhile."""

import sys
import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import schema_context

from knowledge.search import search_index_rebuild
from knowledge.suggest import ranker_articles_changed, ranker_outcomes_changed
from tenants.models import Brand

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Rebuild the search index of every brand, or of the brands given by slug."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Brand slugs; all brands when omitted.")

    def handle(self, *args, slugs, **options):
        brands = Brand.objects.exclude(schema_name="public").order_by("slug")
        if slugs:
            brands = brands.filter(slug__in=slugs)
        brands = list(brands)
        missing = sorted(set(slugs) - {b.slug for b in brands})
        if missing:
            self.stderr.write(f"No brand with slug {', '.join(missing)}")
        started = time.perf_counter()
        total = 0
        tty = hasattr(self.stdout, "isatty") and self.stdout.isatty() or sys.stdout.isatty()
        for index, brand in enumerate(brands, start=1):
            prefix = f"[{index}/{len(brands)}] {brand.slug}"

            def progress(done, count, prefix=prefix):
                filled = BAR_WIDTH if not count else int(BAR_WIDTH * done / count)
                line = f"{prefix} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{count}"
                # Redraw in place on a terminal; one line per step in logs and tests.
                self.stdout.write(line, ending="\r" if tty and done < count else "\n")

            with schema_context(brand.schema_name):
                count = search_index_rebuild(progress=progress)
                with transaction.atomic():
                    ranker_articles_changed()
                    ranker_outcomes_changed()
            total += count
            self.stdout.write(f"{prefix}: {count} articles indexed")
        self.stdout.write(self.style.SUCCESS(f"Indexed {total} articles across {len(brands)} brand(s) in {time.perf_counter() - started:.1f}s."))
