from django.contrib import admin

from tenants.admin_site import brand_admin

from .models import Article, Category


@admin.register(Category, site=brand_admin)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name", "slug"]


@admin.register(Article, site=brand_admin)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "is_popular", "is_published", "view_count", "solved_count", "updated_at"]
    list_filter = ["category", "is_popular", "is_published"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["view_count", "solved_count", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from .search import search_index_update

        search_index_update(article=obj)
