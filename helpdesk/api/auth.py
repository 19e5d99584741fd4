"""Agent authentication for the agent API and socket: a session (the workspace) or an
agent token (`Authorization: Bearer <token>` or `Token <token>`)."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from helpdesk.models import AgentToken


def agent_token_user(raw: str):
    if not raw or len(raw) > 200:
        return None
    token = AgentToken.objects.select_related("user").filter(key_hash=AgentToken.hash(raw)).first()
    if token is None or not token.user.is_active:
        return None
    AgentToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


class AgentTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() not in self.keywords:
            return None
        user = agent_token_user(parts[1])
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return user, parts[1]

    def authenticate_header(self, request):
        return "Bearer"


class AgentTokenScheme(OpenApiAuthenticationExtension):
    """Documents agent tokens in the OpenAPI schema."""

    target_class = "helpdesk.api.auth.AgentTokenAuthentication"
    name = "agentToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An agent token from POST /api/agent/v1/auth/token."}
