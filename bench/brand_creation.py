"""Brand creation time: cloning the migrated template schema versus running every
tenant migration, and `migrate_schemas` across many brands.

Baseline: creating a brand by running all tenant migrations (django-tenants' default).
"""

import statistics
import sys
import time


def main(argv: list[str]) -> None:
    from bench.django_setup import setup

    setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    from tenants.services import brand_create

    runs = 5
    migrated, cloned = [], []
    for index in range(runs):
        with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
            migrated.append(brand_create(name=f"Migrated {index}", slug=f"migrated-{index}").seconds)
        cloned.append(brand_create(name=f"Cloned {index}", slug=f"cloned-{index}").seconds)
    base, clone = statistics.median(migrated), statistics.median(cloned)
    print(f"brand creation, all migrations run (baseline): median {base:.3f}s over {runs}")
    print(f"brand creation, cloned from template:          median {clone:.3f}s  ratio {clone / base:.2f}x")

    started = time.perf_counter()
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    elapsed = time.perf_counter() - started
    print(f"migrate_schemas with nothing to apply over {2 * runs} brands: {elapsed:.2f}s ({elapsed / (2 * runs):.3f}s per brand)")


if __name__ == "__main__":
    main(sys.argv[1:])
