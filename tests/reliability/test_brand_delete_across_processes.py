"""A brand deleted in one process while a server process has its search index and ranker
open: the server must not answer a brand made anew under the same slug from the old ones
(tests/tenants/test_brand_delete.py covers a single process)."""

import json

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from knowledge.models import Article, Category
from knowledge.search import search_index_rebuild
from tenants.models import Brand
from tenants.services import brand_create
from tests.reliability.servers import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "twice.localhost"
PROBLEM = {"name": "Rita", "email": "rita@example.com", "category": "shipping", "summary": "My refund has not arrived after two weeks"}


def brand_with_one_article(name: str, title: str, summary: str, *, article_id: int | None = None) -> int:
    brand = brand_create(name=name, slug="twice", business_hours={}, offline_when_no_agent=False).brand
    with schema_context(brand.schema_name):
        category = Category.objects.create(slug="shipping", name="Shipping")
        if article_id is not None:  # the id the deleted brand's article had
            with connection.cursor() as cursor:
                cursor.execute("SELECT setval(pg_get_serial_sequence('knowledge_article', 'id'), %s, false)", [article_id])
        article = Article.objects.create(slug="the-article", title=title, category=category, summary=summary, body=summary)
        search_index_rebuild()
    return article.pk


def suggested_titles(server) -> list[str]:
    status, _, body = server.get("/api/widget/v1/conversations", host=HOST, method="POST", data=json.dumps(PROBLEM).encode(), headers={"Content-Type": "application/json"})
    assert status == 201, body[:500]
    return [s["title"] for s in json.loads(body)["suggestions"]]


def searched(server, query: str) -> bytes:
    status, _, body = server.get(f"/support/search/?q={query}", host=HOST)
    assert status == 200, body[:500]
    return body


def test_a_server_that_had_a_deleted_brand_open_answers_its_successor_afresh(alpha):
    old_id = brand_with_one_article("Twice", "Refunds", "When a refund reaches your bank account")
    with ServerProcess() as server:
        # The server opens the brand's index and builds its ranker.
        assert b"Refunds" in searched(server, "refund")
        assert suggested_titles(server) == ["Refunds"]

        Brand.objects.get(slug="twice").delete()  # here, not in the server
        new_id = brand_with_one_article("Twice again", "Shoe sizes", "Our size chart, and how boots fit", article_id=old_id)
        assert new_id == old_id  # what the old index and ranker know by that id is now shoe sizes

        assert b"Shoe sizes" not in searched(server, "refund")
        assert b"Shoe sizes" in searched(server, "boots")
        assert "Shoe sizes" not in suggested_titles(server)
