"""Writes on the help center. Callers are already in the brand's schema.

Every write on an article also schedules, on commit, the search-page index update for it
and a bump of the brand's suggestion-ranker version (knowledge.suggest): the index and the
suggestions are in step with the database whichever path wrote (these services, the
admin, the bulk import, the management commands).
"""

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import F
from django_tenants.utils import schema_context

from .models import Article, Category, SuggestionOutcome, SuggestionSettings
from .suggest import ranker_articles_changed, ranker_outcomes_changed

MAX_PROBLEM = 2000
MAX_PRODUCT_IDS = 50


def category_upsert(*, slug: str, name: str, description: str = "", position: int = 0) -> Category:
    category, _ = Category.objects.update_or_create(
        slug=slug, defaults={"name": name, "description": description, "position": position, "is_active": True}
    )
    return category


def article_index_sync_on_commit(*, article_ids: Iterable[int]) -> None:
    """After the transaction commits, bring the search index and the ranker in line with
    these articles. Also the one hook the admin calls after its own saves and deletes."""
    ids = sorted(set(article_ids))
    schema = connection.schema_name

    def sync():
        from .search import search_index_update

        with schema_context(schema):
            for article_id in ids:
                search_index_update(article_id=article_id)

    ranker_articles_changed()
    transaction.on_commit(sync)


def _clean_product_ids(product_ids: Iterable[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for value in product_ids or []:
        value = str(value).strip()[:120]
        if value:
            seen.setdefault(value, None)
    return list(seen)[:MAX_PRODUCT_IDS]


@transaction.atomic
def article_upsert(
    *, slug: str, title: str, category: Category, summary: str, body: str, tags: list[str], is_popular: bool = False,
    product_ids: list[str] | None = None, is_published: bool = True,
) -> Article:
    article, _ = Article.objects.update_or_create(
        slug=slug,
        defaults={
            "title": title,
            "category": category,
            "summary": summary,
            "body": body,
            "tags": tags,
            "is_popular": is_popular,
            "is_published": is_published,
            "product_ids": _clean_product_ids(product_ids),
        },
    )
    article_index_sync_on_commit(article_ids=[article.pk])
    return article


@transaction.atomic
def articles_import(*, items: list[dict], categories: dict[str, Category]) -> list[Article]:
    """Bulk import (the demo content, a brand's migration from another tool): every item
    as article_upsert takes it, with `category` a slug in `categories`; one transaction,
    one index sync."""
    articles = []
    for item in items:
        article, _ = Article.objects.update_or_create(
            slug=item["slug"],
            defaults={
                "title": item["title"], "category": categories[item["category"]], "summary": item.get("summary", ""),
                "body": item.get("body", ""), "tags": item.get("tags", []), "is_popular": item.get("popular", False),
                "is_published": item.get("is_published", True), "product_ids": _clean_product_ids(item.get("product_ids")),
            },
        )
        articles.append(article)
    article_index_sync_on_commit(article_ids=[a.pk for a in articles])
    return articles


@transaction.atomic
def article_publish_set(*, article: Article, is_published: bool) -> Article:
    Article.objects.filter(pk=article.pk).update(is_published=is_published)
    article.is_published = is_published
    article_index_sync_on_commit(article_ids=[article.pk])
    return article


# The writes of the brand API. The search index and the ranker are updated after the
# commit (article_index_sync_on_commit), so a rolled-back write never reaches them.

ARTICLE_EDITABLE = ("slug", "title", "category", "summary", "body", "tags", "is_popular", "is_published")
CATEGORY_EDITABLE = ("slug", "name", "description", "position", "is_active")


class KnowledgeError(Exception):
    def __init__(self, detail: str, code: str = "invalid", status: int = 400):
        super().__init__(detail)
        self.detail, self.code, self.status = detail, code, status


def _index_on_commit(article: Article) -> None:
    article_index_sync_on_commit(article_ids=[article.pk])


def _clean_and_save(instance) -> None:
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise KnowledgeError(f"{field}: {messages[0]}") from None
    instance.save()


@transaction.atomic
def article_create(*, slug: str, title: str, category: Category, summary: str, body: str, tags: list[str] | None = None, is_popular: bool = False, is_published: bool = True) -> Article:
    article = Article(slug=slug, title=title, category=category, summary=summary, body=body, tags=tags or [], is_popular=is_popular, is_published=is_published)
    _clean_and_save(article)
    _index_on_commit(article)
    return article


@transaction.atomic
def article_delete(*, article: Article) -> None:
    article_id = article.pk
    article.delete()
    article_index_sync_on_commit(article_ids=[article_id])


def article_vote(*, article: Article, helpful: bool) -> None:
    """A vote on the article page. An UPDATE with F() so concurrent votes all count."""
    with transaction.atomic():
        field = "helpful_count" if helpful else "unhelpful_count"
        Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})
        outcome = SuggestionOutcome.Outcome.HELPFUL if helpful else SuggestionOutcome.Outcome.UNHELPFUL
        SuggestionOutcome.objects.create(problem="", article=article, outcome=outcome)
        ranker_outcomes_changed()


def suggestion_outcome_record(*, problem: str, product_id: str = "", article_ids: Iterable[int], outcome: str) -> None:
    """What the customer did with suggestions for their problem: "solved" for the article
    that solved it, "rejected" for those shown before they asked for an agent. The chat
    services call this inside their own transaction, so it commits with the state change."""
    outcome = SuggestionOutcome.Outcome(outcome)
    text = " ".join(part for part in ((problem or "").strip(), (product_id or "").strip()) if part)[:MAX_PROBLEM]
    ids = list(Article.objects.filter(pk__in=list(article_ids)).values_list("pk", flat=True))
    if not text or not ids:
        return
    SuggestionOutcome.objects.bulk_create([SuggestionOutcome(problem=text, article_id=i, outcome=outcome) for i in ids])
    ranker_outcomes_changed()


def suggestion_settings_update(*, threshold: float | None = None, count: int | None = None) -> SuggestionSettings:
    from .selectors import suggestion_settings_get

    settings_row = suggestion_settings_get()
    if threshold is not None:
        settings_row.threshold = float(threshold)
    if count is not None:
        settings_row.count = int(count)
    settings_row.full_clean()
    settings_row.save()
    return settings_row


@transaction.atomic
def article_update(*, article: Article, changes: dict) -> Article:
    for name, value in changes.items():
        if name in ARTICLE_EDITABLE:
            setattr(article, name, value)
    _clean_and_save(article)
    _index_on_commit(article)
    return article


def article_set_published(*, article: Article, published: bool) -> Article:
    return article_publish_set(article=article, is_published=published)


@transaction.atomic
def category_create(*, slug: str, name: str, description: str = "", position: int = 0, is_active: bool = True) -> Category:
    category = Category(slug=slug, name=name, description=description, position=position, is_active=is_active)
    _clean_and_save(category)
    return category


@transaction.atomic
def category_update(*, category: Category, changes: dict) -> Category:
    old_slug = category.slug
    for name, value in changes.items():
        if name in CATEGORY_EDITABLE:
            setattr(category, name, value)
    _clean_and_save(category)
    if category.slug != old_slug:
        # The index files articles under the category's slug.
        for article in Article.objects.filter(category=category):
            _index_on_commit(article)
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    from django.db.models import ProtectedError

    try:
        category.delete()
    except ProtectedError:
        raise KnowledgeError("The category still has articles or conversations; deactivate it instead.", "category_in_use", 409) from None
