import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_widget_api_schema_is_complete_and_valid(tmp_path):
    """Every widget endpoint documents its request and response (no fallbacks)."""
    call_command("spectacular", urlconf="config.urls_tenant", fail_on_warn=True, validate=True, file=str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    for path in ["/api/widget/v1/config", "/api/widget/v1/conversations/{conversation_id}/escalate", "/api/widget/v1/conversations/{conversation_id}/survey"]:
        assert f"{path}:" in schema


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_schema_and_docs_are_served_on_both_hosts(client, host):
    assert client.get("/api/schema/", HTTP_HOST=host).status_code == 200
    docs = client.get("/api/docs/", HTTP_HOST=host)
    assert docs.status_code == 200
    assert b"cdn.jsdelivr" not in docs.content and b"/static/drf_spectacular_sidecar/" in docs.content


@pytest.mark.django_db
def test_agent_api_schema_is_complete_and_valid(tmp_path):
    call_command("spectacular", urlconf="config.urls_public", fail_on_warn=True, validate=True, file=str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/agent/v1/brands/{brand}/conversations/{conversation_id}/transfer:" in schema
