"""One Whoosh index per brand: the same article id in two brands never collides, and
rebuilding or clearing one brand's index leaves the other's alone."""

import pytest
from django_tenants.utils import schema_context

from knowledge.models import Article, Category
from knowledge.search import search_articles, search_index_rebuild
from knowledge.search_backend import NoBrandSearchError
from tests.factories import next_ids_aligned


def article(slug: str, title: str, category: str) -> Article:
    return Article.objects.create(slug=slug, title=title, category=Category.objects.get(slug=category), summary=title, body=title)


@pytest.mark.django_db(transaction=True)
def test_indexes_are_per_brand(call):
    next_ids_aligned(Article, "brand_alpha", "brand_beta")
    with schema_context("brand_alpha"):
        alpha_article = article("returns-window", "Returns window for hiking boots", "returns")
        search_index_rebuild()
    with schema_context("brand_beta"):
        beta_article = article("firmware", "Firmware update for the soundbar", "setup")
        search_index_rebuild()
    assert alpha_article.id == beta_article.id  # the case a shared index gets wrong

    with schema_context("brand_alpha"):
        assert search_articles(query="boots") == [alpha_article.id]
        assert search_articles(query="soundbar") == []
    with schema_context("brand_beta"):
        assert search_articles(query="soundbar") == [beta_article.id]
        assert search_articles(query="boots") == []
        Article.objects.all().delete()
        search_index_rebuild()  # clears beta's index
    with schema_context("brand_alpha"):
        assert search_articles(query="boots") == [alpha_article.id]

    out = call("reindex_help_center")
    assert "[1/2] alpha: 1 articles indexed" in out and "[2/2] beta: 0 articles indexed" in out


def test_search_outside_a_brand_is_refused(db):
    with pytest.raises(NoBrandSearchError):
        search_articles(query="anything")
