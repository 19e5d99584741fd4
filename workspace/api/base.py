"""Bases for the agent API: who the agent is, and, for brand-scoped operations, the one
place that resolves the brand, authorizes the agent on it and enters its schema.

Roles are data: `roles` maps an HTTP method to the staffing roles allowed to call it
(methods not listed are open to every role); `AgentBrandAPIView` refuses others with the
same 404 as a brand the agent does not serve.
"""

from django.db import connection
from rest_framework import exceptions, permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.errors import ChatError
from chat.selectors import AttachmentNotFound, ConversationNotFound, conversation_get_for_agent
from helpdesk.models import Staffing
from helpdesk.selectors import StaffingNotFound, agent_get_for_user, staffing_get_for_agent
from routing.services import RoutingError

from ..selectors import agent_frame
from .auth import AgentTokenAuthentication

SUPERVISORS = frozenset({Staffing.Role.SUPERVISOR})


class IsAgent(permissions.BasePermission):
    message = "Sign in as an agent."

    def has_permission(self, request, view):
        return agent_get_for_user(user=request.user) is not None


class AgentAPIView(APIView):
    authentication_classes = [AgentTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAgent]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.agent = agent_get_for_user(user=request.user)

    def handle_exception(self, exc):
        if isinstance(exc, ChatError):
            return Response({"detail": exc.detail, "code": exc.code}, status=exc.status)
        if isinstance(exc, RoutingError):
            return Response({"detail": exc.detail, "code": exc.code}, status=409)
        if isinstance(exc, (ConversationNotFound, StaffingNotFound, AttachmentNotFound)):
            return Response({"detail": exc.detail, "code": "not_found"}, status=404)
        if isinstance(exc, exceptions.NotAuthenticated):
            return Response({"detail": "Sign in as an agent.", "code": "not_authenticated"}, status=401)
        return super().handle_exception(exc)


class AgentBrandAPIView(AgentAPIView):
    """For /brands/<brand>/...: the brand must exist, be active and staff this agent in a
    role the method allows; otherwise 404 (a brand you do not serve looks like no brand
    at all). The handler runs in the brand's schema with `self.brand` and `self.staffing`."""

    roles: dict[str, frozenset[str]] = {}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        staffing = staffing_get_for_agent(agent=self.agent, brand_slug=kwargs.get("brand"))
        allowed = self.roles.get(request.method)
        if allowed is not None and staffing.role not in allowed:
            raise StaffingNotFound
        self.staffing = staffing
        self.brand = staffing.brand
        connection.set_tenant(self.brand)

    def finalize_response(self, request, response, *args, **kwargs):
        connection.set_schema_to_public()
        return super().finalize_response(request, response, *args, **kwargs)


class AgentConversationAPIView(AgentBrandAPIView):
    """For /brands/<brand>/conversations/<id>/...: also resolves `self.conversation`."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.conversation = conversation_get_for_agent(staffing=self.staffing, conversation_id=kwargs.get("conversation_id"))

    def agent_frame(self, frame: dict) -> dict:
        """A message frame with this agent API's attachment links."""
        return agent_frame(frame, brand_slug=self.brand.slug, conversation_id=self.conversation.id)
