"""The brand admin (brand host /admin/): the brand's own service times, SLA policies,
holidays and webhooks; one brand's admin cannot see or change another's."""

import pytest
from django_tenants.utils import schema_context

from tenants.models import ATTACHMENT_MAX_BYTES_DEFAULT, Brand, default_attachment_types
from tests.background.receiver import Receiver
from tests.factories import UserFactory
from webhooks.models import WebhookDelivery, WebhookSubscription

ALPHA = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_service_times_are_the_brands_own_row_only(admin_client, alpha, beta):
    listing = admin_client.get("/admin/tenants/brandservicesettings/", **ALPHA)
    assert listing.status_code == 200
    assert "Alpha Outdoor" in listing.content.decode() and "Beta Devices" not in listing.content.decode()
    assert admin_client.get(f"/admin/tenants/brandservicesettings/{beta.pk}/change/", **ALPHA).status_code != 200
    times = {"reoffer_cooldown_seconds": 20, "escalate_after_seconds": 240, "inactivity_warn_minutes": 7, "inactivity_end_minutes": 3, "agent_reply_minutes": 4}
    # The page is posted whole, as the browser does: the attachment settings are on it too.
    times |= {"attachment_max_bytes": ATTACHMENT_MAX_BYTES_DEFAULT, "attachment_types": default_attachment_types()}
    refused = admin_client.post(f"/admin/tenants/brandservicesettings/{beta.pk}/change/", times, **ALPHA)
    assert refused.status_code != 200 or "errornote" in refused.content.decode()
    assert Brand.objects.get(pk=beta.pk).inactivity_warn_minutes != 7
    saved = admin_client.post(f"/admin/tenants/brandservicesettings/{alpha.pk}/change/", times, **ALPHA)
    assert saved.status_code == 302, saved.content.decode()[:1000]
    alpha.refresh_from_db()
    assert (alpha.inactivity_warn_minutes, alpha.agent_reply_minutes, alpha.name) == (7, 4, "Alpha Outdoor")
    # Not on the platform host, where brands are managed whole.
    assert admin_client.get("/admin/tenants/brandservicesettings/", HTTP_HOST="localhost").status_code == 404


@pytest.mark.django_db
def test_sla_and_webhook_pages_are_in_the_brand_admin(admin_client, alpha):
    for url in ["/admin/sla/slapolicy/", "/admin/sla/holiday/", "/admin/sla/slaevent/", "/admin/webhooks/webhooksubscription/", "/admin/webhooks/webhookdelivery/"]:
        assert admin_client.get(url, **ALPHA).status_code == 200, url
        assert admin_client.get(url, HTTP_HOST="localhost").status_code == 404, url


@pytest.mark.django_db
def test_a_private_webhook_url_is_refused_by_the_form(admin_client, alpha, settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = []
    page = admin_client.post("/admin/webhooks/webhooksubscription/add/", {"url": "http://169.254.169.254/latest/", "events": "conversation.created", "secret": "s", "is_active": "on"}, **ALPHA)
    assert page.status_code == 200 and "a cloud metadata address" in page.content.decode()
    with schema_context(alpha.schema_name):
        assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_the_send_test_event_action_delivers_a_signed_test(admin_client, alpha, settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = ["127.0.0.1"]
    receiver = Receiver().start()
    try:
        added = admin_client.post("/admin/webhooks/webhooksubscription/add/", {"url": receiver.url("/admin-test"), "events": "conversation.ended", "secret": "whsec_x", "is_active": "on"}, **ALPHA)
        assert added.status_code == 302, added.content.decode()[:2000]
        with schema_context(alpha.schema_name):
            subscription = WebhookSubscription.objects.get()
        done = admin_client.post("/admin/webhooks/webhooksubscription/", {"action": "send_test_event", "_selected_action": [subscription.pk]}, **ALPHA)
        assert done.status_code == 302
        with schema_context(alpha.schema_name):
            (delivery,) = WebhookDelivery.objects.all()
            from webhooks.services import webhooks_deliver

            assert webhooks_deliver() == 1
        assert delivery.event_type == "webhook.test" and len(receiver.at("/admin-test")) == 1
    finally:
        receiver.stop()
