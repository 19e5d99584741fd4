"""Bases for the agent API: who the agent is, and, for brand-scoped operations, the one
place that resolves the brand, authorizes the agent on it and enters its schema."""

from django.db import connection
from rest_framework import exceptions, permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.selectors import ConversationNotFound
from chat.services import ChatError
from helpdesk.models import AgentProfile, Staffing
from routing.services import RoutingError
from tenants.models import Brand

from .auth import AgentTokenAuthentication


class IsAgent(permissions.BasePermission):
    message = "Sign in as an agent."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and AgentProfile.objects.filter(user=user).exists())


class AgentAPIView(APIView):
    authentication_classes = [AgentTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAgent]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.agent = AgentProfile.objects.select_related("user").get(user=request.user)

    def handle_exception(self, exc):
        if isinstance(exc, (ChatError,)):
            return Response({"detail": exc.detail, "code": exc.code}, status=exc.status)
        if isinstance(exc, RoutingError):
            return Response({"detail": exc.detail, "code": exc.code}, status=409)
        if isinstance(exc, ConversationNotFound):
            return Response({"detail": exc.detail, "code": "not_found"}, status=404)
        if isinstance(exc, exceptions.NotAuthenticated):
            return Response({"detail": "Sign in as an agent.", "code": "not_authenticated"}, status=401)
        return super().handle_exception(exc)


class BrandNotFound(exceptions.NotFound):
    default_detail = "No such brand."


class AgentBrandAPIView(AgentAPIView):
    """For /brands/<brand>/...: the brand must exist, be active and staff this agent;
    otherwise 404 (a brand you do not serve looks like no brand at all). The handler
    runs in the brand's schema."""

    supervisor_only = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        brand = Brand.objects.exclude(schema_name="public").filter(slug=kwargs.get("brand"), status=Brand.Status.ACTIVE).first()
        staffing = Staffing.objects.filter(agent=self.agent, brand=brand).first() if brand else None
        if staffing is None or (self.supervisor_only and staffing.role != Staffing.Role.SUPERVISOR):
            raise BrandNotFound()
        self.brand = brand
        self.staffing = staffing
        connection.set_tenant(brand)

    def finalize_response(self, request, response, *args, **kwargs):
        connection.set_schema_to_public()
        return super().finalize_response(request, response, *args, **kwargs)

    @property
    def is_supervisor(self) -> bool:
        return self.staffing.role == Staffing.Role.SUPERVISOR
