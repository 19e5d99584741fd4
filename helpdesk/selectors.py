"""Reads on people (public schema): who an agent is and on which brands they serve.

`staffing_get_for_agent` is the one place an agent is authorized on a brand: the agent
API's base view, the agent socket and the workspace pages all go through it. A brand that
does not exist, is not active, or does not staff the agent raise the same
StaffingNotFound, so a brand you do not serve looks like no brand at all.
"""

from django.utils import timezone

from tenants.models import Brand

from .models import ACCOUNT_MANAGER_GROUP, AgentProfile, AgentToken, Staffing, User


class StaffingNotFound(Exception):
    detail = "No such brand."


def agent_get_for_user(*, user) -> AgentProfile | None:
    """The user's agent profile, if the user may work (active and an agent)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return AgentProfile.objects.select_related("user").filter(user=user).first()


def user_is_account_manager(*, user) -> bool:
    """Account managers run every brand: superusers and the account-manager group."""
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return False
    return user.is_superuser or user.groups.filter(name=ACCOUNT_MANAGER_GROUP).exists()


def agent_token_user(*, raw: str) -> User | None:
    """The active user an agent token belongs to, noting its use; None for anything else."""
    if not isinstance(raw, str) or not raw or len(raw) > 200:
        return None
    token = AgentToken.objects.select_related("user").filter(key_hash=AgentToken.hash(raw)).first()
    if token is None or not token.user.is_active:
        return None
    AgentToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def staffing_get_for_agent(*, agent: AgentProfile, brand_slug) -> Staffing:
    """The agent's staffing on an active brand, with the brand."""
    if not isinstance(brand_slug, str) or not brand_slug or len(brand_slug) > 100:
        raise StaffingNotFound
    # Runs for every frame of an agent socket: a slice, not first(), so that no ORDER BY
    # is compiled for a lookup that finds at most one row (unique agent and brand).
    found = list(
        Staffing.objects.select_related("brand")
        .filter(agent=agent, brand__slug=brand_slug, brand__status=Brand.Status.ACTIVE)
        .exclude(brand__schema_name="public")[:1]
    )
    staffing = found[0] if found else None
    if staffing is None:
        raise StaffingNotFound
    return staffing


def staffings_for_agent(*, agent: AgentProfile, role: str | None = None) -> list[Staffing]:
    """The agent's staffings on active brands, by brand name."""
    staffings = Staffing.objects.filter(agent=agent, brand__status=Brand.Status.ACTIVE).select_related("brand").order_by("brand__name")
    if role is not None:
        staffings = staffings.filter(role=role)
    return list(staffings)


def staffings_on_brand(*, brand: Brand) -> list[Staffing]:
    return list(Staffing.objects.filter(brand=brand).select_related("agent"))


def agent_get_on_brand(*, brand: Brand, agent_id) -> AgentProfile | None:
    """An agent staffed on the brand (a transfer's or reassignment's target)."""
    try:
        agent_id = int(agent_id)
    except (TypeError, ValueError):
        return None
    return AgentProfile.objects.filter(id=agent_id, staffings__brand=brand).first()
