import pytest
from django_tenants.utils import schema_context

from chat.models import CannedReply, CustomField
from helpdesk.models import AgentProfile, Staffing, User
from knowledge.models import Article, Category
from tenants.models import Brand


def snapshot() -> dict:
    brands = {b.slug: (b.name, b.schema_name, b.plan) for b in Brand.objects.exclude(schema_name="public")}
    data = {
        "brands": brands,
        "users": sorted(User.objects.values_list("username", "email", "is_staff")),
        "agents": sorted(AgentProfile.objects.values_list("user__username", "max_concurrent_chats")),
        "staffing": sorted(Staffing.objects.values_list("agent__user__username", "brand__slug", "role")),
    }
    for slug in ("acme", "globex"):
        with schema_context(f"brand_{slug}"):
            data[slug] = {
                "categories": sorted(Category.objects.values_list("slug", flat=True)),
                "articles": sorted(Article.objects.values_list("slug", "category__slug")),
                "custom_fields": sorted(CustomField.objects.values_list("key", "field_type", "required")),
                "canned_replies": sorted(CannedReply.objects.values_list("shortcut", "body")),
            }
    return data


@pytest.mark.django_db(transaction=True)
def test_seed_demo_twice_leaves_the_same_data(call):
    first_output = call("seed_demo")
    first = snapshot()
    call("seed_demo")
    assert snapshot() == first

    assert "http://acme.localhost:8000/support/" in first_output
    assert "demo-pass-2026" in first_output
    assert first["acme"]["categories"] == ["general", "payments", "returns", "shipping"]
    assert first["globex"]["categories"] == ["accounts", "repairs", "setup", "warranty"]
    assert first["acme"]["custom_fields"] and first["globex"]["canned_replies"]
    assert len(first["acme"]["articles"]) >= 40 and len(first["globex"]["articles"]) >= 40
    usernames = {u for u, *_ in first["users"]}
    assert {"alice", "bob", "carol", "dave", "sam", "morgan"} <= usernames
    multi_brand = [u for u in usernames if sum(1 for s in first["staffing"] if s[0] == u and s[2] == "agent") == 2]
    assert len(multi_brand) >= 2
