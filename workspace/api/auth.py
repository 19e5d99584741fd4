"""Agent authentication for the agent API: a session (the workspace) or an agent token
(`Authorization: Bearer <token>` or `Token <token>`)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from helpdesk.selectors import agent_token_user


class AgentTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() not in self.keywords:
            return None
        user = agent_token_user(raw=parts[1])
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return user, parts[1]

    def authenticate_header(self, request):
        return "Bearer"


class AgentTokenScheme(OpenApiAuthenticationExtension):
    """Documents agent tokens in the OpenAPI schema."""

    target_class = "workspace.api.auth.AgentTokenAuthentication"
    name = "agentToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An agent token from POST /api/agent/v1/auth/token."}
