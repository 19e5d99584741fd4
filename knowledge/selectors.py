"""Reads on the help center. Callers are in the brand's schema."""

import logging

import markdown
import nh3
from django.db.models import Case, IntegerField, When

from .models import Article, Category
from .search import search_articles

logger = logging.getLogger(__name__)
SUGGESTION_COUNT = 3

ALLOWED_TAGS = {"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote", "a", "br", "hr", "table", "thead", "tbody", "tr", "th", "td"}


def article_html(article: Article) -> str:
    """The article's Markdown as HTML with anything but plain formatting removed."""
    html = markdown.markdown(article.body, extensions=["tables", "sane_lists"])
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer")


def articles_by_ids(ids: list[int]) -> list[Article]:
    """Articles in the order given (search relevance)."""
    if not ids:
        return []
    order = Case(*[When(pk=pk, then=position) for position, pk in enumerate(ids)], output_field=IntegerField())
    return list(Article.objects.filter(pk__in=ids, is_published=True).select_related("category").order_by(order))


def suggestions_for(*, category: Category, text: str, limit: int = SUGGESTION_COUNT) -> list[Article]:
    """The brand's most relevant articles for a problem: search within the category
    first, then the whole help center, then the category's popular articles."""
    ids: list[int] = []
    try:
        ids = search_articles(query=text, category=category.slug, limit=limit)
        if len(ids) < limit:
            ids += [pk for pk in search_articles(query=text, limit=limit) if pk not in ids]
    except Exception:  # a broken or missing index must not stop a customer reaching an agent
        logger.exception("Help-center search failed; falling back to popular articles")
    if len(ids) < limit:
        popular = Article.objects.filter(category=category, is_published=True).exclude(pk__in=ids).order_by("-is_popular", "-solved_count", "title")
        ids += list(popular.values_list("pk", flat=True)[: limit - len(ids)])
    return articles_by_ids(ids[:limit])


def help_center_search(*, query: str, limit: int = 20) -> list[Article]:
    try:
        ids = search_articles(query=query, limit=limit)
    except Exception:
        logger.exception("Help-center search failed; falling back to a title match")
        return list(Article.objects.filter(title__icontains=query, is_published=True)[:limit])
    return articles_by_ids(ids)


def popular_articles(*, limit: int = 6) -> list[Article]:
    return list(Article.objects.filter(is_published=True).select_related("category").order_by("-is_popular", "-view_count", "title")[:limit])


def article_payload(article: Article, *, with_body: bool = True) -> dict:
    data = {"id": article.id, "slug": article.slug, "title": article.title, "summary": article.summary, "category": article.category.slug, "url": f"/support/articles/{article.slug}/"}
    if with_body:
        data["body_html"] = article_html(article)
    return data
