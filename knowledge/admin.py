"""The brand admin's help-center pages (brand schema: the brand admin site runs on the
brand's host). Every save, delete and bulk action syncs the search index and the
suggestion ranker through knowledge.services, like any other write path."""

from django.contrib import admin
from django.db import transaction

from tenants.admin_site import brand_admin

from .models import Article, Category, SuggestionOutcome, SuggestionSettings
from .services import article_index_sync_on_commit


@admin.register(Category, site=brand_admin)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name", "slug"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Articles carry their category's name in the index.
        article_index_sync_on_commit(article_ids=obj.articles.values_list("pk", flat=True))


@admin.register(Article, site=brand_admin)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "is_popular", "is_published", "view_count", "solved_count", "helpful_count", "updated_at"]
    list_filter = ["category", "is_popular", "is_published"]
    search_fields = ["title", "summary", "body", "product_ids"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["view_count", "solved_count", "helpful_count", "unhelpful_count", "created_at", "updated_at"]
    actions = ["publish", "unpublish"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        article_index_sync_on_commit(article_ids=[obj.pk])

    def delete_model(self, request, obj):
        article_id = obj.pk
        super().delete_model(request, obj)
        article_index_sync_on_commit(article_ids=[article_id])

    def delete_queryset(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        article_index_sync_on_commit(article_ids=ids)

    @admin.action(description="Publish selected articles")
    def publish(self, request, queryset):
        self._publish_set(queryset, True)

    @admin.action(description="Unpublish selected articles")
    def unpublish(self, request, queryset):
        self._publish_set(queryset, False)

    @transaction.atomic
    def _publish_set(self, queryset, is_published: bool):
        ids = list(queryset.values_list("pk", flat=True))
        Article.objects.filter(pk__in=ids).update(is_published=is_published)
        article_index_sync_on_commit(article_ids=ids)


@admin.register(SuggestionSettings, site=brand_admin)
class SuggestionSettingsAdmin(admin.ModelAdmin):
    list_display = ["threshold", "count"]

    def has_add_permission(self, request):
        return not SuggestionSettings.objects.exists()


@admin.register(SuggestionOutcome, site=brand_admin)
class SuggestionOutcomeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "outcome", "article", "problem"]
    list_filter = ["outcome"]
    readonly_fields = ["problem", "article", "outcome", "created_at"]
