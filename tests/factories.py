"""Factories for the public schema (people, staffing)."""

import factory
from django.db import connection

from helpdesk.models import AgentProfile, Staffing, User
from helpdesk.services import account_manager_group_ensure

PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or PASSWORD)
        if create:
            user.save(update_fields=["password"])


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentProfile

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda a: a.user.username.title())
    max_concurrent_chats = 3


class StaffingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staffing

    agent = factory.SubFactory(AgentFactory)
    role = Staffing.Role.AGENT


def account_manager(username: str = "manager") -> User:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(account_manager_group_ensure())
    return user


def agent_staffed(*brands, capacity: int = 3, categories=(), role: str = Staffing.Role.AGENT, online: bool = False, **agent_fields) -> AgentProfile:
    """An agent staffed on each brand (a Brand or its slug), online if asked: the one way
    tests make an agent who can be routed chats."""
    from routing.models import AgentState
    from routing.services import presence_set
    from tenants.models import Brand

    agent = AgentFactory(max_concurrent_chats=capacity, **agent_fields)
    for brand in brands:
        brand = Brand.objects.get(slug=brand) if isinstance(brand, str) else brand
        StaffingFactory(agent=agent, brand=brand, role=role, categories=list(categories))
    if online:
        presence_set(agent=agent, presence=AgentState.Presence.ONLINE)
    return agent


def next_ids_aligned(model, *schemas: str) -> int:
    """Make the next row of `model` get the same id in each brand schema, and return it.

    Ids keep counting between tests (tests/conftest.py), so the brands' sequences drift
    apart; tests about a shared index or a lookup by id across brands need the ids to
    collide on purpose."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        sequences = []
        for schema in schemas:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [f'"{schema}"."{table}"'])
            sequences.append(cursor.fetchone()[0])
        next_id = 1
        for sequence in sequences:
            cursor.execute(f"SELECT last_value + 1 FROM {sequence}")
            next_id = max(next_id, cursor.fetchone()[0])
        for sequence in sequences:
            cursor.execute("SELECT setval(%s, %s, false)", [sequence, next_id])
    return next_id
