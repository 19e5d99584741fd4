"""Make up a busy brand's year of history (conversations, messages, segments, surveys,
queue entries, agents' shifts) to measure the reports on. Never run it on a brand with
real customers: it adds rows, it does not replace them."""

from datetime import date, datetime, time, timedelta, timezone as dt_timezone

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from chat.billing import agent_time_buckets_roll_up
from chat.reports import report_buckets_roll_up
from chat.services_synthetic import synthetic_day_insert, synthetic_shifts_insert
from helpdesk.services import agent_upsert, staffing_upsert, user_upsert
from chat.models import Tag
from knowledge.models import Article, Category
from knowledge.services import article_upsert, category_upsert
from tenants.models import Brand
from tenants.services import brand_create

CATEGORIES = [("general", "General"), ("shipping", "Shipping"), ("returns", "Returns"), ("billing", "Billing"), ("accounts", "Accounts")]


def first_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=dt_timezone.utc)


class Command(BaseCommand):
    help = "Generate a busy brand's year of chats for measuring reports (creates the brand if it does not exist)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", default="busy", help="Brand slug (created if missing).")
        parser.add_argument("--conversations", type=int, default=500_000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--agents", type=int, default=30)
        parser.add_argument("--end", default=None, help="Last day, YYYY-MM-DD (default: yesterday).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-agent-time-rollup", action="store_true", help="Leave the cross-brand agent-time roll-up for later (many brands in a row).")

    def handle(self, *args, brand: str, conversations: int, days: int, agents: int, end, seed: int, no_agent_time_rollup: bool = False, **options):
        if conversations < 1 or days < 1 or agents < 1:
            raise CommandError("--conversations, --days and --agents must be positive.")
        last_day = date.fromisoformat(end) if end else date.today() - timedelta(days=1)
        target = Brand.objects.filter(slug=brand).first() or brand_create(name=brand.title(), slug=brand).brand
        team = []
        for index in range(agents):
            user = user_upsert(username=f"{brand}-agent-{index}", email=f"{brand}-agent-{index}@example.com", password=f"{brand}-{seed}-{index}-pass")
            agent = agent_upsert(user=user, display_name=f"{brand.title()} agent {index}", max_concurrent_chats=3)
            staffing_upsert(agent=agent, brand=target)
            team.append(agent)
        with schema_context(target.schema_name):
            categories = [category_upsert(slug=slug, name=name, position=p) for p, (slug, name) in enumerate(CATEGORIES)]
            if not Article.objects.exists():
                for index in range(20):
                    article_upsert(slug=f"article-{index}", title=f"How to fix problem {index}", category=categories[index % len(categories)], summary="A common problem.", body="Steps to solve it.", tags=[])
            for slug, name in [("refund", "Refund"), ("damaged", "Damaged item"), ("late", "Late delivery"), ("how-to", "How-to"), ("account", "Account")]:
                Tag.objects.get_or_create(slug=slug, defaults={"name": name})
            category_ids = list(Category.objects.order_by("id").values_list("id", flat=True))
            article_ids = list(Article.objects.order_by("id").values_list("id", flat=True))
            per_day, extra = divmod(conversations, days)
            made = 0
            first_day = last_day - timedelta(days=days - 1)
            for offset in range(days):
                day = first_day + timedelta(days=offset)
                count = per_day + (1 if offset < extra else 0)
                made += synthetic_day_insert(
                    brand=target, day=day, count=count, agent_ids=[a.id for a in team], category_ids=category_ids,
                    article_ids=article_ids, seed=seed,
                )
                synthetic_shifts_insert(agents=team, day=day)
                if offset % 10 == 9 or offset == days - 1:
                    self.stdout.write(f"\r{target.slug}: day {offset + 1}/{days}, {made:,} conversations", ending="")
                    self.stdout.flush()
            written = report_buckets_roll_up(since=first_day_start(first_day))
        if not no_agent_time_rollup:
            agent_time_buckets_roll_up(since=first_day_start(first_day))
        self.stdout.write(f"\n{target.slug}: {made:,} conversations from {first_day} to {last_day}; {written:,} report buckets rolled up.")
