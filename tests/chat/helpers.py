"""Set-ups for chat tests: conversations made through the services, in a brand's schema."""

from django.db import connection
from django_tenants.utils import schema_context

from chat import services
from routing import services as routing
from tenants.models import Brand

PRECHAT = {"name": "Dana Customer", "email": "dana@example.com", "customer_id": "C-1", "summary": "Where is my parcel?", "product_id": "P-9"}


def conversation_started(*, slug: str = "alpha", category: str | None = None, **overrides):
    brand = Brand.objects.get(slug=slug)
    category = category or {"alpha": "shipping", "beta": "setup"}[slug]
    with schema_context(brand.schema_name):
        started = services.conversation_start(brand=brand, data={**PRECHAT, "category": category, **overrides})
    connection.set_schema_to_public()
    return brand, started.conversation, started.token


def conversation_active(*, agent, slug: str = "alpha", **overrides):
    """A conversation queued and accepted by `agent` (who goes online)."""
    brand, conversation, token = conversation_started(slug=slug, **overrides)
    routing.presence_set(agent=agent, presence="online")
    with schema_context(brand.schema_name):
        services.conversation_escalate(brand=brand, conversation=conversation)
        services.conversation_accept(agent=agent, brand=brand, conversation_id=conversation.id)
    connection.set_schema_to_public()
    return brand, conversation, token
