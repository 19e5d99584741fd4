"""Report figures through the APIs: a brand key gets its own brand's report only; the
platform API gives account managers agent time across brands; the figures are the pages'."""

import pytest

from chat.billing import agent_time_report
from chat.report_periods import period_parse
from chat.reports import brand_report
from tests.api.conftest import BrandAPI, issue
from tests.api.test_platform_api import PlatformAPI, platform  # noqa: F401  (the account manager's client)
from tests.chat.test_reports import DAY, data  # noqa: F401  (the fixed data set)

pytestmark = pytest.mark.django_db
PERIOD = {"from": str(DAY), "to": str(DAY), "tz": "UTC"}


def test_a_brand_key_reads_its_brands_report_and_nothing_else(data):  # noqa: F811
    alpha_key = issue("alpha", access="read", resources=["conversations"])
    response = BrandAPI(slug="alpha", key=alpha_key).get("reports/summary", PERIOD)
    assert response.status_code == 200
    expected = brand_report(brand=data["alpha"], period=period_parse(first_day=DAY, last_day=DAY, time_zone="UTC"))
    assert response.json()["outcomes"] == expected["outcomes"] and response.json()["outcomes"]["conversations"] == 5
    # Alpha's key on beta's host finds no brand; a key without the conversations scope is refused.
    assert BrandAPI(slug="beta", key=alpha_key).get("reports/summary", PERIOD).status_code == 404
    surveys_only = issue("alpha", access="read", resources=["surveys"])
    assert BrandAPI(slug="alpha", key=surveys_only).get("reports/summary", PERIOD).status_code == 403


def test_a_bad_period_is_a_json_400(data):  # noqa: F811
    response = BrandAPI(slug="alpha", key=issue("alpha")).get("reports/summary", {"from": "2026-11-02", "to": "2026-10-01"})
    assert response.status_code == 400 and "detail" in response.json()


def test_the_platform_api_gives_agent_time_across_brands(data, platform):  # noqa: F811
    response = platform.get("reports/agent-time", PERIOD)
    assert response.status_code == 200, response.content
    expected = agent_time_report(brands=[data["alpha"], data["beta"]], period=period_parse(first_day=DAY, last_day=DAY, time_zone="UTC"))
    by_brand = {row["brand"]: row["billable_seconds"] for row in response.json()["brands"]}
    assert by_brand == {row["brand"]: row["billable_seconds"] for row in expected["brands"]} == {"alpha": 2700.0, "beta": 900.0}
    only_beta = platform.get("reports/agent-time", {**PERIOD, "brand": "beta"}).json()
    assert [row["brand"] for row in only_beta["brands"]] == ["beta"]
    assert PlatformAPI(None).get("reports/agent-time", PERIOD).status_code == 401
