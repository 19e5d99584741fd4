from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tenants.models import Brand, validate_business_hours
from tenants.selectors import brand_is_open

WEEKDAYS_9_TO_5 = {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}


@pytest.mark.parametrize(
    "hours",
    [[], {"funday": []}, {"mon": "9-5"}, {"mon": [["9am", "5pm"]]}, {"mon": [["17:00", "09:00"]]}, {"mon": [["09:00"]]}, {"mon": [["00:00", "25:00"]]}],
)
def test_malformed_business_hours_are_refused_with_a_message(hours):
    with pytest.raises(ValidationError):
        validate_business_hours(hours)


def test_valid_business_hours_pass():
    validate_business_hours({"mon": [["08:00", "12:00"], ["13:00", "24:00"]], "sun": []})


@pytest.mark.parametrize(
    "local, expected",
    [
        (datetime(2026, 11, 23, 10, 0), True),  # Monday 10:00 in Berlin
        (datetime(2026, 11, 23, 17, 0), False),  # closing time is exclusive
        (datetime(2026, 11, 25, 10, 0), False),  # Wednesday: no hours
        (datetime(2026, 11, 23, 8, 59), False),
    ],
)
def test_brand_is_open_in_the_brands_time_zone(local, expected):
    brand = Brand(name="x", slug="x", time_zone="Europe/Berlin", business_hours=WEEKDAYS_9_TO_5)
    assert brand_is_open(brand=brand, at=local.replace(tzinfo=ZoneInfo("Europe/Berlin"))) is expected


def test_empty_schedule_means_always_open():
    assert brand_is_open(brand=Brand(name="x", slug="x", business_hours={}))


@pytest.mark.django_db
def test_closed_brand_takes_offline_messages_instead_of_queueing(client, alpha):
    from tenants.models import WEEKDAYS

    today = datetime.now(ZoneInfo("UTC")).weekday()
    other_day = WEEKDAYS[(today + 3) % 7]  # open only on a day that is not today
    Brand.objects.filter(pk=alpha.pk).update(business_hours={other_day: [["09:00", "17:00"]]}, time_zone="UTC")
    config = client.get("/api/widget/v1/config", HTTP_HOST="alpha.localhost").json()
    assert config["availability"] == "closed"
    form = {"name": "Olga", "email": "olga@example.com", "category": "general", "summary": "Question after hours"}
    created = client.post("/api/widget/v1/conversations", form, content_type="application/json", HTTP_HOST="alpha.localhost").json()
    escalated = client.post(f"/api/widget/v1/conversations/{created['id']}/escalate", HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    assert escalated.status_code == 409 and escalated.json()["code"] == "closed"
    offline = client.post("/api/widget/v1/offline-messages", form, content_type="application/json", HTTP_HOST="alpha.localhost")
    assert offline.status_code == 201
    from django_tenants.utils import schema_context

    from chat.models import OfflineMessage

    with schema_context("brand_alpha"):
        assert OfflineMessage.objects.get().reason == "closed"
