"""Writes on people (public schema): users, agent profiles, staffing, and revoking them."""

from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.utils import timezone

from realtime import events
from realtime.publish import publish_on_commit
from tenants.models import Brand

from .models import ACCOUNT_MANAGER_GROUP, AgentProfile, AgentToken, Staffing, User

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


# --- Revocation ----------------------------------------------------------------------
# Each revocation writes, then tells the user's sockets (realtime.groups.user_group) on
# commit; the agent socket re-checks the user, its token and its staffings and closes or
# drops the brand (workspace.consumers.AgentConsumer.access_revoked).

class AccessRevokedReason(models.TextChoices):
    USER_DEACTIVATED = "user_deactivated", "User deactivated"
    TOKEN_REVOKED = "token_revoked", "Agent token revoked"
    STAFFING_REMOVED = "staffing_removed", "Staffing removed"


def _sessions_delete_for_user(*, user_id: int) -> int:
    """Delete the user's sessions. Sessions are signed blobs keyed by a random id, so
    finding a user's means decoding each live one: fine for an admin action; a user
    index would be the next step at many thousands of live sessions."""
    doomed = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id)
    ]
    Session.objects.filter(session_key__in=doomed).delete()
    return len(doomed)


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Disable the user: no sign-in, no token, no session, and their open sockets close."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    _sessions_delete_for_user(user_id=user.pk)
    publish_on_commit(events.access_revoked(user_id=user.pk, reason=AccessRevokedReason.USER_DEACTIVATED))
    return user


@transaction.atomic
def agent_token_revoke(*, token: AgentToken) -> None:
    """Delete the token; sockets authenticated with it close."""
    user_id = token.user_id
    AgentToken.objects.filter(pk=token.pk).delete()
    publish_on_commit(events.access_revoked(user_id=user_id, reason=AccessRevokedReason.TOKEN_REVOKED))


@transaction.atomic
def staffing_remove(*, staffing: Staffing) -> None:
    """Take the agent off the brand; their sockets drop the brand's queue and chats."""
    user_id = AgentProfile.objects.filter(pk=staffing.agent_id).values_list("user_id", flat=True).first()
    Staffing.objects.filter(pk=staffing.pk).delete()
    if user_id is not None:
        publish_on_commit(events.access_revoked(user_id=user_id, reason=AccessRevokedReason.STAFFING_REMOVED))
