"""Reads on the help center. Callers are in the brand's schema."""

import logging
import re
from urllib.parse import urlsplit

import markdown
import nh3
from django.db.models import Case, IntegerField, When

from .models import Article, Category, SuggestionSettings
from .ranking import Problem, suggestions_pick
from .search import search_articles
from .suggest import brand_ranker_get

logger = logging.getLogger(__name__)
SUGGESTION_COUNT = 3  # the default of SuggestionSettings.count
MAX_SUGGESTIONS = 5
MAX_PROBLEM_CHARS = 2000

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


def suggestion_settings_get() -> SuggestionSettings:
    """The brand's suggestion settings, created with the defaults on first use."""
    settings_row = SuggestionSettings.objects.order_by("pk").first()
    return settings_row or SuggestionSettings.objects.create()


def _custom_field_words(custom_fields: dict | None) -> str:
    """Custom-field answers that read as words (a delivery country, a device type) help the
    match; identifiers (order and serial numbers) and numbers only add noise."""
    words = []
    for value in (custom_fields or {}).values():
        if isinstance(value, str) and value.strip() and not any(ch.isdigit() for ch in value):
            words.append(value.strip()[:80])
    return " ".join(words[:10])


def suggestions_for(
    *, category: Category | None, text: str, product_id: str = "", custom_fields: dict | None = None, limit: int | None = None,
) -> list[Article]:
    """The brand's articles for a customer's problem, best first, each with
    `suggestion_score` and `suggestion_why`; empty when nothing scores above the brand's
    threshold (the customer then goes straight to an agent). Never raises: a broken index
    must not stop a customer reaching an agent."""
    try:
        settings_row = suggestion_settings_get()
        count = max(1, min(limit or settings_row.count, MAX_SUGGESTIONS))
        problem = Problem(
            text=(text or "")[:MAX_PROBLEM_CHARS], category=category.slug if category else "",
            product_id=(product_id or "")[:120], extra=_custom_field_words(custom_fields),
        )
        ranked = brand_ranker_get().rank(problem, limit=count)
        picked = suggestions_pick(ranked, threshold=settings_row.threshold, count=count)
    except Exception:
        logger.exception("Suggestions failed; sending the customer to an agent")
        return []
    articles = {a.pk: a for a in articles_by_ids([p.article_id for p in picked])}
    result = []
    for pick in picked:
        article = articles.get(pick.article_id)
        if article is None:  # unpublished between the ranker's build and now
            continue
        article.suggestion_score = round(pick.score, 3)
        article.suggestion_why = {"product": pick.matched_product, "words": pick.matched_words[:8]}
        result.append(article)
    return result


# An article link as an agent pastes it: the page path alone, or a URL on one of the brand's
# hosts. A link to another site's /support/articles/ is not this brand's article.
# The lookbehind keeps "https://other.example/alpha.localhost/support/articles/x/" out.
ARTICLE_LINK = re.compile(r"(?<![\w./:-])(?:(?:https?://)?([\w.-]+(?::\d+)?))?/support/articles/([-\w]+)/?", re.UNICODE)


def articles_linked_in(*, texts: list[str], hosts: set[str]) -> list[int]:
    """Ids of this brand's published articles linked from `texts` (each once, in order)."""
    hosts = {h.lower().split(":")[0] for h in hosts}
    slugs = []
    for text in texts:
        for match in ARTICLE_LINK.finditer(text or ""):
            host = (match.group(1) or "").lower()
            if host and urlsplit(f"//{host}").hostname not in hosts:
                continue
            if match.group(2) not in slugs:
                slugs.append(match.group(2))
    if not slugs:
        return []
    found = dict(Article.objects.filter(slug__in=slugs[:20], is_published=True).values_list("slug", "pk"))
    return [found[s] for s in slugs if s in found]


def help_center_search(*, query: str, limit: int = 20) -> list[Article]:
    query = (query or "").strip()
    try:
        ids = search_articles(query=query, limit=limit)
    except Exception:
        logger.exception("Help-center search failed; falling back to a title match")
        return list(Article.objects.filter(title__icontains=query, is_published=True)[:limit]) if query else []
    return articles_by_ids(ids)


def popular_articles(*, limit: int = 6) -> list[Article]:
    return list(Article.objects.filter(is_published=True).select_related("category").order_by("-is_popular", "-view_count", "title")[:limit])


def article_payload(article: Article, *, with_body: bool = True) -> dict:
    data = {"id": article.id, "slug": article.slug, "title": article.title, "summary": article.summary, "category": article.category.slug, "url": f"/support/articles/{article.slug}/"}
    if with_body:
        data["body_html"] = article_html(article)
    if hasattr(article, "suggestion_score"):
        data["score"] = article.suggestion_score
        data["why"] = article.suggestion_why
    return data
