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


@pytest.mark.django_db
def test_brand_api_schema_documents_every_operation_and_its_errors(tmp_path):
    """The brand API on the brand host's schema: no warnings, every error documented."""
    import yaml

    call_command("spectacular", urlconf="config.urls_tenant", fail_on_warn=True, validate=True, file=str(tmp_path / "schema.yaml"))
    schema = yaml.safe_load((tmp_path / "schema.yaml").read_text())
    brand_paths = {path: ops for path, ops in schema["paths"].items() if path.startswith("/api/v1/")}
    for path in ["/api/v1/conversations", "/api/v1/conversations/{conversation_id}/messages", "/api/v1/articles/{article_id}", "/api/v1/articles/suggest", "/api/v1/survey-responses", "/api/v1/business-hours", "/api/v1/agents"]:
        assert path in brand_paths, path
    for path, operations in brand_paths.items():
        for method, operation in operations.items():
            assert {"401", "403", "404", "429"} <= set(operation["responses"]), (method, path)
            assert operation["security"] == [{"brandApiKey": []}], (method, path)
    assert "brandApiKey" in schema["components"]["securitySchemes"]
    listing = schema["paths"]["/api/v1/conversations"]["get"]
    assert {"cursor", "page_size", "ordering", "state", "created_after", "agent", "category"} <= {p["name"] for p in listing["parameters"]}


@pytest.mark.django_db
def test_platform_api_schema_is_complete_and_valid(tmp_path):
    import yaml

    call_command("spectacular", urlconf="config.urls_public", fail_on_warn=True, validate=True, file=str(tmp_path / "schema.yaml"))
    schema = yaml.safe_load((tmp_path / "schema.yaml").read_text())
    for path in ["/api/platform/v1/brands", "/api/platform/v1/brands/{brand}/suspend", "/api/platform/v1/brands/{brand}/api-keys", "/api/platform/v1/brands/{brand}/staffing", "/api/platform/v1/agents"]:
        assert path in schema["paths"], path
    assert "staffToken" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
@pytest.mark.parametrize(("host", "present", "absent"), [("localhost", "/api/platform/v1/brands", "/api/v1/conversations"), ("alpha.localhost", "/api/v1/conversations", "/api/platform/v1/brands")])
def test_each_host_serves_the_schema_of_its_own_apis(client, host, present, absent):
    schema = client.get("/api/schema/?format=json", HTTP_HOST=host).json()
    assert present in schema["paths"] and absent not in schema["paths"]


@pytest.mark.django_db
def test_agent_api_documents_every_answer_with_a_shape(tmp_path):
    """No agent API operation answers 'some object': each success has its serializer."""
    import yaml

    call_command("spectacular", urlconf="config.urls_public", fail_on_warn=True, validate=True, file=str(tmp_path / "schema.yaml"))
    schema = yaml.safe_load((tmp_path / "schema.yaml").read_text())
    agent_paths = {path: ops for path, ops in schema["paths"].items() if path.startswith("/api/agent/v1/")}
    assert len(agent_paths) >= 15
    for path, operations in agent_paths.items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith("2"):
                    if "application/json" not in answer["content"]:
                        # A file (an attachment's download): bytes, said so.
                        assert answer["content"]["application/octet-stream"]["schema"]["format"] == "binary", (method, path)
                        continue
                    body = answer["content"]["application/json"]["schema"]
                    assert "$ref" in body, (method, path, status, body)
