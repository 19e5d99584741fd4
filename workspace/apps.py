from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The agent's interfaces (top floor): agent API, agent socket, workspace and
    supervisor pages, seed_demo. No models of its own."""

    name = "workspace"
