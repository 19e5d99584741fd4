"""The brand's help center pages (brand host). The middleware has entered the brand's
schema, so every query here only sees this brand's categories and articles."""

from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .models import Article, Category
from .selectors import article_html, help_center_search, popular_articles
from .services import article_vote

MAX_QUERY = 200


def _published(**lookup) -> Article:
    article = Article.objects.filter(is_published=True, **lookup).select_related("category").first()
    if article is None:
        raise Http404("No such article.")
    return article


def support_home(request):
    categories = Category.objects.filter(is_active=True)
    return render(request, "knowledge/home.html", {"categories": categories, "popular": popular_articles()})


def support_search(request):
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    results = help_center_search(query=query) if query else []
    return render(request, "knowledge/search.html", {"query": query, "results": results})


def support_category(request, slug: str):
    category = Category.objects.filter(slug=slug, is_active=True).first()
    if category is None:
        raise Http404("No such category.")
    articles = category.articles.filter(is_published=True).order_by("-is_popular", "title")
    return render(request, "knowledge/category.html", {"category": category, "articles": articles})


def support_article(request, slug: str):
    article = _published(slug=slug)
    # An UPDATE with F() so concurrent readers never lose a count.
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)
    return render(request, "knowledge/article.html", {"article": article, "body_html": article_html(article), "voted": request.GET.get("voted") == "1"})


@require_POST
def support_article_vote(request, slug: str):
    """"Was this helpful?" on the article page; the suggestions learn from it."""
    article = _published(slug=slug)
    article_vote(article=article, helpful=request.POST.get("helpful") == "yes")
    return redirect(f"/support/articles/{article.slug}/?voted=1")
