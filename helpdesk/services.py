"""Writes on people: users, agent profiles, staffing."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from tenants.models import Brand

from .models import ACCOUNT_MANAGER_GROUP, AgentProfile, Staffing, User

ACCOUNT_MANAGER_APPS = ("tenants", "helpdesk", "knowledge", "chat", "surveys", "routing")


def account_manager_group_ensure() -> Group:
    """The permission group account managers get: full rights on brands, agents, staffing."""
    group, _ = Group.objects.get_or_create(name=ACCOUNT_MANAGER_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=ACCOUNT_MANAGER_APPS))
    return group


@transaction.atomic
def user_upsert(*, username: str, email: str, password: str, first_name: str = "", last_name: str = "", is_staff: bool = False, is_superuser: bool = False) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    user.email = email
    user.first_name = first_name
    user.last_name = last_name
    user.is_staff = is_staff
    user.is_superuser = is_superuser
    if created or not user.check_password(password):
        user.set_password(password)
    user.save()
    return user


@transaction.atomic
def agent_upsert(*, user: User, display_name: str, max_concurrent_chats: int = 3, skills: list[str] | None = None) -> AgentProfile:
    profile, _ = AgentProfile.objects.update_or_create(
        user=user,
        defaults={"display_name": display_name, "max_concurrent_chats": max_concurrent_chats, "skills": skills or []},
    )
    return profile


def staffing_upsert(*, agent: AgentProfile, brand: Brand, role: str = Staffing.Role.AGENT, categories: list[str] | None = None) -> Staffing:
    staffing, _ = Staffing.objects.update_or_create(
        agent=agent, brand=brand, defaults={"role": role, "categories": categories or []}
    )
    return staffing
