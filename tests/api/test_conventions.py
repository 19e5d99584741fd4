"""What every integration API shares: JSON errors, idempotency keys, throttles, size limits."""

import json

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from chat.models import CannedReply
from tenants.models import IdempotencyRecord
from tests.api.conftest import BrandAPI, issue

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["alpha.localhost", "localhost"])
@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/platform/v1/nothing", "/api/nothing"])
def test_unknown_api_paths_are_json_404(alpha, host, path):
    response = Client().get(path, HTTP_HOST=host)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "No such endpoint or object.", "code": "not_found"}


def test_pages_keep_their_html_404(alpha):
    response = Client().get("/no-such-page/", HTTP_HOST="alpha.localhost")
    assert response.status_code == 404 and "json" not in response["Content-Type"]


def test_method_not_allowed_is_json(api_alpha):
    response = api_alpha.delete("conversations")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_unsupported_media_type_is_json(api_alpha):
    response = api_alpha.client.post("/api/v1/canned-replies", "shortcut=x", content_type="text/plain", **api_alpha.headers)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_malformed_json_is_400(api_alpha):
    response = api_alpha.client.post("/api/v1/canned-replies", "{not json", content_type="application/json", **api_alpha.headers)
    assert response.status_code == 400 and response.json()["code"] == "bad_json"  # the strict parser (config/parsers.py) says what was wrong


def test_request_size_limit(api_alpha, settings):
    settings.API_MAX_REQUEST_BYTES = 1000
    response = api_alpha.post("canned-replies", {"shortcut": "big", "title": "Big", "body": "x" * 2000})
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_idempotency_key_replays_the_first_answer(api_alpha):
    body = {"shortcut": "thanks", "title": "Thanks", "body": "Thank you!"}
    first = api_alpha.post("canned-replies", body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_alpha.post("canned-replies", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    with schema_context("brand_alpha"):
        assert CannedReply.objects.filter(shortcut="thanks").count() == 1
    reused = api_alpha.post("canned-replies", {**body, "title": "Other"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


def test_failed_create_is_not_kept_for_the_key(api_alpha):
    bad = api_alpha.post("canned-replies", {"shortcut": "no spaces allowed", "title": "x", "body": "x"}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-2").exists()
    good = api_alpha.post("canned-replies", {"shortcut": "fixed", "title": "x", "body": "x"}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert good.status_code == 201


def test_idempotency_keys_are_per_caller(alpha, beta):
    body = {"shortcut": "same", "title": "Same", "body": "x"}
    a = BrandAPI(slug="alpha", key=issue("alpha")).post("canned-replies", body, HTTP_IDEMPOTENCY_KEY="shared")
    b = BrandAPI(slug="beta", key=issue("beta")).post("canned-replies", body, HTTP_IDEMPOTENCY_KEY="shared")
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b
    with schema_context("brand_beta"):
        assert CannedReply.objects.filter(shortcut="same").count() == 1


def test_throttled_per_key_with_retry_after(alpha, settings):
    settings.API_THROTTLE_RATES = {"api_caller": "3/min", "api_ip": "1000/min"}
    api = BrandAPI(slug="alpha", key=issue("alpha"))
    statuses = [api.get("conversations").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.get("conversations")
    assert limited.json()["code"] == "throttled"
    assert 0 < int(limited["Retry-After"]) <= 60
    # Another key of the same brand has its own budget.
    assert BrandAPI(slug="alpha", key=issue("alpha")).get("conversations").status_code == 200


def test_throttled_per_ip_before_authentication(alpha, settings):
    settings.API_THROTTLE_RATES = {"api_caller": "1000/min", "api_ip": "2/min"}
    api = BrandAPI(slug="alpha", key="hk_guessing")
    statuses = [api.get("conversations", REMOTE_ADDR="203.0.113.9").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    other_address = api.get("conversations", REMOTE_ADDR="203.0.113.10")
    assert other_address.status_code == 401


def test_validation_errors_carry_fields(api_alpha):
    response = api_alpha.post("canned-replies", {"title": "x"})
    body = response.json()
    assert response.status_code == 400 and body["code"] == "invalid"
    assert set(body["errors"]) == {"shortcut", "body"} and body["detail"]
    json.dumps(body)


def test_idempotency_records_are_pruned_after_their_time(api_alpha):
    from datetime import timedelta

    from django.utils import timezone

    from tenants.tasks import idempotency_prune

    api_alpha.post("canned-replies", {"shortcut": "old", "title": "Old", "body": "x"}, HTTP_IDEMPOTENCY_KEY="old-key")
    api_alpha.post("canned-replies", {"shortcut": "new", "title": "New", "body": "x"}, HTTP_IDEMPOTENCY_KEY="new-key")
    IdempotencyRecord.objects.filter(key="old-key").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new-key"]
