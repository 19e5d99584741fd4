import re

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from knowledge.models import Article, Category
from tenants.models import Brand, Domain
from tenants.services import BrandError, brand_create


@pytest.mark.django_db(transaction=True)
def test_brand_create_makes_schema_domain_and_migrated_tables():
    created = brand_create(name="Initech", slug="initech")
    brand = created.brand

    assert brand.schema_name == "brand_initech"
    assert schema_exists("brand_initech")
    assert Domain.objects.get(tenant=brand).domain == "initech.localhost"
    with schema_context(brand.schema_name):
        assert Article.objects.count() == 0  # the tables exist and start empty
    # Cloned from the migrated template, not migrated one by one: the same migrations applied.
    # (How long it takes is measured in bench/, not asserted here.)
    with connection.cursor() as cursor:
        applied = {}
        for schema in (settings.TENANT_BASE_SCHEMA, "brand_initech"):
            cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY app, name')
            applied[schema] = cursor.fetchall()
    assert applied["brand_initech"] == applied[settings.TENANT_BASE_SCHEMA] != []


@pytest.mark.django_db(transaction=True)
def test_brand_create_rejects_duplicate_and_invalid_slugs():
    with pytest.raises(BrandError):
        brand_create(name="Alpha again", slug="alpha")
    with pytest.raises(Exception, match="slug"):
        brand_create(name="Bad", slug="Bad Slug!")
    assert not Brand.objects.filter(name="Bad").exists()


@pytest.mark.django_db
def test_data_written_in_one_brand_is_invisible_from_another(alpha, beta):
    with schema_context(alpha.schema_name):
        category = Category.objects.get(slug="general")
        Article.objects.create(slug="track-order", title="Track your order", category=category, summary="s", body="b")
        assert Article.objects.filter(slug="track-order").exists()
    with schema_context(beta.schema_name):
        assert not Article.objects.filter(slug="track-order").exists()
        assert not Category.objects.filter(slug="general").exists()
    # ...and the public schema has no brand tables at all.
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.knowledge_article')")
        assert cursor.fetchone()[0] is None


@pytest.mark.django_db(transaction=True)
def test_create_brand_command_prints_its_url_and_time(call):
    out = call("create_brand", "umbrella", "Umbrella Corp")
    assert re.search(r"Created Umbrella Corp in \d+\.\d\ds: http://umbrella\.localhost:\d+/support/", out)
    assert Brand.objects.filter(slug="umbrella").exists()
