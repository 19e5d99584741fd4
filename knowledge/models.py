"""The brand's help center (brand schema). Categories double as the brand's problem
categories in the pre-chat form and in agents' staffing."""

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
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
    product_ids = ArrayField(
        models.CharField(max_length=120), default=list, blank=True,
        help_text="Product IDs this article applies to, as customers give them in the pre-chat form (e.g. AURA-MINI).",
    )
    helpful_count = models.PositiveIntegerField(default=0, help_text="'Yes' votes on the article page.")
    unhelpful_count = models.PositiveIntegerField(default=0, help_text="'No' votes on the article page.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__position", "title"]

    def __str__(self) -> str:
        return self.title


DEFAULT_SUGGESTION_THRESHOLD = 0.42  # fitted on the tuning half (bench/suggestions_fit.py)


class SuggestionSettings(models.Model):
    """The brand's suggestion settings: one row per brand schema (`suggestion_settings_get`
    creates it with the defaults)."""

    threshold = models.FloatField(
        default=DEFAULT_SUGGESTION_THRESHOLD, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)],
        help_text="Suggestions scoring below this are not shown; with none left the customer goes straight to an agent.",
    )
    count = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)], help_text="At most this many suggestions (1 to 5)."
    )

    class Meta:
        verbose_name = "suggestion settings"
        verbose_name_plural = "suggestion settings"

    def __str__(self) -> str:
        return f"threshold {self.threshold:.2f}, up to {self.count}"


class SuggestionOutcome(models.Model):
    """What became of an article for a problem: the ranker learns from these, per brand
    (the table is in the brand's schema, so one brand's outcomes never reach another's)."""

    class Outcome(models.TextChoices):
        SOLVED = "solved", "Solved the problem"
        REJECTED = "rejected", "Suggested, then the customer asked for an agent"
        HELPFUL = "helpful", "Voted helpful on the article page"
        UNHELPFUL = "unhelpful", "Voted not helpful on the article page"

    problem = models.TextField(blank=True, help_text="The customer's words; empty for votes on the article page.")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="outcomes")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
