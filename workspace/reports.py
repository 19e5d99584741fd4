"""Who may see which report, and the report tables as rows (for the pages and CSV).

Account managers (the account-manager group, or superusers) see every brand and the
cross-brand billing; a supervisor sees the brands they supervise; an agent sees only their
own figures. Runs in public; the report selectors enter no schema (they name it).
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from chat.billing import agent_time_report
from chat.report_periods import Period
from chat.reports import brand_report
from helpdesk.models import AgentProfile, Staffing
from helpdesk.selectors import agent_get_for_user, staffings_for_agent, user_is_account_manager
from tenants.models import Brand


class ReportNotAllowed(Exception):
    detail = "No such report."


def report_brands_for(*, user) -> list[Brand]:
    """The brands whose reports the user may open."""
    if user_is_account_manager(user=user):
        return list(Brand.objects.exclude(schema_name="public").order_by("name"))
    agent = agent_get_for_user(user=user)
    if agent is None:
        return []
    return [s.brand for s in staffings_for_agent(agent=agent, role=Staffing.Role.SUPERVISOR)]


def brand_report_for(*, user, brand_slug: str, period: Period) -> dict:
    brand = next((b for b in report_brands_for(user=user) if b.slug == brand_slug), None)
    if brand is None:
        raise ReportNotAllowed
    return brand_report(brand=brand, period=period)


def billing_report_for(*, user, period: Period) -> dict:
    """Account managers: every brand. Anyone else: not allowed."""
    if not user_is_account_manager(user=user):
        raise ReportNotAllowed
    return agent_time_report(brands=report_brands_for(user=user), period=period)


def own_figures_for(*, agent: AgentProfile, period: Period) -> dict:
    """An agent's own time, chats and CSAT across the brands they serve, nobody else's."""
    report = agent_time_report(brands=[s.brand for s in staffings_for_agent(agent=agent)], period=period)
    return {"period": report["period"], "agents": [row for row in report["agents"] if row["agent_id"] == agent.id]}


def default_period_days(*, time_zone: str, days: int = 7) -> tuple[str, str]:
    today = timezone.now().astimezone(ZoneInfo(time_zone)).date()
    return (today - timedelta(days=days - 1)).isoformat(), today.isoformat()


def _hours(seconds) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


# Table name -> (columns, rows from a report). The page and the CSV render the same rows.
BRAND_TABLES = {
    "outcomes": (["outcome", "conversations"], lambda r: [[key, value] for key, value in r["outcomes"].items()]),
    "timings": (
        ["figure", "count", "average_s", "p50_s", "p90_s"],
        lambda r: [[name, r[key]["count"], r[key]["average"], r[key]["p50"], r[key]["p90"]] for name, key in (("queue wait", "queue_wait"), ("first response", "first_response"), ("handle time", "handle_time"))],
    ),
    "by_category": (
        ["category", "conversations", "resolved_by_article", "queued", "deflection_rate", "average_wait_s", "csat"],
        lambda r: [[row["name"], row["conversations"], row["resolved_by_article"], row["queued"], row["deflection_rate"], row["average_wait"], row["csat"]] for row in r["by_category"]],
    ),
    "by_article": (
        ["article", "shown", "resolved", "deflection_rate"],
        lambda r: [[row["title"], row["shown"], row["resolved"], row["deflection_rate"]] for row in r["by_article"]],
    ),
    "by_agent": (
        ["agent", "conversations", "held_hours", "csat", "surveys_answered"],
        lambda r: [[row["name"], row["conversations"], _hours(row["held_seconds"]), row["csat"], row["surveys_answered"]] for row in r["by_agent"]],
    ),
    "sla": (["target", "clocks", "breached", "compliance"], lambda r: [[row["target"], row["clocks"], row["breached"], row["compliance"]] for row in r["sla"]]),
    "by_tag": (["tag", "conversations"], lambda r: [[row["name"], row["conversations"]] for row in r["by_tag"]]),
    "by_disposition": (["disposition", "conversations"], lambda r: [[row["disposition"], row["conversations"]] for row in r["by_disposition"]]),
    "csat": (["rating", "answers"], lambda r: [[rating, count] for rating, count in r["csat"]["distribution"].items()]),
    "comments": (["answered_at", "rating", "agent", "comment"], lambda r: [[c["answered_at"], c["rating"], c["agent"], c["comment"]] for c in r["csat"]["comments"]]),
    "trend": (
        ["day", "conversations", "resolved_by_article", "chatted", "average_wait_s"],
        lambda r: [[row["day"], row["conversations"], row["resolved_by_article"], row["chatted"], row["average_wait"]] for row in r["trend"]],
    ),
    "by_hour": (
        ["weekday", *[f"{h:02d}" for h in range(24)]],
        lambda r: [[day, *counts] for day, counts in zip(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], r["by_weekday_hour"])],
    ),
    "wait_accuracy": (
        ["queue_position", "served", "share_within_quote", "mean_absolute_error_s"],
        lambda r: [[row["position"], row["served"], row["share_within_quote"], row["mean_absolute_error"]] for row in r["wait_accuracy"]["by_position"]],
    ),
}

BILLING_TABLES = {
    "agents": (
        ["agent", "brand", "billable_hours", "chats"],
        lambda r: [[a["name"], b["brand"], _hours(b["billable_seconds"]), b["chats"]] for a in r["agents"] for b in a["brands"]],
    ),
    "agent_totals": (
        ["agent", "billable_hours", "logged_in_hours", "occupancy", "chats", "chats_per_hour", "csat"],
        lambda r: [[a["name"], _hours(a["billable_seconds"]), _hours(a["logged_in_seconds"]), a["occupancy"], a["chats"], a["chats_per_hour"], a["csat"]] for a in r["agents"]],
    ),
    "invoice": (
        ["brand", "name", "agent_hours", "chats", "agents"],
        lambda r: [[b["brand"], b["name"], b["billable_hours"], b["chats"], b["agents"]] for b in r["brands"]],
    ),
}


def report_table(*, tables: dict, report: dict, name: str) -> tuple[list[str], list[list]]:
    if name not in tables:
        raise ReportNotAllowed
    columns, rows = tables[name]
    return columns, rows(report)
