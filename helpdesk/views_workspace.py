"""The agent workspace and the supervisor view (platform host, /agent/).

The pages are thin shells: everything live comes from the agent API and the agent socket.
Only users with an agent profile get in; a supervisor page needs a supervisor staffing.
"""

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_tenants.utils import schema_context

from helpdesk.models import AgentProfile, Staffing
from knowledge.models import Category

NOT_AGENT = "This account is not an agent. Ask your account manager to give it an agent profile."


class AgentAuthenticationForm(AuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not AgentProfile.objects.filter(user=user).exists():
            raise forms.ValidationError(NOT_AGENT, code="not_agent")


class AgentLoginView(auth_views.LoginView):
    template_name = "workspace/login.html"
    authentication_form = AgentAuthenticationForm
    redirect_authenticated_user = False


class AgentLogoutView(auth_views.LogoutView):
    next_page = "workspace:login"


def _agent_or_refuse(request):
    """The signed-in user's agent profile, or a 403 page explaining why not."""
    agent = AgentProfile.objects.filter(user=request.user).first()
    if agent is None:
        return None, render(request, "workspace/not_agent.html", {"message": NOT_AGENT}, status=403)
    return agent, None


def _staffings(agent):
    return list(Staffing.objects.filter(agent=agent, brand__status="active").select_related("brand").order_by("brand__name"))


def _brand_categories(staffings) -> dict:
    # Transfer to a category needs the brand's own list, which lives in its schema.
    categories = {}
    for staffing in staffings:
        with schema_context(staffing.brand.schema_name):
            categories[staffing.brand.slug] = [
                {"slug": c.slug, "name": c.name} for c in Category.objects.filter(is_active=True).order_by("position", "name")
            ]
    return categories


@never_cache
@login_required
def workspace(request):
    agent, refusal = _agent_or_refuse(request)
    if refusal:
        return refusal
    staffings = _staffings(agent)
    config = {
        "agent": {"id": agent.id, "name": agent.display_name},
        "brands": [
            {"slug": s.brand.slug, "name": s.brand.name, "color": s.brand.primary_color, "role": s.role}
            for s in staffings
        ],
        "categories": _brand_categories(staffings),
    }
    is_supervisor = any(s.role == Staffing.Role.SUPERVISOR for s in staffings)
    return render(request, "workspace/workspace.html", {"agent": agent, "config": config, "is_supervisor": is_supervisor})


@never_cache
@login_required
def supervisor(request):
    agent, refusal = _agent_or_refuse(request)
    if refusal:
        return refusal
    if not Staffing.objects.filter(agent=agent, role=Staffing.Role.SUPERVISOR, brand__status="active").exists():
        return render(request, "workspace/not_agent.html", {"message": "Only supervisors can open the supervisor view."}, status=403)
    config = {"agent": {"id": agent.id, "name": agent.display_name}}
    return render(request, "workspace/supervisor.html", {"agent": agent, "config": config, "is_supervisor": True})
