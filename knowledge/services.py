"""Writes on the help center. Callers are already in the brand's schema."""

from django.db import transaction

from .models import Article, Category


def category_upsert(*, slug: str, name: str, description: str = "", position: int = 0) -> Category:
    category, _ = Category.objects.update_or_create(
        slug=slug, defaults={"name": name, "description": description, "position": position, "is_active": True}
    )
    return category


@transaction.atomic
def article_upsert(*, slug: str, title: str, category: Category, summary: str, body: str, tags: list[str], is_popular: bool = False) -> Article:
    article, _ = Article.objects.update_or_create(
        slug=slug,
        defaults={
            "title": title,
            "category": category,
            "summary": summary,
            "body": body,
            "tags": tags,
            "is_popular": is_popular,
            "is_published": True,
        },
    )
    return article
