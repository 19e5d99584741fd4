"""The agent workspace and the supervisor view (platform host, /agent/).

The pages are thin shells: everything live comes from the agent API and the agent socket.
Only users with an agent profile get in; a supervisor page needs a supervisor staffing.
"""

import functools

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from helpdesk.models import Staffing
from helpdesk.selectors import agent_get_for_user, staffings_for_agent

from .selectors import inbox_config, workspace_config

NOT_AGENT = "This account is not an agent. Ask your account manager to give it an agent profile."


class AgentAuthenticationForm(AuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if agent_get_for_user(user=user) is None:
            raise forms.ValidationError(NOT_AGENT, code="not_agent")


class AgentLoginView(auth_views.LoginView):
    template_name = "workspace/login.html"
    authentication_form = AgentAuthenticationForm
    redirect_authenticated_user = False


class AgentLogoutView(auth_views.LogoutView):
    next_page = "workspace:login"


def _refusal(request, message: str):
    return render(request, "workspace/not_agent.html", {"message": message}, status=403)


def agent_page(view):
    """A page for signed-in agents: `request.agent` is theirs; anyone else gets a 403 page
    that says why."""

    @functools.wraps(view)
    @never_cache
    @login_required
    def page(request, *args, **kwargs):
        request.agent = agent_get_for_user(user=request.user)
        if request.agent is None:
            return _refusal(request, NOT_AGENT)
        return view(request, *args, **kwargs)

    return page


@agent_page
def workspace(request):
    config = workspace_config(agent=request.agent)
    return render(request, "workspace/workspace.html", {"agent": request.agent, "config": config, "is_supervisor": config["is_supervisor"]})


@agent_page
def supervisor(request):
    agent = request.agent
    if not staffings_for_agent(agent=agent, role=Staffing.Role.SUPERVISOR):
        return _refusal(request, "Only supervisors can open the supervisor view.")
    config = {"agent": {"id": agent.id, "name": agent.display_name}}
    return render(request, "workspace/supervisor.html", {"agent": agent, "config": config, "is_supervisor": True})


@agent_page
def inbox(request):
    """Past and present conversations, searched and filtered; transcripts read-only."""
    config = inbox_config(agent=request.agent)
    return render(request, "workspace/inbox.html", {"agent": request.agent, "config": config, "is_supervisor": config["is_supervisor"]})
