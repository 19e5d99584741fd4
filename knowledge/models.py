"""The brand's help center (brand schema). Categories double as the brand's problem
categories in the pre-chat form and in agents' staffing."""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class Category(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=240, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True, help_text="Offered in the pre-chat form and shown in the help center.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="articles")
    summary = models.CharField(max_length=400)
    body = models.TextField(help_text="Markdown. Rendered with HTML removed.")
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    is_popular = models.BooleanField(default=False)
    is_published = models.BooleanField(default=True, db_index=True)
    view_count = models.PositiveIntegerField(default=0)
    solved_count = models.PositiveIntegerField(default=0, help_text="Chats this article resolved by self-service.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__position", "title"]

    def __str__(self) -> str:
        return self.title
