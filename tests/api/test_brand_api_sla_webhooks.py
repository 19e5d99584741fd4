"""SLA policies, holidays, SLA events and webhook subscriptions through the brand API:
CRUD, the scopes, brand isolation, the destination guard and the shown-once secret."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from sla.models import Holiday, SlaClock, SlaEvent, SlaKind, SlaPolicy
from tests.api.conftest import BrandAPI, issue
from tests.background.receiver import Receiver
from tests.chat.helpers import conversation_started
from webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/hooks"  # a literal public address: no DNS needed


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = ["127.0.0.1/32"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    server = Receiver().start()
    yield server
    server.stop()


def breach(slug: str, *, kind=SlaKind.QUEUE_WAIT, ago=timedelta(0)) -> SlaEvent:
    """A breach as the sweep records it: the clock marked, the event beside it."""
    _, conversation, _ = conversation_started(slug=slug, name=f"{slug} late")
    now = timezone.now() - ago
    with schema_context(f"brand_{slug}"):
        clock = SlaClock.objects.create(
            conversation_id=conversation.id, kind=kind, started_at=now - timedelta(minutes=5), target_seconds=60,
            warn_at=now - timedelta(minutes=4, seconds=12), due_at=now - timedelta(minutes=4), breached_at=now,
        )
        return SlaEvent.objects.create(clock=clock, conversation_id=conversation.id, kind=kind, started_at=clock.started_at, due_at=clock.due_at, breached_at=now)


# --- SLA policies and holidays ------------------------------------------------------


def test_sla_policy_crud(api_alpha):
    created = api_alpha.post("sla-policies", {"queue_wait_seconds": 120, "first_reply_seconds": 60})
    assert created.status_code == 201, created.content
    policy = created.json()
    assert policy["category"] is None and policy["warn_at_percent"] == 80
    assert api_alpha.get(f"sla-policies/{policy['id']}").json()["queue_wait_seconds"] == 120
    assert [row["id"] for row in api_alpha.get("sla-policies").json()["results"]] == [policy["id"]]
    for_shipping = api_alpha.post("sla-policies", {"category": "shipping", "first_reply_seconds": 30})
    assert for_shipping.status_code == 201 and for_shipping.json()["category"] == "shipping"
    changed = api_alpha.patch(f"sla-policies/{policy['id']}", {"next_reply_seconds": 300, "business_hours_only": True})
    assert changed.status_code == 200 and changed.json()["next_reply_seconds"] == 300
    with schema_context("brand_alpha"):
        assert SlaPolicy.objects.get(pk=policy["id"]).business_hours_only is True
    assert api_alpha.delete(f"sla-policies/{policy['id']}").status_code == 204
    assert api_alpha.get(f"sla-policies/{policy['id']}").status_code == 404


def test_a_second_default_policy_and_bad_values_are_400(api_alpha):
    assert api_alpha.post("sla-policies", {"queue_wait_seconds": 120}).status_code == 201
    second = api_alpha.post("sla-policies", {"queue_wait_seconds": 60})
    assert second.status_code == 400, second.content
    assert second.json()["code"] == "invalid" and second.json()["detail"]
    assert api_alpha.post("sla-policies", {"warn_at_percent": 100}).json()["errors"]["warn_at_percent"]
    assert api_alpha.post("sla-policies", {"category": "no-such-category"}).status_code == 400
    with schema_context("brand_alpha"):
        assert SlaPolicy.objects.count() == 1


def test_holidays_list_create_delete(api_alpha):
    created = api_alpha.post("holidays", {"date": "2026-12-25", "name": "Christmas"})
    assert created.status_code == 201, created.content
    assert api_alpha.post("holidays", {"date": "2026-12-25", "name": "Again"}).status_code == 400
    api_alpha.post("holidays", {"date": "2026-01-01", "name": "New Year"})
    assert [row["name"] for row in api_alpha.get("holidays").json()["results"]] == ["New Year", "Christmas"]
    assert api_alpha.delete(f"holidays/{created.json()['id']}").status_code == 204
    with schema_context("brand_alpha"):
        assert list(Holiday.objects.values_list("name", flat=True)) == ["New Year"]


def test_sla_events_filter_and_order(api_alpha):
    old = breach("alpha", kind=SlaKind.FIRST_REPLY, ago=timedelta(days=2))
    new = breach("alpha")
    breach("beta")
    assert [row["id"] for row in api_alpha.get("sla-events").json()["results"]] == [new.id, old.id]
    assert [row["id"] for row in api_alpha.get("sla-events", {"kind": "first_reply"}).json()["results"]] == [old.id]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert [row["id"] for row in api_alpha.get("sla-events", {"breached_after": since}).json()["results"]] == [new.id]
    assert [row["id"] for row in api_alpha.get("sla-events", {"breached_before": since}).json()["results"]] == [old.id]
    assert [row["id"] for row in api_alpha.get("sla-events", {"ordering": "breached_at"}).json()["results"]] == [old.id, new.id]
    assert api_alpha.get("sla-events", {"kind": "nonsense"}).status_code == 400
    assert api_alpha.post("sla-events", {}).status_code == 405


# --- webhooks -------------------------------------------------------------------------


def test_webhook_subscription_crud_and_the_secret_shown_once(api_alpha):
    created = api_alpha.post("webhook-subscriptions", {"url": PUBLIC_URL, "events": ["conversation.ended", "sla.breached"]})
    assert created.status_code == 201, created.content
    body = created.json()
    with schema_context("brand_alpha"):
        stored = WebhookSubscription.objects.get(pk=body["id"])
    assert body["secret"] == stored.secret and body["secret"].startswith("whsec_")
    path = f"webhook-subscriptions/{body['id']}"
    assert "secret" not in api_alpha.get(path).json()
    assert all("secret" not in row for row in api_alpha.get("webhook-subscriptions").json()["results"])
    changed = api_alpha.patch(path, {"events": ["survey.submitted"], "is_active": False})
    assert changed.status_code == 200 and "secret" not in changed.json()
    assert changed.json()["events"] == ["survey.submitted"] and changed.json()["is_active"] is False
    assert stored.secret not in api_alpha.get("webhook-subscriptions").content.decode()
    assert api_alpha.delete(path).status_code == 204
    assert api_alpha.get(path).status_code == 404


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://10.0.0.5/hook", "http://169.254.169.254/latest", "http://localhost:8080/", "http://[::1]/"])
def test_a_private_webhook_url_is_400_with_detail(api_alpha, url, settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = []
    refused = api_alpha.post("webhook-subscriptions", {"url": url, "events": ["conversation.ended"]})
    assert refused.status_code == 400, refused.content
    assert refused.json()["detail"].startswith("url: ") and refused.json()["code"] == "invalid"
    with schema_context("brand_alpha"):
        assert not WebhookSubscription.objects.exists()


def test_a_private_url_is_refused_on_update_too(api_alpha, settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = []
    created = api_alpha.post("webhook-subscriptions", {"url": PUBLIC_URL, "events": ["conversation.ended"]}).json()
    refused = api_alpha.patch(f"webhook-subscriptions/{created['id']}", {"url": "http://192.168.1.1/"})
    assert refused.status_code == 400 and "private" in refused.json()["detail"]
    with schema_context("brand_alpha"):
        assert WebhookSubscription.objects.get(pk=created["id"]).url == PUBLIC_URL


def test_the_test_event_is_delivered_and_logged(api_alpha, receiver, django_capture_on_commit_callbacks):
    url = receiver.on("/hook", 200)
    subscription = api_alpha.post("webhook-subscriptions", {"url": url, "events": ["conversation.ended"]}).json()
    with django_capture_on_commit_callbacks(execute=True):
        sent = api_alpha.post(f"webhook-subscriptions/{subscription['id']}/test")
    assert sent.status_code == 202, sent.content
    assert sent.json()["event_type"] == "webhook.test"
    (request,) = receiver.at("/hook")
    assert request["headers"]["Webhook-Id"] == sent.json()["event_id"]
    log = api_alpha.get(f"webhook-subscriptions/{subscription['id']}/deliveries").json()["results"]
    assert [row["id"] for row in log] == [sent.json()["id"]]
    assert log[0]["state"] == WebhookDelivery.State.DELIVERED and log[0]["attempts_log"][0]["status_code"] == 200


def test_the_delivery_log_is_newest_first_and_per_subscription(api_alpha, receiver, django_capture_on_commit_callbacks):
    url = receiver.on("/hook", 500)
    first = api_alpha.post("webhook-subscriptions", {"url": url, "events": ["conversation.ended"]}).json()
    other = api_alpha.post("webhook-subscriptions", {"url": url, "events": ["conversation.ended"]}).json()
    with django_capture_on_commit_callbacks(execute=True):
        ids = [api_alpha.post(f"webhook-subscriptions/{first['id']}/test").json()["id"] for _ in range(3)]
        api_alpha.post(f"webhook-subscriptions/{other['id']}/test")
    log = api_alpha.get(f"webhook-subscriptions/{first['id']}/deliveries").json()["results"]
    assert [row["id"] for row in log] == ids[::-1]
    assert {row["state"] for row in log} == {WebhookDelivery.State.PENDING}
    assert api_alpha.get(f"webhook-subscriptions/{first['id']}/deliveries", {"state": "delivered"}).json()["results"] == []
    assert api_alpha.post(f"webhook-subscriptions/{first['id']}/deliveries", {}).status_code == 405
    assert api_alpha.get("webhook-subscriptions/999999/deliveries").status_code == 404


# --- isolation and scopes -------------------------------------------------------------


def beta_objects() -> dict:
    with schema_context("brand_beta"):
        return {
            "sla-policies": SlaPolicy.objects.create(first_reply_seconds=60).id,
            "holidays": Holiday.objects.create(date="2026-05-01", name="beta holiday").id,
            "webhook-subscriptions": WebhookSubscription.objects.create(url=PUBLIC_URL, events=["conversation.ended"]).id,
        }


def test_brand_a_gets_404_for_brand_bs_objects(api_alpha):
    ids = beta_objects()
    event = breach("beta")
    for resource, object_id in ids.items():
        assert api_alpha.get(f"{resource}/{object_id}").status_code in (404, 405)
        assert api_alpha.delete(f"{resource}/{object_id}").status_code == 404
    assert api_alpha.patch(f"sla-policies/{ids['sla-policies']}", {"first_reply_seconds": 1}).status_code == 404
    assert api_alpha.patch(f"webhook-subscriptions/{ids['webhook-subscriptions']}", {"is_active": False}).status_code == 404
    assert api_alpha.get(f"webhook-subscriptions/{ids['webhook-subscriptions']}/deliveries").status_code == 404
    assert api_alpha.post(f"webhook-subscriptions/{ids['webhook-subscriptions']}/test").status_code == 404
    for resource in ("sla-policies", "holidays", "webhook-subscriptions", "sla-events"):
        assert api_alpha.get(resource).json()["results"] == []
    assert event.id not in [row["id"] for row in api_alpha.get("sla-events").json()["results"]]
    with schema_context("brand_beta"):
        assert SlaPolicy.objects.get(pk=ids["sla-policies"]).first_reply_seconds == 60
        assert WebhookSubscription.objects.get(pk=ids["webhook-subscriptions"]).is_active
        assert not WebhookDelivery.objects.exists()


def test_brand_a_key_on_brand_bs_host_is_404(alpha, beta):
    on_beta = BrandAPI(slug="beta", key=issue("alpha"))
    for resource in ("sla-policies", "holidays", "sla-events", "webhook-subscriptions"):
        answer = on_beta.get(resource)
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert on_beta.post("webhook-subscriptions", {"url": PUBLIC_URL, "events": ["conversation.ended"]}).status_code == 404
    with schema_context("brand_beta"):
        assert not WebhookSubscription.objects.exists()


def test_a_read_key_cannot_write(api_alpha_read):
    assert api_alpha_read.get("sla-policies").status_code == 200
    assert api_alpha_read.get("webhook-subscriptions").status_code == 200
    for path, body in (("sla-policies", {"first_reply_seconds": 60}), ("holidays", {"date": "2026-12-25", "name": "x"}), ("webhook-subscriptions", {"url": PUBLIC_URL, "events": ["conversation.ended"]})):
        refused = api_alpha_read.post(path, body)
        assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    ids_alpha = {}
    with schema_context("brand_alpha"):
        ids_alpha["sub"] = WebhookSubscription.objects.create(url=PUBLIC_URL, events=["conversation.ended"]).id
    assert api_alpha_read.post(f"webhook-subscriptions/{ids_alpha['sub']}/test").status_code == 403
    assert api_alpha_read.delete(f"webhook-subscriptions/{ids_alpha['sub']}").status_code == 403
    with schema_context("brand_alpha"):
        assert not SlaPolicy.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_key_without_the_settings_scope_is_403(alpha):
    conversations_only = BrandAPI(slug="alpha", key=issue("alpha", resources=["conversations"]))
    for path in ("sla-policies", "holidays", "webhook-subscriptions"):
        refused = conversations_only.get(path)
        assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    assert conversations_only.get("sla-events").status_code == 200
    settings_only = BrandAPI(slug="alpha", key=issue("alpha", resources=["settings"]))
    assert settings_only.get("sla-policies").status_code == 200
    assert settings_only.get("sla-events").status_code == 403
