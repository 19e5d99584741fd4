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


# The writes of the brand API. The search index is updated after the commit, so a
# rolled-back write never reaches it and a reader of the index never finds an article the
# database does not have yet.

ARTICLE_EDITABLE = ("slug", "title", "category", "summary", "body", "tags", "is_popular", "is_published")
CATEGORY_EDITABLE = ("slug", "name", "description", "position", "is_active")


class KnowledgeError(Exception):
    def __init__(self, detail: str, code: str = "invalid", status: int = 400):
        super().__init__(detail)
        self.detail, self.code, self.status = detail, code, status


def _index_on_commit(article: Article) -> None:
    from django.db import connection
    from django_tenants.utils import schema_context

    from .search import search_index_update

    # The commit may be seen after the caller left the brand's schema: carry it along.
    schema = connection.schema_name

    def update():
        with schema_context(schema):
            search_index_update(article=article)

    transaction.on_commit(update)


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
def article_update(*, article: Article, changes: dict) -> Article:
    for name, value in changes.items():
        if name in ARTICLE_EDITABLE:
            setattr(article, name, value)
    _clean_and_save(article)
    _index_on_commit(article)
    return article


def article_set_published(*, article: Article, published: bool) -> Article:
    return article_update(article=article, changes={"is_published": published})


@transaction.atomic
def article_delete(*, article: Article) -> None:
    # The index only needs the identity to drop the document; an unpublished stand-in with
    # the same pk removes it once the row is gone.
    gone = Article(pk=article.pk, is_published=False)
    article.delete()
    _index_on_commit(gone)


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
