"""The busy-year generator makes data every report reads, and rolled-up figures agree with
the ones added up from the conversations."""

from datetime import date

import pytest
from django.db import connection

from chat.billing import agent_time_report
from chat.report_periods import period_parse
from chat.reports import brand_report

pytestmark = pytest.mark.django_db


def test_generated_days_report_the_same_rolled_up_or_live(alpha, call):
    output = call("generate_busy_year", brand="alpha", conversations=300, days=3, agents=3, end="2026-11-30")
    assert "300 conversations" in output
    connection.set_schema_to_public()
    period = period_parse(first_day=date(2026, 11, 28), last_day=date(2026, 11, 30), time_zone="Europe/Berlin")
    report = brand_report(brand=alpha, period=period)
    outcomes = report["outcomes"]
    assert sum(outcomes[k] for k in ("resolved_by_article", "chatted", "abandoned_in_queue", "left_before_queueing")) == outcomes["conversations"]
    assert report["queue_wait"]["count"] == outcomes["chatted"] and report["csat"]["answered"] > 0 and report["by_tag"]
    billing = agent_time_report(brands=[alpha], period=period)
    assert billing["brands"][0]["billable_seconds"] > 0 and all(a["occupancy"] is None or a["occupancy"] <= 1 for a in billing["agents"])
