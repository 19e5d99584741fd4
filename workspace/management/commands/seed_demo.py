"""Demo brands, agents and help-center articles. Safe to run again: it converges."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from chat.models import CannedReply, CustomField
from helpdesk.models import Staffing
from helpdesk.services import account_manager_group_ensure, agent_upsert, staffing_upsert, user_upsert
from knowledge.services import article_upsert, category_upsert
from tenants.models import Brand
from tenants.services import brand_create, brand_host

CONTENT_DIR = Path(settings.BASE_DIR) / "knowledge" / "demo_content"
DEMO_PASSWORD = "demo-pass-2026"

# Demo brands are open around the clock so the demo works whenever it is tried; set real
# hours per brand in the admin (an empty schedule means always open).
BRANDS = [
    {"slug": "acme", "color": "#c2410c", "plan": Brand.Plan.GROWTH, "time_zone": "Europe/Berlin", "business_hours": {}},
    {"slug": "globex", "color": "#0f766e", "plan": Brand.Plan.ENTERPRISE, "time_zone": "America/New_York", "business_hours": {}},
]
# username, display name, capacity, skills, {brand: categories or [] for all}
AGENTS = [
    ("alice", "Alice Martin", 3, ["en", "fr"], {"acme": [], "globex": []}),
    ("bob", "Bob Okafor", 3, ["en"], {"acme": [], "globex": ["setup", "accounts"]}),
    ("carol", "Carol Jensen", 2, ["en", "de"], {"acme": ["shipping", "returns", "general"]}),
    ("dave", "Dave Silva", 4, ["en", "pt"], {"globex": []}),
]
SUPERVISOR = ("sam", "Sam Rivera")
# Per brand: custom pre-chat fields (key, label, type, required, choices, pattern, help text).
CUSTOM_FIELDS = {
    "acme": [
        ("order_number", "Order number", "text", False, [], r"AC-\d{6}", "Looks like AC-123456; it's in your confirmation email."),
        ("country", "Delivery country", "select", True, ["Germany", "France", "Netherlands", "United Kingdom", "United States", "Canada", "Other"], "", ""),
    ],
    "globex": [
        ("serial_number", "Device serial number", "text", False, [], r"GX[A-Z0-9]{8}", "Starts with GX, on the label under the device."),
        ("purchase_year", "Year of purchase", "number", False, [], "", ""),
    ],
}
CANNED_REPLIES = [
    ("hello", "Greeting", "Hi {customer_name}, I'm {agent_name}. Thanks for waiting. Let me look into this for you."),
    ("moment", "One moment", "Thanks {customer_name}, give me a moment while I check that."),
    ("anything-else", "Anything else?", "Is there anything else I can help you with today, {customer_name}?"),
    ("goodbye", "Goodbye", "Thanks for chatting with us, {customer_name}. Have a great day! - {agent_name}"),
]
ACCOUNT_MANAGER = ("morgan", "Morgan Lee")


class Command(BaseCommand):
    help = "Create or refresh the demo brands (acme, globex), their articles, agents, a supervisor and an account manager."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port printed in the URLs.")
        parser.add_argument("--no-index", action="store_true", help="Skip rebuilding the search indexes.")

    def handle(self, *args, port, no_index, **options):
        brands = {}
        for spec in BRANDS:
            content = self._content(spec["slug"])
            brands[spec["slug"]] = self._brand(spec, content)
            self._help_center(brands[spec["slug"]], content, rebuild_index=not no_index)

        self.stdout.write("People...")
        account_manager_group = account_manager_group_ensure()
        username, name = ACCOUNT_MANAGER
        manager = user_upsert(username=username, email=f"{username}@example.com", password=DEMO_PASSWORD, first_name=name.split()[0], last_name=name.split()[1], is_staff=True)
        manager.groups.set([account_manager_group])
        for username, display_name, capacity, skills, staffed_on in AGENTS:
            user = user_upsert(username=username, email=f"{username}@example.com", password=DEMO_PASSWORD, first_name=display_name.split()[0], last_name=display_name.split()[1])
            agent = agent_upsert(user=user, display_name=display_name, max_concurrent_chats=capacity, skills=skills)
            for slug, categories in staffed_on.items():
                staffing_upsert(agent=agent, brand=brands[slug], categories=categories)
        username, display_name = SUPERVISOR
        user = user_upsert(username=username, email=f"{username}@example.com", password=DEMO_PASSWORD, first_name=display_name.split()[0], last_name=display_name.split()[1])
        supervisor = agent_upsert(user=user, display_name=display_name, max_concurrent_chats=2, skills=["en"])
        for brand in brands.values():
            staffing_upsert(agent=supervisor, brand=brand, role=Staffing.Role.SUPERVISOR)
        self._print_summary(brands, port)

    def _content(self, slug: str) -> dict:
        path = CONTENT_DIR / f"{slug}.json"
        if not path.exists():
            raise CommandError(f"Missing demo content {path}.")
        return json.loads(path.read_text(encoding="utf-8"))

    def _brand(self, spec: dict, content: dict) -> Brand:
        brand = Brand.objects.filter(slug=spec["slug"]).first()
        if brand is None:
            created = brand_create(
                name=content["brand"]["name"], slug=spec["slug"], plan=spec["plan"], primary_color=spec["color"],
                time_zone=spec["time_zone"], business_hours=spec["business_hours"],
            )
            self.stdout.write(f"Created brand {created.brand.name} in {created.seconds:.2f}s")
            brand = created.brand
        else:
            Brand.objects.filter(pk=brand.pk).update(
                name=content["brand"]["name"], plan=spec["plan"], primary_color=spec["color"], time_zone=spec["time_zone"], business_hours=spec["business_hours"]
            )
            brand.refresh_from_db()
            self.stdout.write(f"Brand {brand.name} exists; refreshing it")
        return brand

    def _help_center(self, brand: Brand, content: dict, *, rebuild_index: bool) -> None:
        articles = content["articles"]
        with schema_context(brand.schema_name):
            categories = {
                item["slug"]: category_upsert(slug=item["slug"], name=item["name"], description=item.get("description", ""), position=position)
                for position, item in enumerate(content["categories"])
            }
            for index, item in enumerate(articles, start=1):
                article_upsert(
                    slug=item["slug"], title=item["title"], category=categories[item["category"]], summary=item["summary"],
                    body=item["body"], tags=item.get("tags", []), is_popular=item.get("popular", False), product_ids=item.get("product_ids", []),
                )
                if index % 10 == 0 or index == len(articles):
                    self.stdout.write(f"  {brand.slug}: articles {index}/{len(articles)}", ending="\r" if index < len(articles) else "\n")
            for position, (key, label, field_type, required, choices, pattern, help_text) in enumerate(CUSTOM_FIELDS.get(brand.slug, [])):
                CustomField.objects.update_or_create(
                    key=key,
                    defaults={"label": label, "field_type": field_type, "required": required, "choices": choices, "pattern": pattern, "help_text": help_text, "position": position, "is_active": True},
                )
            for shortcut, title, body in CANNED_REPLIES:
                CannedReply.objects.update_or_create(shortcut=shortcut, defaults={"title": title, "body": body})
            if rebuild_index:
                from knowledge.search import search_index_rebuild

                count = search_index_rebuild()
                self.stdout.write(f"  {brand.slug}: search index rebuilt ({count} articles)")

    def _print_summary(self, brands: dict, port: int) -> None:
        root = f"http://{settings.ROOT_DOMAIN}:{port}"
        lines = ["", "Demo ready.", f"  Agent workspace:  {root}/agent/", f"  Admin:            {root}/admin/"]
        for brand in brands.values():
            lines.append(f"  {brand.name + ':':<26}http://{brand_host(slug=brand.slug)}:{port}/support/")
        lines += ["", f"Demo logins (password for all: {DEMO_PASSWORD}):", f"  account manager:  {ACCOUNT_MANAGER[0]}", f"  supervisor:       {SUPERVISOR[0]} (both brands)"]
        for username, display_name, _capacity, _skills, staffed_on in AGENTS:
            lines.append(f"  agent:            {username:<8} {', '.join(staffed_on)}")
        self.stdout.write("\n".join(lines))
